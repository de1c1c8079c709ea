using LinqStream.Conformance.Tests.Infrastructure;

namespace LinqStream.Conformance.Tests.Nexmark;

/// <summary>NEXMark q0: every bid passes through unchanged, as a point event at its time, in event-time order.</summary>
public sealed class Q0PassThroughTests
{
    [Theory]
    [MemberData(nameof(Matrix.All), MemberType = typeof(Matrix))]
    public async Task PassThrough_AnyMode_EmitsEveryBidInEventTimeOrder(Scenario scenario)
    {
        var sources = new Sources(NexmarkData.Get(20_000, scenario), scenario);
        var query =
            from b in sources.Bids
            select b;

        var actual = await Run.EventsAsync(query, scenario, sources);

        // OrderBy is stable: bids with equal times keep their arrival order, as Reorder does.
        var expected = sources.Data.Bids.OrderBy(b => b.DateTime).Select(b => Run.Point(b.DateTime, b));
        Run.AssertSequence(expected, actual);
    }
}
