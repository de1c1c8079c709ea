using System.Linq.Expressions;
using LinqStream.Plan;

namespace LinqStream.Physical.SelectMany;

/// <summary>Each event replaced by the elements of a sequence (same lifetime).</summary>
internal sealed class SelectManyNode(PlanNode source, LambdaExpression selector) : UnaryNode(source)
{
    public LambdaExpression Selector { get; } = selector;

    public override Type Type { get; } = ElementOf(selector.ReturnType);

    public override string Name => "SelectMany";

    public override string Detail => Selector.ToString();

    protected override PlanNode With(PlanNode source) => new SelectManyNode(source, Selector);

    public static Type ElementOf(Type sequence) =>
        sequence.IsGenericType && sequence.GetGenericTypeDefinition() == typeof(IEnumerable<>) ? sequence.GetGenericArguments()[0]
        : sequence.GetInterfaces().First(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>)).GetGenericArguments()[0];
}
