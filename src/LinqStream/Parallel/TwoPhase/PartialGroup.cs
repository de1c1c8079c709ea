using System.Runtime.CompilerServices;

namespace LinqStream.Parallel.TwoPhase;

/// <summary>
/// One (window, key) group's partial accumulators, as a source task ships them to the task that owns the key (two-phase
/// aggregation): the key, and each aggregate's accumulator in its own words of <see cref="Words"/>. The event carrying it
/// lives [window start, window end) (for hopping windows: the pane's).
/// </summary>
/// <typeparam name="TKey">The grouping key.</typeparam>
internal struct PartialGroup<TKey>
{
    /// <summary>The group's key (null for the null key).</summary>
    public TKey Key;

    /// <summary>The aggregates' accumulators, each at its offset (<see cref="Physical.Aggregate.AggregateColumn{T}.PartialWordCount"/> words).</summary>
    public PartialWords Words;

    /// <summary>The key kernel of a stream of partial groups: copies each present group's key (the hash exchange and the merging operator use it).</summary>
    public static void KeyKernel(PartialGroup<TKey>[] groups, ulong[]? absent, TKey[] keys, int count)
    {
        for (int i = 0; i < count; i++)
        {
            keys[i] = groups[i].Key;
        }
    }

    public override readonly string ToString() => $"{Key}: [{string.Join(", ", ((ReadOnlySpan<long>)Words).ToArray())}]";
}

/// <summary>The words of a <see cref="PartialGroup{TKey}"/>: enough for a count, a minimum and a maximum of 16-byte values, with room to spare.</summary>
[InlineArray(Length)]
internal struct PartialWords
{
    /// <summary>The number of 64-bit words; a plan whose aggregates need more keeps the one-phase plan.</summary>
    public const int Length = 8;

    private long _first;
}
