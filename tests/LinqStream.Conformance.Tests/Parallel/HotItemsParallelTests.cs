using LinqStream.Testing;
using static LinqStream.Conformance.Tests.Parallel.ParallelOutput;

namespace LinqStream.Conformance.Tests.Parallel;

/// <summary>
/// NEXMark q5's shape (a count per key per hopping window, then the keys at each window's maximum count, which the plan
/// rewrite runs as one <c>WindowArgMax</c>) at P &gt; 1: each task keeps only its own keys at its own maximum per window before
/// the merge, and the <c>WindowArgMax</c> after the merge keeps those at the overall maximum. The output is parallelism 1's
/// byte for byte, in the same order, with one source task (input out of order), one per partition, and one per chunk of an
/// array in start order, at batch sizes 1, 64 and 4,096; on random input with ties (within a task and across tasks), empty
/// windows, huge keys and one key holding half of the events; and it equals LINQ to objects.
/// </summary>
public sealed class HotItemsParallelTests
{
    public readonly record struct Bid(long Time, long Auction, int Price);

    public readonly record struct AuctionCount(long Auction, int Bids, long WindowStart, long WindowEnd);

    public readonly record struct WindowMax(long WindowStart, long Max);

    /// <summary>(seed, skewed).</summary>
    public static TheoryData<int, bool> Inputs => new() { { 1, false }, { 2, false }, { 3, true }, { 4, true } };

    private static readonly long Origin = new DateTime(2026, 1, 1).Ticks;
    private static readonly TimeSpan Size = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Hop = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Random bids, out of order by up to 2 s (unless sorted), many on one tick, a few huge and extreme auction ids, auction 0
    /// with half of them when skewed; few auctions per window so that counts tie often; a 6 s gap (empty windows).
    /// </summary>
    internal static Bid[] Generate(int seed, bool skewed, int count = 6_000, bool sorted = false)
    {
        var random = new Random(seed);
        var bids = new Bid[count];
        long[] extremes = [long.MinValue, long.MaxValue, -1, 0, 1L << 62];
        for (int i = 0; i < count; i++)
        {
            long time = Origin + (i * TimeSpan.TicksPerSecond / 200) - (sorted ? 0 : random.NextInt64(0, 2 * TimeSpan.TicksPerSecond));
            time -= time % (TimeSpan.TicksPerSecond / 20); // ties on one tick
            if (i > count / 2)
            {
                time += 6 * TimeSpan.TicksPerSecond; // empty windows
            }

            long auction = skewed && random.Next(2) == 0 ? 0
                : random.Next(10) == 0 ? extremes[random.Next(extremes.Length)]
                : random.NextInt64(1, 120);
            bids[i] = new Bid(time, auction, random.Next(1, 1000));
        }

        return bids;
    }

    private static IQStream<Bid> Source(Bid[] data) =>
        QStream.From(data, b => b.Time, IngressPolicy.Reorder(TimeSpan.FromSeconds(2)), "bids");

    /// <summary>The bids dealt round-robin into <paramref name="partitions"/> partitions (each in its order), merged.</summary>
    private static IQStream<Bid> Partitioned(Bid[] data, int partitions)
    {
        var streams = Enumerable.Range(0, partitions)
            .Select(p => QStream.From(data.Where((_, i) => i % partitions == p).ToArray(), b => b.Time, IngressPolicy.Reorder(TimeSpan.FromSeconds(2)), "bids-" + p))
            .ToArray();
        return streams[0].Merge(streams[1..]);
    }

    /// <summary>q5: the auctions with the most bids per hopping window.</summary>
    private static IQStream<string> HotItems(IQStream<Bid> bids)
    {
        var counts =
            from b in bids.HoppingWindow(Size, Hop)
            group b by b.Auction into g
            select new AuctionCount(g.Key, g.Count(), g.Window.StartTicks, g.Window.EndTicks);
        var maxima = counts.TumblingWindow(Hop).Select(w => new WindowMax(w.Window.StartTicks, w.Max(c => c.Bids)));
        return
            from c in counts
            join m in maxima on c.WindowStart equals m.WindowStart
            where c.Bids == m.Max
            select $"{c.Auction} {c.Bids} {c.WindowStart} {c.WindowEnd}";
    }

    private static Task AssertSameAsParallelism1(Func<IQStream<string>> query) =>
        ParallelOutput.AssertSameAsParallelism1(query, [2, 4], "WindowArgMax", "Local step on each task: WindowArgMax");

    /// <summary>LINQ to objects: per hopping window the counts per auction, and those equal to the window's maximum.</summary>
    private static List<string> Expected(Bid[] data) =>
        (from c in ReferenceWindows.Fixed(data.Select(b => (b.Time, b)), Size.Ticks, Hop.Ticks, b => b.Auction, g => g.Count())
         group c by c.Start into window
         let max = window.Max(c => c.Result)
         from c in window
         where c.Result == max
         select $"{c.Key} {c.Result} {c.Start} {c.End}").Order(StringComparer.Ordinal).ToList();

