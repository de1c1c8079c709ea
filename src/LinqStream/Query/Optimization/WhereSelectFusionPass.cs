using LinqStream.Physical.Pipeline;
using LinqStream.Plan;

namespace LinqStream.Query.Optimization;

/// <summary>Turns chains of <c>Where</c> and <c>Select</c> into one <see cref="PipelineNode"/> (one compiled loop per batch).</summary>
/// <remarks>Before: <c>Select(b, Where(a, X))</c>. After: <c>Fused[Where &gt; Select](X)</c>. With fusion off, each becomes its own one-step pipeline.</remarks>
internal sealed class WhereSelectFusionPass(bool fuse) : OptionalPlanPass("WhereSelectFusion", fuse)
{
    protected override PlanNode Rewrite(PlanNode node)
    {
        PipelineStep step;
        PlanNode source;
        switch (node)
        {
            case WhereNode where:
                step = new PipelineStep(true, where.Predicate);
                source = where.Source;
                break;
            case SelectNode select:
                step = new PipelineStep(false, select.Selector);
                source = select.Source;
                break;
            default:
                return node;
        }

        if (Enabled && source is PipelineNode pipeline && !IsShared(pipeline))
        {
            return new PipelineNode(pipeline.Source, [.. pipeline.Steps, step]);
        }

        return new PipelineNode(source, [step]);
    }
}
