using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace LinqStream.Parallel.TwoPhase;

/// <summary>
/// One (window, key) group's partial accumulators, as a source task ships them to the task that owns the key (two-phase
/// aggregation): the key, and each aggregate's accumulator in its own words of <see cref="Words"/>. The event carrying it
/// lives [window start, window end) (for hopping windows: the pane's).
/// </summary>
/// <typeparam name="TKey">The grouping key.</typeparam>
/// <typeparam name="TWords">
/// The words' storage, as wide as the plan needs (<see cref="PartialWords.TypeFor"/>: a <see cref="long"/> for one word, up to
/// <see cref="PartialWords8"/>): a partial crosses the exchange by value, copied into the receiving task's batch, so a count's
/// partial is 16 bytes with an <see cref="int"/> key instead of 72 (measured: the narrow partial took a fifth off the tumbling
/// count's time at parallelism 2).
/// </typeparam>
internal struct PartialGroup<TKey, TWords>
    where TWords : struct
{
    /// <summary>The group's key (null for the null key).</summary>
    public TKey Key;

    /// <summary>The aggregates' accumulators, each at its offset (<see cref="Physical.Aggregate.AggregateColumn{T}.PartialWordCount"/> words).</summary>
    public TWords Words;

    /// <summary>Gets the words of <paramref name="group"/> (all of <typeparamref name="TWords"/>'s).</summary>
    public static Span<long> WordsOf(ref PartialGroup<TKey, TWords> group) =>
        MemoryMarshal.Cast<TWords, long>(MemoryMarshal.CreateSpan(ref group.Words, 1));

    /// <summary>The key kernel of a stream of partial groups: copies each present group's key (the hash exchange and the merging operator use it).</summary>
    public static void KeyKernel(PartialGroup<TKey, TWords>[] groups, ulong[]? absent, TKey[] keys, int count)
    {
        for (int i = 0; i < count; i++)
        {
            keys[i] = groups[i].Key;
        }
    }

    public override readonly string ToString()
    {
        var copy = this;
        return $"{Key}: [{string.Join(", ", WordsOf(ref copy).ToArray())}]";
    }
}

/// <summary>The storage types of a <see cref="PartialGroup{TKey, TWords}"/>'s words.</summary>
internal static class PartialWords
{
    /// <summary>The most words a plan's partial may need; a plan whose aggregates need more keeps the one-phase plan.</summary>
    public const int Length = 8;

    /// <summary>Gets the narrowest storage for <paramref name="words"/> words (1 to <see cref="Length"/>).</summary>
    public static Type TypeFor(int words) => words switch
    {
        <= 1 => typeof(long),
        2 => typeof(PartialWords2),
        <= 4 => typeof(PartialWords4),
        <= Length => typeof(PartialWords8),
        _ => throw new ArgumentOutOfRangeException(nameof(words), words, $"A partial holds at most {Length} words."),
    };
}

/// <summary>Two words of a partial group.</summary>
[InlineArray(2)]
internal struct PartialWords2
{
    private long _first;
}

/// <summary>Four words of a partial group.</summary>
[InlineArray(4)]
internal struct PartialWords4
{
    private long _first;
}

/// <summary>Eight words of a partial group: enough for a count, a minimum and a maximum of 16-byte values, with room to spare.</summary>
[InlineArray(PartialWords.Length)]
internal struct PartialWords8
{
    private long _first;
}
