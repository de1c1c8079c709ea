namespace LinqStream.Conformance.Tests.Infrastructure;

/// <summary>
/// The pieces the random-input generators of the rewrite tests share (<c>WindowJoinTests</c>, <c>WindowArgMaxTests</c>,
/// <c>KeyedFoldTests</c>): keys from a small set or the extremes of <c>long</c>, values that tie or sit at the extremes, and
/// events moved back in time by up to a disorder bound; and the cases they run (seeds, batch sizes, order).
/// </summary>
internal static class RandomInput
{
    /// <summary>(seed, batch size, disordered): three seeds, batches of 1, 7 and 4,096 events, in order and out of order.</summary>
    public static TheoryData<int, int, bool> Cases()
    {
        var data = new TheoryData<int, int, bool>();
        foreach (int seed in new[] { 1, 2, 3 })
        {
            foreach (int batch in new[] { 1, 7, 4096 })
            {
                foreach (bool disordered in new[] { false, true })
                {
                    data.Add(seed, batch, disordered);
                }
            }
        }

        return data;
    }

    /// <summary>Gets the extreme keys every generator mixes in: both ends of <c>long</c>, zero and minus one.</summary>
    public static long[] HugeKeys => [long.MinValue, long.MaxValue, 0, -1];

    /// <summary>One key in <paramref name="oneIn"/> from <paramref name="extremes"/>, else one of <c>0 .. small - 1</c>.</summary>
    public static long Key(Random random, int oneIn, long[] extremes, int small) =>
        random.Next(oneIn) == 0 ? extremes[random.Next(extremes.Length)] : random.Next(small);

    /// <summary>Two values in <paramref name="of"/> at an end of <c>long</c> (the end or one off it), else one of <c>0 .. small - 1</c> (ties).</summary>
    public static long ExtremeOrSmall(Random random, int of, int small) => random.Next(of) switch
    {
        0 => long.MaxValue - random.Next(2),
        1 => long.MinValue + random.Next(2),
        _ => random.Next(small),
    };

    /// <summary>
    /// The events in the order they arrive when each is moved back by up to <paramref name="disorder"/> ticks: a source with
    /// <c>Reorder(disorder)</c> restores their event time, none is late.
    /// </summary>
    public static List<T> Disordered<T>(IEnumerable<T> events, Func<T, long> time, long disorder, Random random) =>
        [.. events.Select(e => (Arrival: time(e) + random.NextInt64(0, disorder), Event: e)).OrderBy(x => x.Arrival).Select(x => x.Event)];
}
