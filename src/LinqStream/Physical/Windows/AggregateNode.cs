using System.Linq.Expressions;
using LinqStream.Plan;
using LinqStream.Temporal;

namespace LinqStream.Physical.Windows;

/// <summary>Aggregation per window (and key): the window's source, the window, the key (null for whole windows) and the result selector.</summary>
internal sealed class AggregateNode(PlanNode source, WindowSpec window, LambdaExpression? key, LambdaExpression selector) : UnaryNode(source)
{
    public WindowSpec Window { get; } = window;

    public LambdaExpression? Key { get; } = key;

    public LambdaExpression Selector { get; } = selector;

    public override Type Type => Selector.ReturnType;

    public override string Name => "WindowAggregate";

    public override string Detail => $"{Window}{(Key is null ? string.Empty : ", key: " + Key)}, select: {Selector}";

    protected override PlanNode With(PlanNode source) => new AggregateNode(source, Window, Key, Selector);
}
