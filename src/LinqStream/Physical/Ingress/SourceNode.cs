using System.Linq.Expressions;
using LinqStream.Plan;

namespace LinqStream.Physical.Ingress;

/// <summary>An ingress: the user's data, its time selectors and its disorder policy.</summary>
internal sealed class SourceNode(object source, Type type, LambdaExpression time, LambdaExpression? end, IngressPolicy policy, string sourceName) : PlanNode
{
    public object Source { get; } = source;

    public LambdaExpression Time { get; } = time;

    public LambdaExpression? End { get; } = end;

    public IngressPolicy Policy { get; } = policy;

    public string SourceName { get; } = sourceName;

    public override Type Type { get; } = type;

    public override IReadOnlyList<PlanNode> Children => [];

    public override string Name => "From";

    public override string Detail => $"{SourceName}, time: {Time}{(End is null ? string.Empty : ", end: " + End)}, policy: {Policy}";

    public override PlanNode Update(IReadOnlyList<PlanNode> children) => this;

    public SourceNode WithLifetime(LambdaExpression start, LambdaExpression end) => new(Source, Type, start, end, Policy, SourceName);
}
