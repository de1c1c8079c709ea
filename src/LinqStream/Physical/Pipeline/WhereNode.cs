using System.Linq.Expressions;
using LinqStream.Plan;

namespace LinqStream.Physical.Pipeline;

internal sealed class WhereNode(PlanNode source, LambdaExpression predicate) : UnaryNode(source)
{
    public LambdaExpression Predicate { get; } = predicate;

    public override Type Type => Source.Type;

    public override string Name => "Where";

    public override string Detail => Predicate.ToString();

    protected override PlanNode With(PlanNode source) => new WhereNode(source, Predicate);
}
