using LinqStream.Testing;
using static LinqStream.Conformance.Tests.Parallel.HotItemsParallelTests;
using static LinqStream.Conformance.Tests.Parallel.ParallelOutput;

namespace LinqStream.Conformance.Tests.Parallel;

/// <summary>
/// The shape a broadcast exchange is for (docs/parallelism.md, "The broadcast exchange: what it takes"): a whole-window aggregate
/// joined on the window to a keyed aggregate of the same window and input ("each auction's share of the window's bids"). Until the
/// broadcast exchange is built the keyed aggregate's input has a second consumer, so the planner splits nothing and the query runs
/// on one task at every parallelism, with parallelism 1's answer: these tests pin that answer (LINQ to objects, and P = 1 byte for
/// byte at P = 2 and 4 and batch sizes 1, 64 and 4,096, on input out of order, with ties, empty windows, huge keys and one key with
/// half of the bids) and the plan's reason, so that the exchange, when it comes, is held to the same answer.
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
    private static IQStream<string> Share(IQStream<Bid> bids)
    {
        var counts =
            from b in bids.TumblingWindow(Size)
            group b by b.Auction into g
            select new AuctionCount(g.Key, g.Count(), g.Window.StartTicks);
        var totals = bids.TumblingWindow(Size).Select(w => new WindowTotal(w.Window.StartTicks, w.Count()));
        return from c in counts
               join t in totals on c.WindowStart equals t.WindowStart
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
    public async Task ShareOfTheWindow_RunsOnOneTaskToday_WithParallelism1Output(int seed, bool skewed)
    {
        var data = Generate(seed, skewed);
        await AssertSameAsParallelism1(() => Share(Source(data)), [2, 4], "Parallelism: 1.", "is also used by another part of the query");
    }
}
