using LinqStream.Testing;
using static LinqStream.Conformance.Tests.Parallel.HotItemsParallelTests;
using static LinqStream.Conformance.Tests.Parallel.ParallelOutput;

namespace LinqStream.Conformance.Tests.Parallel;

/// <summary>
/// The shape a broadcast exchange is for (docs/parallelism.md, "The broadcast exchange"): a whole-window aggregate joined on the
/// window to a keyed aggregate of the same window and input ("each auction's share of the window's bids"). The keyed aggregate runs
/// on P tasks, the whole-window aggregate (the small side) on the source task, its rows broadcast to every task, and the join on
/// every task before the merge. These tests held the answer before the exchange was built (the query then ran on one task) and
/// hold it now: LINQ to objects, and P = 1 byte for byte at P = 2 and 4 and batch sizes 1, 64 and 4,096, on input out of order,
/// with ties, empty windows, huge keys and one key with half of the bids, over one source and over partitions, in one phase and
/// two; a small side that does not merge exactly (a double average) runs as at P = 1 on the source task; a small side with another
/// consumer keeps the whole query on one task, with the reason.
/// </summary>
public sealed class BroadcastShapeTests
{
    public readonly record struct AuctionCount(long Auction, int Bids, long WindowStart);

    public readonly record struct WindowTotal(long WindowStart, int Bids);

    /// <summary>(seed, skewed).</summary>
    public static TheoryData<int, bool> Inputs => new() { { 1, false }, { 2, true } };

    private static readonly TimeSpan Size = TimeSpan.FromSeconds(1);

    private static IQStream<Bid> Source(Bid[] data) =>
        QStream.From(data, b => b.Time, IngressPolicy.Reorder(TimeSpan.FromSeconds(2)), "bids");

    /// <summary>Each auction's bids per tumbling window with the window's total: the total is the small side every key needs.</summary>
    private static IQStream<string> Share(IQStream<Bid> bids) => Share(bids, out _);

    /// <summary>As <see cref="Share(IQStream{Bid})"/>, also giving the window totals (the small side).</summary>
    private static IQStream<string> Share(IQStream<Bid> bids, out IQStream<WindowTotal> totals)
    {
        var counts =
            from b in bids.TumblingWindow(Size)
            group b by b.Auction into g
            select new AuctionCount(g.Key, g.Count(), g.Window.StartTicks);
        var small = totals = bids.TumblingWindow(Size).Select(w => new WindowTotal(w.Window.StartTicks, w.Count()));
        return from c in counts
               join t in small on c.WindowStart equals t.WindowStart
               select $"{c.Auction} {c.Bids} {t.Bids} {c.WindowStart}";
    }

    /// <summary>LINQ to objects: per tumbling window each auction's count with the window's count.</summary>
    private static List<string> Expected(Bid[] data) =>
        (from c in ReferenceWindows.Fixed(data.Select(b => (b.Time, b)), Size.Ticks, Size.Ticks, b => b.Auction, g => g.Count())
         group c by c.Start into window
         let total = window.Sum(c => c.Result)
         from c in window
         select $"{c.Key} {c.Result} {total} {c.Start}").Order(StringComparer.Ordinal).ToList();

