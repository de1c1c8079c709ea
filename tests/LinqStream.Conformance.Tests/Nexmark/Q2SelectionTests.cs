using LinqStream.Conformance.Tests.Infrastructure;

namespace LinqStream.Conformance.Tests.Nexmark;

/// <summary>NEXMark q2: the bids on a few auctions (auction id divisible by 123).</summary>
public sealed class Q2SelectionTests
{
    [Theory]
    [MemberData(nameof(Matrix.All), MemberType = typeof(Matrix))]
    public async Task Selection_AnyMode_KeepsBidsOnSelectedAuctionsInEventTimeOrder(Scenario scenario)
    {
        var sources = new Sources(NexmarkData.Get(20_000, scenario), scenario);
        var query =
            from b in sources.Bids
            where b.Auction % 123 == 0
            select new { b.Auction, b.Price };

        var actual = await Run.EventsAsync(query, scenario, sources);

        var expected = sources.Data.Bids
            .OrderBy(b => b.DateTime)
            .Where(b => b.Auction % 123 == 0)
            .Select(b => Run.Point(b.DateTime, new { b.Auction, b.Price }))
            .ToList();
        Assert.NotEmpty(expected);
        Run.AssertSequence(expected, actual);
    }
}
