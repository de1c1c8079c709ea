using System.Linq.Expressions;
using LinqStream.Plan;
using LinqStream.Temporal;

namespace LinqStream.Physical.Windows;

/// <summary>Aggregation per window (and key): the window's source, the window, the key (null for whole windows) and the result selector.</summary>
/// <remarks>
/// <see cref="Aggregates"/> is what translation recognised in the selector (which aggregates, their inputs, the result shape); it is
/// null only while translation is still composing the selector, and set on every aggregate of a translated plan.
/// </remarks>
internal sealed class AggregateNode(PlanNode source, WindowSpec window, LambdaExpression? key, LambdaExpression selector, WindowAggregates? aggregates = null)
    : UnaryNode(source)
{
    public WindowSpec Window { get; } = window;

    public LambdaExpression? Key { get; } = key;

    public LambdaExpression Selector { get; } = selector;

    public WindowAggregates? Aggregates { get; } = aggregates;

    public override Type Type => Selector.ReturnType;

    public override string Name => "WindowAggregate";

    public override string Detail => $"{Window}{(Key is null ? string.Empty : ", key: " + Key)}, select: {Selector}";

    protected override PlanNode With(PlanNode source) => new AggregateNode(source, Window, Key, Selector, Aggregates);
}