    [Theory]
    [MemberData(nameof(Inputs))]
    public async Task ShareOfTheWindow_MatchesLinqToObjects_AtEveryParallelism(int seed, bool skewed)
    {
        var data = Generate(seed, skewed);
        var expected = Expected(data);
        Assert.True(expected.Count > 100, $"{expected.Count} results");
        foreach (int p in new[] { 1, 2, 4 })
        {
            var actual = await Share(Source(data)).WithOptions(Options(p)).ToListAsync();
            Assert.Equal(expected, actual.Order(StringComparer.Ordinal).ToList());
        }
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public async Task ShareOfTheWindow_BroadcastExchange_GivesParallelism1Output(int seed, bool skewed)
    {
        var data = Generate(seed, skewed);
        await AssertSameAsParallelism1(
            () => Share(Source(data)),
            [2, 4],
            "Exchange: broadcast of 'TumblingWindowAggregate' (one row per window) from the source task to every task",
            "then WindowJoin with the broadcast rows",
            "Two-phase:",
            "ties from the highest task first");
    }

    /// <summary>The broadcast channels and the tasks' channels spinning before they block, or blocking at once: parallelism 1's output either way.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ShareOfTheWindow_ChannelsSpinOrBlockAtOnce_GivesParallelism1Output(bool spin)
    {
        var data = Generate(5, skewed: true);
        await AssertSameAsParallelism1(() => Share(Source(data)), [2, 4], options => options with { SpinBeforeBlocking = spin }, "Exchange: broadcast of");
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public async Task ShareOfTheWindow_OverPartitions_OneSourceTask_GivesParallelism1Output(int seed, bool skewed)
    {
        var data = Generate(seed, skewed);
        await AssertSameAsParallelism1(() => Share(Partitioned(data, 3)), [2, 4], "Stage: 1 source task:", "Exchange: broadcast of");
        var actual = await Share(Partitioned(data, 3)).WithOptions(Options(4)).ToListAsync();
        Assert.Equal(Expected(data), actual.Order(StringComparer.Ordinal).ToList());
    }

    /// <summary>One phase (a double sum per key: order-dependent, so the events themselves cross the exchange in order).</summary>
    [Theory]
    [MemberData(nameof(Inputs))]
    public async Task ShareOfTheWindow_OnePhaseKeyedAggregate_GivesParallelism1Output(int seed, bool skewed)
    {
        var data = Generate(seed, skewed);
        await AssertSameAsParallelism1(() => PriceShare(Source(data), average: false), [2, 4], "Exchange: broadcast of", "One phase:");
    }

    /// <summary>A small side that does not merge exactly (a double average): it runs as parallelism 1's operator on the one source task.</summary>
    [Theory]
    [MemberData(nameof(Inputs))]
    public async Task SmallSideThatDoesNotMerge_RunsOnTheSourceTask_WithParallelism1Output(int seed, bool skewed)
    {
        var data = Generate(seed, skewed);
        await AssertSameAsParallelism1(() => PriceShare(Source(data), average: true), [2, 4], "Exchange: broadcast of", "(parallelism 1's whole-window operator: it needs every event, so there is one source task)");
    }

    [Fact]
    public async Task SmallSideWithAnotherConsumer_StaysOnOneTask_WithTheReason()
    {
        var data = Generate(3, skewed: false);
        await AssertSameAsParallelism1(() => ShareTwice(Source(data)), [2, 4], "Parallelism: 1.", "is also used by another part of the query");
    }

    [Fact]
    public async Task ShareOfTheWindow_EveryBidOneKey_AndNoBids()
    {
        var data = Generate(5, skewed: false).Select(b => b with { Auction = long.MaxValue }).ToArray();
        await AssertSameAsParallelism1(() => Share(Source(data)), [2, 4], "Exchange: broadcast of");
        Assert.Empty(await Share(Source([])).WithOptions(Options(4)).ToListAsync());
    }

    [Fact]
    public async Task ShareOfTheWindow_RerunsAreByteIdentical()
    {
        var data = Generate(7, skewed: true);
        string first = await Output(Share(Source(data)), Options(4, 16));
        for (int run = 0; run < 10; run++)
        {
            Assert.Equal(first, await Output(Share(Source(data)), Options(4, 16)));
        }
    }

    /// <summary>A selector that throws in the keyed aggregate (on a task) or in the small side (on the source task) fails the query with parallelism 1's error.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task FailingSelector_FailsWithParallelism1sError(bool inSmallSide)
    {
        var data = Generate(11, skewed: false);
        int bad = data[data.Length / 3].Price;
        IQStream<string> Failing(IQStream<Bid> bids)
        {
            var counts =
                from b in bids.TumblingWindow(Size)
                group b by b.Auction into g
                select new AuctionCount(g.Key, g.Sum(b => inSmallSide ? 1 : 1000 / (b.Price - bad)), g.Window.StartTicks);
            var totals = bids.TumblingWindow(Size).Select(w => new WindowTotal(w.Window.StartTicks, w.Sum(b => inSmallSide ? 1000 / (b.Price - bad) : 1)));
            return from c in counts
                   join t in totals on c.WindowStart equals t.WindowStart
                   select $"{c.Auction} {c.Bids} {t.Bids} {c.WindowStart}";
        }

        Assert.Contains("Exchange: broadcast of", Failing(Source(data)).WithOptions(Options(2)).Explain(), StringComparison.Ordinal);
        var one = await Assert.ThrowsAnyAsync<Exception>(() => Failing(Source(data)).WithOptions(Options(1)).ToListAsync());
        foreach (int p in new[] { 2, 4 })
        {
            var parallel = await Assert.ThrowsAnyAsync<Exception>(() => Failing(Source(data)).WithOptions(Options(p)).ToListAsync());
            Assert.Equal(one.GetType(), parallel.GetType());
            Assert.Equal(one.Message, parallel.Message);
        }
    }

    /// <summary>The bids dealt round-robin into <paramref name="partitions"/> partitions (each in its order), merged.</summary>
    private static IQStream<Bid> Partitioned(Bid[] data, int partitions)
    {
        var streams = Enumerable.Range(0, partitions)
            .Select(p => QStream.From(data.Where((_, i) => i % partitions == p).ToArray(), b => b.Time, IngressPolicy.Reorder(TimeSpan.FromSeconds(2)), "bids-" + p))
            .ToArray();
        return streams[0].Merge(streams[1..]);
    }

    /// <summary>Each auction's price sum (a double: one phase) with the window's price sum or average (a double: does not merge exactly).</summary>
    private static IQStream<string> PriceShare(IQStream<Bid> bids, bool average)
    {
        var sums =
            from b in bids.TumblingWindow(Size)
            group b by b.Auction into g
            select new { Auction = g.Key, Sum = g.Sum(b => b.Price * 0.1), Start = g.Window.StartTicks };
        var totals = average
            ? bids.TumblingWindow(Size).Select(w => new { Start = w.Window.StartTicks, Total = w.Average(b => b.Price * 0.1) })
            : bids.TumblingWindow(Size).Select(w => new { Start = w.Window.StartTicks, Total = w.Sum(b => b.Price * 0.1) });
        return from s in sums
               join t in totals on s.Start equals t.Start
               select $"{s.Auction} {s.Sum:R} {t.Total:R} {s.Start}";
    }

    /// <summary>The share, with the window totals also sent on by themselves: the small side has a second consumer.</summary>
    private static IQStream<string> ShareTwice(IQStream<Bid> bids) =>
        Share(bids, out var totals).Merge(totals.Select(t => $"total {t.Bids} {t.WindowStart}"));
}
