using LinqStream.Conformance.Tests.Infrastructure;
using LinqStream.Testing;

namespace LinqStream.Conformance.Tests.Windows;

/// <summary>Distinct count inside a window: <c>Select(b =&gt; b.Bidder).Distinct().Count()</c>, incremental.</summary>
public sealed class DistinctCountPerWindowTests
{
    [Theory]
    [MemberData(nameof(Matrix.All), MemberType = typeof(Matrix))]
    public async Task DistinctCount_WholeTumblingWindow_CountsDistinctBidders(Scenario scenario)
    {
        var size = TimeSpan.FromSeconds(5);
        var sources = new Sources(NexmarkData.Get(50_000, scenario), scenario);
        var query = sources.Bids.TumblingWindow(size).Select(w => new { Bidders = w.Select(b => b.Bidder).Distinct().Count(), Bids = w.Count() });

        var actual = await Run.EventsAsync(query, scenario, sources);

        var expected = ReferenceWindows.Fixed(sources.Data.Bids.Select(b => (b.DateTime.Ticks, b)), size.Ticks, size.Ticks, b => 0,
                g => new { Bidders = g.Select(b => b.Bidder).Distinct().Count(), Bids = g.Count() })
            .Select(r => Run.Event(r.Start, r.End, r.Result))
            .ToList();
        Assert.True(expected.Count >= 5);
        Run.AssertEquivalent(expected, actual);
    }

    [Theory]
    [MemberData(nameof(Matrix.All), MemberType = typeof(Matrix))]
    public async Task DistinctCount_PerKeyInHoppingWindow_CountsDistinctBiddersPerAuction(Scenario scenario)
    {
        var size = TimeSpan.FromSeconds(6);
        var hop = TimeSpan.FromSeconds(2);
        var sources = new Sources(NexmarkData.Get(20_000, scenario), scenario);
        var query =
            from b in sources.Bids.HoppingWindow(size, hop)
            group b by b.Auction into g
            select new { Auction = g.Key, Bidders = g.Select(b => b.Bidder).Distinct().Count(), Channels = g.Select(b => b.Channel).Distinct().Count() };

        var actual = await Run.EventsAsync(query, scenario, sources);

        var expected = ReferenceWindows.Fixed(sources.Data.Bids.Select(b => (b.DateTime.Ticks, b)), size.Ticks, hop.Ticks, b => b.Auction,
                g => new { Auction = g.Key, Bidders = g.Select(b => b.Bidder).Distinct().Count(), Channels = g.Select(b => b.Channel).Distinct().Count() })
            .Select(r => Run.Event(r.Start, r.End, r.Result))
            .ToList();
        Run.AssertEquivalent(expected, actual);
    }
}
