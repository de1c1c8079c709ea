using System.Linq.Expressions;
using LinqStream.Plan;

namespace LinqStream.Physical.Pipeline;

internal sealed class SelectNode(PlanNode source, LambdaExpression selector) : UnaryNode(source)
{
    public LambdaExpression Selector { get; } = selector;

    public override Type Type => Selector.ReturnType;

    public override string Name => "Select";

    public override string Detail => Selector.ToString();

    protected override PlanNode With(PlanNode source) => new SelectNode(source, Selector);
}
