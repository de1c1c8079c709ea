using LinqStream.Conformance.Tests.Infrastructure;
using LinqStream.Testing;

namespace LinqStream.Conformance.Tests.Nexmark;

/// <summary>
/// NEXMark q5: the hottest auctions, by bid count over the last 10 s, every 2 s.
/// </summary>
/// <remarks>
/// Stage 1 counts bids per auction in hopping windows (10 s every 2 s); each count lives <c>[ws, ws + 10 s)</c>. Stage 2 puts
/// the counts in a 2-second tumbling window, which maps each hopping window to its own <c>[ws, ws + 2 s)</c>, and takes the
/// maximum. Stage 3 joins the counts with the maxima on the window start (lifetimes overlap, and equal starts pick the same
/// window) and keeps the counts equal to the maximum, so ties give several auctions. The counts are used twice: one source,
/// shared. Results live <c>[ws, ws + 2 s)</c>.
/// </remarks>
public sealed class Q5HotItemsTests
{
    private static readonly TimeSpan Size = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Hop = TimeSpan.FromSeconds(2);

    [Theory]
    [MemberData(nameof(Matrix.All), MemberType = typeof(Matrix))]
    public async Task HotItems_AnyMode_EmitsAuctionsWithTheMostBidsPerHoppingWindow(Scenario scenario)
    {
        var sources = new Sources(NexmarkData.Get(20_000, scenario), scenario);
        var counts =
            from b in sources.Bids.HoppingWindow(Size, Hop)
            group b by b.Auction into g
            select new { Auction = g.Key, Count = g.Count(), Start = g.Window.StartTicks };
        var maxima = counts.TumblingWindow(Hop).Select(w => new { Start = w.Window.StartTicks, Max = w.Max(c => c.Count) });
        var query =
            from c in counts
            join m in maxima on c.Start equals m.Start
            where c.Count == m.Max
            select new { c.Auction, c.Count, c.Start };

        var actual = await Run.EventsAsync(query, scenario, sources);

        var expectedCounts = ReferenceWindows.Fixed(sources.Data.Bids.Select(b => (b.DateTime.Ticks, b)), Size.Ticks, Hop.Ticks, b => b.Auction, g => g.Count());
        var expected =
            (from window in expectedCounts.GroupBy(c => c.Start)
             let max = window.Max(c => c.Result)
             from c in window
             where c.Result == max
             select Run.Event(c.Start, c.Start + Hop.Ticks, new { Auction = c.Key, Count = c.Result, c.Start })).ToList();
        Assert.True(expected.Select(e => e.Start).Distinct().Count() >= 5, "The data set should span several hopping windows.");
        Run.AssertEquivalent(expected, actual);
    }
}
