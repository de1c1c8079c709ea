using LinqStream.Conformance.Tests.Infrastructure;

namespace LinqStream.Conformance.Tests.Nexmark;

/// <summary>
/// NEXMark q4: the average winning-bid price per category, in a streaming (bounded) form.
/// </summary>
/// <remarks>
/// <para>
/// An auction runs <c>[DateTime, Expires)</c>; its winning bid is the highest bid on it, placed while it runs, at or above its
/// reserve. The winner is known only when the auction closes, so the query reads auctions a second time, keyed by their close:
/// <c>QStream.From(auctions, a =&gt; a.Expires, Reorder(...))</c> makes each auction a point event at <c>Expires</c> (auctions
/// arrive in start order, so this source is out of order by up to one auction duration: the reorder bound covers it).
/// </para>
/// <para>
/// Bids live for the longest auction (<c>ExtendLifetime(20 s)</c>), so every bid placed while an auction ran is alive at its
/// close and the join (lifetime overlap) sees it; the join's <c>where</c> applies the exact rule. Join results live at the
/// close; a one-tick tumbling window groups them per auction (max price), and a 10-second tumbling window (by close time)
/// averages the winners per category. The oracle is the same definition over arrays.
/// </para>
/// </remarks>
public sealed class Q4AverageWinningBidByCategoryTests
{
    private static readonly TimeSpan LongestAuction = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(10);

    [Theory]
    [MemberData(nameof(Matrix.All), MemberType = typeof(Matrix))]
    public async Task AverageWinningBid_AnyMode_AveragesWinnersPerCategoryPerWindowOfClose(Scenario scenario)
    {
        var sources = new Sources(NexmarkData.Get(20_000, scenario), scenario);
        var data = sources.Data;
        var closingDisorder = MaxLag(data.Auctions.Select(a => a.Expires.Ticks));
        var closings = QStream.From(data.Auctions, a => a.Expires, sources.Policy("auction closings", TimeSpan.FromTicks(closingDisorder)), "closings");

        var winningBids =
            from a in closings
            join b in sources.Bids.ExtendLifetime(LongestAuction) on a.Id equals b.Auction
            where b.DateTime >= a.DateTime && b.DateTime < a.Expires && b.Price >= a.Reserve
            select new { a.Id, a.Category, b.Price };
        var winners =
            from x in winningBids.TumblingWindow(TimeSpan.FromTicks(1))
            group x by new { x.Id, x.Category } into g
            select new { g.Key.Category, Price = g.Max(x => x.Price) };
        var query =
            from w in winners.TumblingWindow(Window)
            group w by w.Category into g
            select new { Category = g.Key, Average = g.Average(w => w.Price), Auctions = g.Count() };

        var actual = await Run.EventsAsync(query, scenario, sources);

        var bidsByAuction = data.Bids.ToLookup(b => b.Auction);
        var expectedWinners =
            from a in data.Auctions
            let price = bidsByAuction[a.Id]
                .Where(b => b.DateTime >= a.DateTime && b.DateTime < a.Expires && b.Price >= a.Reserve)
                .Select(b => (long?)b.Price)
                .Max()
            where price is not null
            select (Close: a.Expires.Ticks, a.Category, Price: price!.Value);
        var expected =
            (from w in expectedWinners
             group w by (Start: Testing.ReferenceWindows.WindowStart(w.Close, Window.Ticks), w.Category) into g
             select Run.Event(g.Key.Start, g.Key.Start + Window.Ticks, new { Category = g.Key.Category, Average = g.Average(w => w.Price), Auctions = g.Count() }))
            .ToList();
        Assert.True(expected.Count > 5, "The data set should have winners in several windows and categories.");
        Run.AssertEquivalent(expected, actual);
    }

    /// <summary>How far a time falls behind the latest time before it: the disorder of a sequence.</summary>
    private static long MaxLag(IEnumerable<long> times)
    {
        long max = long.MinValue, lag = 0;
        foreach (var t in times)
        {
            max = Math.Max(max, t);
            lag = Math.Max(lag, max - t);
        }

        return lag;
    }
}
