using System.Runtime.CompilerServices;
using LinqStream.Physical.Join;
using LinqStream.Physical.Join.Window;
using LinqStream.Physical.Pipeline;
using LinqStream.Physical.Windows;
using LinqStream.Plan;
using LinqStream.Temporal;

namespace LinqStream.Query.Optimization;

/// <summary>
/// Replaces an inner join of two streams windowed alike (the same tumbling window on both sides) by one <see cref="WindowJoinNode"/>,
/// which joins each window's events once, when both watermarks pass the window's start, instead of keeping live state per event.
/// </summary>
/// <remarks>
/// <para>
/// <c>Join(chain(Window[T](X) | WindowAggregate[T](X, ..)), chain(Window[T](Y) | WindowAggregate[T](Y, ..)), lk, rk, r)</c> →
/// <c>WindowJoin[T](same inputs, lk, rk, r)</c>, where <c>chain</c> is any number of <c>Where</c>/<c>Select</c> steps (they keep
/// lifetimes) and <c>T</c> is the same tumbling window on both sides (NEXMark q8: the people of a window joined with the distinct
/// sellers of the same window).
/// </para>
/// <para>
/// Why the answer is the same: every event of either side lives <c>[ws, we)</c> with <c>ws</c> a window start and
/// <c>we &lt;= ws + size</c>, so two events overlap exactly when they start together. The temporal join processes, per start
/// and in one round, the left events and then the right ones (ties go left), so each right event meets the left events of
/// its window with an equal key, newest first; the window join makes the same pairs in the same order, in the same rounds
/// (both watermarks past the start), with the same lifetimes, output batches flushed at the same points and the same output
/// watermarks. The operator also checks each event's lifetime at run time and stops the query if one does not follow the window.
/// </para>
/// <para>
/// Only for key types whose equality cannot run user code (primitives, enums, strings, and anonymous types, tuples and
/// nullables of those): the join compares keys as each event is processed, the window join when the window is joined, so a
/// user's <c>Equals</c> that throws would fail at another point. Other join kinds (left outer, anti) are left alone, as is
/// every join one of whose inputs is not proven windowed (a lifetime change, a hopping or session window, windows of
/// different sizes). Runs when <c>QueryOptions.RewriteSubPlans</c> is on, after the rewrites that remove a join entirely
/// (<c>WindowMaxJoinToArgMax</c>, which also matches windows alike).
/// </para>
/// </remarks>
internal sealed class TumblingJoinToWindowJoinPass(QueryOptions options) : OptionalPlanPass("TumblingJoinToWindowJoin", options.RewriteSubPlans)
{
    protected override PlanNode Rewrite(PlanNode node)
    {
        if (!Enabled
            || node is not JoinNode { Kind: JoinKind.Inner, Result: { } result } join
            || TumblingWindowOf(join.Left) is not { } window
            || TumblingWindowOf(join.Right) != window
            || join.LeftKey.ReturnType != join.RightKey.ReturnType
            || !HasPlainEquality(join.LeftKey.ReturnType))
        {
            return node;
        }

        return new WindowJoinNode(join.Left, join.Right, window, join.LeftKey, join.RightKey, result);
    }

    /// <summary>The tumbling window every event of <paramref name="node"/>'s stream lives for, or null when that is not proven.</summary>
    private static WindowSpec? TumblingWindowOf(PlanNode node) => node switch
    {
        WindowNode { Window.Kind: WindowKind.Tumbling } window => window.Window,
        AggregateNode { Window.Kind: WindowKind.Tumbling } aggregate => aggregate.Window, // results live [windowStart, windowEnd)
        WhereNode where => TumblingWindowOf(where.Source),
        SelectNode select => TumblingWindowOf(select.Source),
        PipelineNode pipeline => TumblingWindowOf(pipeline.Source),
        _ => null,
    };

    /// <summary>Whether comparing and hashing values of <paramref name="type"/> runs only the framework's code, which cannot throw.</summary>
    internal static bool HasPlainEquality(Type type)
    {
        if (type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(DateTime)
            || type == typeof(DateTimeOffset) || type == typeof(TimeSpan) || type == typeof(Guid))
        {
            return true;
        }

        if (Nullable.GetUnderlyingType(type) is { } underlying)
        {
            return HasPlainEquality(underlying);
        }

        if (type.IsGenericType && type.FullName is { } name && name.StartsWith("System.ValueTuple`", StringComparison.Ordinal))
        {
            return type.GetGenericArguments().All(HasPlainEquality);
        }

        // An anonymous type: compiler-generated, sealed, Equals and GetHashCode over its properties with their default comparers.
        return type.IsSealed && type.IsGenericType && type.Name.Contains("AnonymousType", StringComparison.Ordinal)
            && type.IsDefined(typeof(CompilerGeneratedAttribute), false)
            && type.GetGenericArguments().All(HasPlainEquality);
    }
}
