using LinqStream.Conformance.Tests.Infrastructure;
using LinqStream.Testing;

namespace LinqStream.Conformance.Tests.Nexmark;

/// <summary>
/// NEXMark q7: the highest bid(s) of each 10-second tumbling window.
/// </summary>
/// <remarks>
/// The maximum price of each window lives for the window, as do the windowed bids; a join on the price matches only bids
/// of the same window (tumbling windows do not overlap), so ties give several bids. One bids source is used twice (shared).
/// </remarks>
public sealed class Q7HighestBidTests
{
    private static readonly TimeSpan Size = TimeSpan.FromSeconds(10);

    [Theory]
    [MemberData(nameof(Matrix.All), MemberType = typeof(Matrix))]
    public async Task HighestBid_AnyMode_EmitsTheBidsWithTheWindowMaximum(Scenario scenario)
    {
        var sources = new Sources(NexmarkData.Get(50_000, scenario), scenario);
        var bids = sources.Bids;
        var maxima = bids.TumblingWindow(Size).Select(w => new { Max = w.Max(b => b.Price), Start = w.Window.StartTicks });
        var query =
            from b in bids.TumblingWindow(Size)
            join m in maxima on b.Price equals m.Max
            select new { b.Auction, b.Bidder, b.Price, m.Start };

        var actual = await Run.EventsAsync(query, scenario, sources);

        var expected =
            (from b in sources.Data.Bids
             group b by ReferenceWindows.WindowStart(b.DateTime.Ticks, Size.Ticks) into w
             let max = w.Max(b => b.Price)
             from b in w
             where b.Price == max
             select Run.Event(w.Key, w.Key + Size.Ticks, new { b.Auction, b.Bidder, b.Price, Start = w.Key })).ToList();
        Assert.True(expected.Count >= 5, "The data set should span several windows.");
        Run.AssertEquivalent(expected, actual);
    }
}
