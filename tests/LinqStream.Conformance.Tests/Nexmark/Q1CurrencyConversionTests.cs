using LinqStream.Conformance.Tests.Infrastructure;

namespace LinqStream.Conformance.Tests.Nexmark;

/// <summary>NEXMark q1: each bid's price converted from dollars to euros (× 0.908).</summary>
public sealed class Q1CurrencyConversionTests
{
    [Theory]
    [MemberData(nameof(Matrix.All), MemberType = typeof(Matrix))]
    public async Task CurrencyConversion_AnyMode_ConvertsEveryBidInEventTimeOrder(Scenario scenario)
    {
        var sources = new Sources(NexmarkData.Get(20_000, scenario), scenario);
        var query =
            from b in sources.Bids
            select new { b.Auction, b.Bidder, Price = b.Price * 0.908, b.DateTime };

        var actual = await Run.EventsAsync(query, scenario, sources);

        var expected = sources.Data.Bids
            .OrderBy(b => b.DateTime)
            .Select(b => Run.Point(b.DateTime, new { b.Auction, b.Bidder, Price = b.Price * 0.908, b.DateTime }));
        Run.AssertSequence(expected, actual);
    }
}
