using LinqStream.Plan;

namespace LinqStream.Physical.Pipeline;

/// <summary>A fused chain of filters and projections, compiled into one kernel.</summary>
internal sealed class PipelineNode(PlanNode source, IReadOnlyList<PipelineStep> steps) : UnaryNode(source)
{
    public IReadOnlyList<PipelineStep> Steps { get; } = steps;

    public override Type Type
    {
        get
        {
            for (int i = Steps.Count - 1; i >= 0; i--)
            {
                if (!Steps[i].IsFilter)
                {
                    return Steps[i].Lambda.ReturnType;
                }
            }

            return Source.Type;
        }
    }

    public override string Name => Steps.Count == 1 ? Steps[0].OperatorName : $"Fused[{string.Join(" > ", Steps.Select(s => s.OperatorName))}]";

    public override string Detail => string.Join(" > ", Steps.Select(s => s.Lambda.ToString()));

    protected override PlanNode With(PlanNode source) => new PipelineNode(source, Steps);
}
