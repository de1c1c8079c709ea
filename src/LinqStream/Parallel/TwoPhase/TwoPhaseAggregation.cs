using LinqStream.Physical.Aggregate;
using LinqStream.Temporal;

namespace LinqStream.Parallel.TwoPhase;

/// <summary>When a split keyed window aggregate runs in two phases (local on the source tasks, then merged on the key's task).</summary>
internal static class TwoPhaseAggregation
{
    /// <summary>Gets why the aggregate keeps the one-phase plan (events cross the exchange), or null when it runs in two phases.</summary>
    /// <param name="options">The query's settings.</param>
    /// <param name="window">The window.</param>
    /// <param name="keyType">The grouping key's type.</param>
    /// <param name="columns">The aggregates.</param>
    public static string? WhyNot<T>(QueryOptions options, WindowSpec window, Type keyType, IReadOnlyList<AggregateColumn<T>> columns)
    {
        if (!options.TwoPhaseAggregation)
        {
            return "two-phase aggregation is switched off";
        }

        if (window.Kind == WindowKind.Hopping && (window.Hop > window.Size || window.Size % window.Hop != 0))
        {
            return "a hopping window whose size is not a multiple of its hop has no panes to pre-aggregate";
        }

        switch (OrderDependence(window, keyType, columns, out var column))
        {
            case Dependence.Session:
                return "session windows are not pre-aggregated (a session's extent depends on every source task's events)";
            case Dependence.InexactKey:
                return $"keys of type '{keyType.Name}' can be equal without being the same (which one a window shows would depend on the order partials merge in)";
            case Dependence.Column:
                return $"'{column!.Description}' does not merge to parallelism 1's answer in any order";
        }

        int words = Words(columns);
        return words > PartialWords.Length ? $"the aggregates' accumulators need {words} words, more than {PartialWords.Length}" : null;
    }

    /// <summary>
    /// Gets why a split window aggregate that receives the events themselves needs each task's input in parallelism 1's union
    /// order, or null when any order gives parallelism 1's answer (and its output order: results are emitted per window in key
    /// order): a tumbling or hopping window, an exact key type, and aggregates that merge in any order.
    /// </summary>
    public static string? WhyOrdered<T>(WindowSpec window, Type keyType, IReadOnlyList<AggregateColumn<T>> columns) =>
        OrderDependence(window, keyType, columns, out var column) switch
        {
            Dependence.Session => "a session window",
            Dependence.InexactKey => $"keys of type '{keyType.Name}' can be equal without being the same",
            Dependence.Column => $"'{column!.Description}' depends on the order of its events",
            _ => null,
        };

    /// <summary>
    /// Gets the first reason a keyed window aggregate's answer can depend on the order its events (or partials) arrive in:
    /// a session window (its extent depends on every event), an inexact key type (which of two equal keys a window shows),
    /// or an aggregate that does not merge in any order (<paramref name="column"/>); <see cref="Dependence.None"/> when none.
    /// </summary>
    private static Dependence OrderDependence<T>(WindowSpec window, Type keyType, IReadOnlyList<AggregateColumn<T>> columns, out AggregateColumn<T>? column)
    {
        column = null;
        if (window.Kind == WindowKind.Session)
        {
            return Dependence.Session;
        }

        if (!ExactTypes.IsExactKey(keyType))
        {
            return Dependence.InexactKey;
        }

        foreach (var candidate in columns)
        {
            if (candidate.PartialWordCount == 0)
            {
                column = candidate;
                return Dependence.Column;
            }
        }

        return Dependence.None;
    }

    /// <summary>Gets the number of words the aggregates' partial accumulators take together.</summary>
    public static int Words<T>(IReadOnlyList<AggregateColumn<T>> columns)
    {
        int words = 0;
        foreach (var column in columns)
        {
            words += column.PartialWordCount;
        }

        return words;
    }

    private enum Dependence
    {
        None,
        Session,
        InexactKey,
        Column,
    }
}
