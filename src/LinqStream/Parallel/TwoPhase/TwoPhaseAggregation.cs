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

        if (window.Kind == WindowKind.Session)
        {
            return "session windows are not pre-aggregated (a session's extent depends on every source task's events)";
        }

        if (window.Kind == WindowKind.Hopping && (window.Hop > window.Size || window.Size % window.Hop != 0))
        {
            return "a hopping window whose size is not a multiple of its hop has no panes to pre-aggregate";
        }

        if (!ExactTypes.IsExactKey(keyType))
        {
            return $"keys of type '{keyType.Name}' can be equal without being the same (which one a window shows would depend on the order partials merge in)";
        }

        foreach (var column in columns)
        {
            if (column.PartialWordCount == 0)
            {
                return $"'{column.Description}' does not merge to parallelism 1's answer in any order";
            }
        }

        int words = Words(columns);
        return words > PartialWords.Length ? $"the aggregates' accumulators need {words} words, more than {PartialWords.Length}" : null;
    }

    /// <summary>
    /// Gets why a split window aggregate that receives the events themselves needs each task's input in parallelism 1's union
    /// order, or null when any order gives parallelism 1's answer (and its output order: results are emitted per window in key
    /// order): a tumbling or hopping window, an exact key type, and aggregates that merge in any order.
    /// </summary>
    public static string? WhyOrdered<T>(WindowSpec window, Type keyType, IReadOnlyList<AggregateColumn<T>> columns)
    {
        if (window.Kind == WindowKind.Session)
        {
            return "a session window";
        }

        if (!ExactTypes.IsExactKey(keyType))
        {
            return $"keys of type '{keyType.Name}' can be equal without being the same";
        }

        foreach (var column in columns)
        {
            if (column.PartialWordCount == 0)
            {
                return $"'{column.Description}' depends on the order of its events";
            }
        }

        return null;
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
}
