using System.Linq.Expressions;

namespace LinqStream.Plan;

/// <summary>One step of a fused chain: a filter (<c>Where</c>) or a projection (<c>Select</c>).</summary>
internal sealed record PipelineStep(bool IsFilter, LambdaExpression Lambda)
{
    public string OperatorName => IsFilter ? "Where" : "Select";

    public override string ToString() => $"{OperatorName}({Lambda})";
}
