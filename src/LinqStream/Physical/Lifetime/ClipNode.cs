using System.Linq.Expressions;
using LinqStream.Plan;

namespace LinqStream.Physical.Lifetime;

internal sealed class ClipNode(PlanNode source, LambdaExpression key) : UnaryNode(source)
{
    public LambdaExpression Key { get; } = key;

    public override Type Type => Source.Type;

    public override string Name => "ClipLifetime";

    public override string Detail => Key.ToString();

    protected override PlanNode With(PlanNode source) => new ClipNode(source, Key);
}
