using System.Linq.Expressions;
using LinqStream.Plan;

namespace LinqStream.Physical.Windows;

/// <summary><c>GroupBy</c> on a windowed stream, before its <c>Select</c>; <see cref="Having"/> holds <c>Where(g =&gt; ...)</c> on the groups.</summary>
/// <remarks>
/// A group stream that is never aggregated is materialized group by group: translation sets <see cref="Whole"/> to the selector
/// <c>g =&gt; g</c> and what it recognised in it (a buffer).
/// </remarks>
internal sealed class GroupNode(WindowNode window, LambdaExpression key, LambdaExpression? having, (LambdaExpression Selector, WindowAggregates Aggregates)? whole = null)
    : PlanNode
{
    public WindowNode Window { get; } = window;

    public LambdaExpression Key { get; } = key;

    public LambdaExpression? Having { get; } = having;

    public (LambdaExpression Selector, WindowAggregates Aggregates)? Whole { get; } = whole;

    public override Type Type { get; } = typeof(IWindowGroup<,>).MakeGenericType(key.ReturnType, window.Type);

    public override IReadOnlyList<PlanNode> Children => [Window];

    public override string Name => "GroupBy";

    public override string Detail => Key.ToString() + (Having is null ? string.Empty : ", having " + Having);

    public override PlanNode Update(IReadOnlyList<PlanNode> children) => ReferenceEquals(children[0], Window) ? this : new GroupNode((WindowNode)children[0], Key, Having, Whole);
}
