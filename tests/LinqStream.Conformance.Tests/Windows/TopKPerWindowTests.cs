using LinqStream.Conformance.Tests.Infrastructure;
using LinqStream.Testing;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Conformance.Tests.Windows;

/// <summary>Top-k inside a window: <c>OrderByDescending(b =&gt; b.Price).Take(k)</c>, incremental, ties in event-time order (as LINQ's stable sort).</summary>
public sealed class TopKPerWindowTests
{
    private static readonly TimeSpan Size = TimeSpan.FromSeconds(10);

    [Theory]
    [MemberData(nameof(Matrix.All), MemberType = typeof(Matrix))]
    public async Task TopK_WholeTumblingWindow_EmitsTheThreeHighestBids(Scenario scenario)
    {
        var sources = new Sources(NexmarkData.Get(50_000, scenario), scenario);
        var query = sources.Bids.TumblingWindow(Size).Select(w => new { Start = w.Window.StartTicks, Top = w.OrderByDescending(b => b.Price).Take(3) });

        var actual = await Run.EventsAsync(query, scenario, sources);

        var expected = ReferenceWindows.Fixed(sources.Data.Bids.Select(b => (b.DateTime.Ticks, b)), Size.Ticks, Size.Ticks, b => 0,
                g => new { Start = g.Window.StartTicks, Top = g.OrderByDescending(b => b.Price).Take(3) })
            .Select(r => Run.Event(r.Start, r.End, r.Result))
            .ToList();
        Assert.True(expected.Count >= 5);
        Run.AssertEquivalent(expected, actual, r => $"{r.Start}: {Describe(r.Top)}");
    }

    [Theory]
    [MemberData(nameof(Matrix.All), MemberType = typeof(Matrix))]
    public async Task TopK_PerKeyInHoppingWindow_EmitsTheTwoHighestBidsPerAuction(Scenario scenario)
    {
        var size = TimeSpan.FromSeconds(4);
        var hop = TimeSpan.FromSeconds(2);
        var sources = new Sources(NexmarkData.Get(20_000, scenario), scenario);
        var query =
            from b in sources.Bids.HoppingWindow(size, hop)
            group b by b.Auction into g
            select new { Auction = g.Key, Top = g.OrderByDescending(b => b.Price).Take(2) };

        var actual = await Run.EventsAsync(query, scenario, sources);

        var expected = ReferenceWindows.Fixed(sources.Data.Bids.Select(b => (b.DateTime.Ticks, b)), size.Ticks, hop.Ticks, b => b.Auction,
                g => new { Auction = g.Key, Top = g.OrderByDescending(b => b.Price).Take(2) })
            .Select(r => Run.Event(r.Start, r.End, r.Result))
            .ToList();
        Run.AssertEquivalent(expected, actual, r => $"{r.Auction}: {Describe(r.Top)}");
    }

    private static string Describe(IEnumerable<Bid> bids) => string.Join(", ", bids.Select(b => FormattableString.Invariant($"{b.Price}@{b.DateTime.Ticks}/{b.Bidder}")));
}
