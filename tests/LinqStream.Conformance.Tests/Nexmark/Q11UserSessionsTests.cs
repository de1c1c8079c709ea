using LinqStream.Conformance.Tests.Infrastructure;
using LinqStream.Testing;

namespace LinqStream.Conformance.Tests.Nexmark;

/// <summary>NEXMark q11: bids per bidder session, a session ending after 10 s without a bid.</summary>
/// <remarks>A session result lives <c>[End - 1 tick, End)</c>, where End is the last bid's time plus the gap.</remarks>
public sealed class Q11UserSessionsTests
{
    private static readonly TimeSpan Gap = TimeSpan.FromSeconds(10);

    [Theory]
    [MemberData(nameof(Matrix.All), MemberType = typeof(Matrix))]
    public async Task UserSessions_AnyMode_CountsBidsPerBidderSession(Scenario scenario)
    {
        var sources = new Sources(NexmarkData.Get(50_000, scenario), scenario);
        var query =
            from b in sources.Bids.SessionWindow(Gap)
            group b by b.Bidder into g
            select new { Bidder = g.Key, Bids = g.Count(), g.Window.Start, g.Window.End };

        var actual = await Run.EventsAsync(query, scenario, sources);

        var expected = ReferenceWindows.Sessions(
                sources.Data.Bids.Select(b => (b.DateTime.Ticks, b)), Gap.Ticks, 0, b => b.Bidder,
                g => new { Bidder = g.Key, Bids = g.Count(), g.Window.Start, g.Window.End })
            .Select(s => Run.Event(s.End - 1, s.End, s.Result))
            .ToList();
        Assert.Contains(expected, e => e.Payload.Bids > 1);
        Run.AssertEquivalent(expected, actual);
    }

    [Theory]
    [MemberData(nameof(Matrix.All), MemberType = typeof(Matrix))]
    public async Task UserSessions_WithMaxDuration_CutsLongSessions(Scenario scenario)
    {
        var gap = TimeSpan.FromSeconds(2);
        var maxDuration = TimeSpan.FromSeconds(5);
        var sources = new Sources(NexmarkData.Get(20_000, scenario), scenario);
        var query =
            from b in sources.Bids.SessionWindow(gap, maxDuration)
            group b by b.Bidder into g
            select new { Bidder = g.Key, Bids = g.Count(), g.Window.Start, g.Window.End };

        var actual = await Run.EventsAsync(query, scenario, sources);

        var expected = ReferenceWindows.Sessions(
                sources.Data.Bids.Select(b => (b.DateTime.Ticks, b)), gap.Ticks, maxDuration.Ticks, b => b.Bidder,
                g => new { Bidder = g.Key, Bids = g.Count(), g.Window.Start, g.Window.End })
            .Select(s => Run.Event(s.End - 1, s.End, s.Result))
            .ToList();
        Assert.Contains(expected, e => e.Payload.End - e.Payload.Start == maxDuration);
        Run.AssertEquivalent(expected, actual);
    }
}