    [Theory]
    [MemberData(nameof(Inputs))]
    public async Task OneSourceTask_SameOutputAndOrderAsParallelism1(int seed, bool skewed)
    {
        var data = Generate(seed, skewed);
        await AssertSameAsParallelism1(() => HotItems(Source(data)));
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public async Task ThreePartitions_SameOutputAndOrderAsParallelism1(int seed, bool skewed)
    {
        var data = Generate(seed, skewed);
        await AssertSameAsParallelism1(() => HotItems(Partitioned(data, 3)));
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public async Task ArrayInStartOrderReadInChunks_SameOutputAndOrderAsParallelism1(int seed, bool skewed)
    {
        var data = Generate(seed, skewed, count: 40_000, sorted: true);
        await AssertSameAsParallelism1(() => HotItems(QStream.From(data, b => b.Time, IngressPolicy.Throw, "sorted")));
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public async Task MatchesLinqToObjects(int seed, bool skewed)
    {
        var data = Generate(seed, skewed);
        var expected = Expected(data);
        if (!skewed)
        {
            // Auction 0 has half of the bids when skewed: it alone is at every window's maximum.
            Assert.True(expected.Count > expected.Select(e => e.Split(' ')[2]).Distinct().Count(), "the input should have windows with ties");
        }
        foreach (int p in new[] { 1, 2, 4 })
        {
            var actual = await HotItems(Partitioned(data, 2)).WithOptions(Options(p)).ToListAsync();
            Assert.Equal(expected, actual.Order(StringComparer.Ordinal).ToList());
        }
    }

    /// <summary>Every auction has the same number of bids in every window: every key ties at the maximum, on every task.</summary>
    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public async Task EveryKeyTiesAcrossTasks_SameOutputAndOrderAsParallelism1(int partitions)
    {
        var data = Enumerable.Range(0, 8_000)
            .Select(i => new Bid(Origin + ((i / 100) * (TimeSpan.TicksPerSecond / 10)), (i % 100) * 1_000_003L, i))
            .ToArray();
        await AssertSameAsParallelism1(() => HotItems(Partitioned(data, partitions)));
        var actual = await HotItems(Partitioned(data, partitions)).WithOptions(Options(4)).ToListAsync();
        Assert.Equal(Expected(data), actual.Order(StringComparer.Ordinal).ToList());
        Assert.True(actual.Count >= 100 * 10, $"{actual.Count} results: every window should give all 100 auctions");
    }

    /// <summary>
    /// The tasks' channels spin before they block or block at once (QueryOptions.SpinBeforeBlocking; by default decided by the run's
    /// threads against the cores, so a 2-core machine runs P = 2 and 4 without the spin): the output is parallelism 1's either way.
    /// </summary>
    [Theory]
    [InlineData(true, 2)]
    [InlineData(false, 3)]
    public async Task ChannelsSpinOrBlockAtOnce_SameOutputAndOrderAsParallelism1(bool spin, int seed)
    {
        var data = Generate(seed, skewed: seed == 3);
        await ParallelOutput.AssertSameAsParallelism1(() => HotItems(Partitioned(data, 3)), [2, 4], options => options with { SpinBeforeBlocking = spin }, "Local step on each task: WindowArgMax");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task WithAndWithoutTheLocalStep_GiveTheSameOutput(int seed)
    {
        var data = Generate(seed, skewed: seed == 3);
        string without = await Output(HotItems(Partitioned(data, 3)), Options(4) with { TaskLocalSteps = false });
        string with = await Output(HotItems(Partitioned(data, 3)), Options(4));
        Assert.Equal(without, with);
        Assert.DoesNotContain("Local step", HotItems(Source(data)).WithOptions(Options(2) with { TaskLocalSteps = false }).Explain(), StringComparison.Ordinal);
    }

    /// <summary>When the counts are also used by another part of the query, the maximum is not taken on the tasks.</summary>
    [Fact]
    public async Task CountsUsedTwice_NoLocalStep_SameOutputAsParallelism1()
    {
        var data = Generate(5, skewed: false);
        IQStream<string> Query(QueryOptions options)
        {
            var counts =
                from b in Partitioned(data, 2).WithOptions(options).HoppingWindow(Size, Hop)
                group b by b.Auction into g
                select new AuctionCount(g.Key, g.Count(), g.Window.StartTicks, g.Window.EndTicks);
            var maxima = counts.TumblingWindow(Hop).Select(w => new WindowMax(w.Window.StartTicks, w.Max(c => c.Bids)));
            var hot =
                from c in counts
                join m in maxima on c.WindowStart equals m.WindowStart
                where c.Bids == m.Max
                select $"hot {c.Auction} {c.Bids} {c.WindowStart}";
            return hot.Merge(counts.Where(c => c.Bids > 3).Select(c => $"busy {c.Auction} {c.Bids} {c.WindowStart}"));
        }

        Assert.DoesNotContain("Local step", Query(Options(2)).Explain(), StringComparison.Ordinal);
        string one = await Output(Query(Options(1)), Options(1));
        Assert.Contains("hot ", one, StringComparison.Ordinal);
        Assert.Equal(one, await Output(Query(Options(2)), Options(2)));
    }
}
