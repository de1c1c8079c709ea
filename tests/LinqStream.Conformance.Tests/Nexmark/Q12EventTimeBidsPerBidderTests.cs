using LinqStream.Conformance.Tests.Infrastructure;
using LinqStream.Testing;

namespace LinqStream.Conformance.Tests.Nexmark;

/// <summary>
/// NEXMark q12 counts bids per bidder in processing-time windows (<c>PROCTIME()</c>). Processing time is not expressible here on
/// purpose (a replay must give the live answer, and queries never read the wall clock), so this is q12 in event time: the same
/// count per bidder in 5-second tumbling windows of the bids' own times, with no <c>DateTime.Now</c> anywhere.
/// </summary>
public sealed class Q12EventTimeBidsPerBidderTests
{
    private static readonly TimeSpan Size = TimeSpan.FromSeconds(5);

    [Theory]
    [MemberData(nameof(Matrix.All), MemberType = typeof(Matrix))]
    public async Task BidsPerBidder_EventTimeTumblingWindow_CountsEachBiddersBids(Scenario scenario)
    {
        var sources = new Sources(NexmarkData.Get(20_000, scenario), scenario);
        var query =
            from b in sources.Bids.TumblingWindow(Size)
            group b by b.Bidder into g
            select new { Bidder = g.Key, Bids = g.Count(), g.Window.Start, g.Window.End };

        var actual = await Run.EventsAsync(query, scenario, sources);

        var expected = ReferenceWindows.Fixed(sources.Data.Bids.Select(b => (b.DateTime.Ticks, b)), Size.Ticks, Size.Ticks, b => b.Bidder,
                g => new { Bidder = g.Key, Bids = g.Count(), g.Window.Start, g.Window.End })
            .Select(r => Run.Event(r.Start, r.End, r.Result));
        Run.AssertEquivalent(expected, actual);
    }
}
