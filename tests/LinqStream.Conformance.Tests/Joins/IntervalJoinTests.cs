using LinqStream.Conformance.Tests.Infrastructure;

namespace LinqStream.Conformance.Tests.Joins;

/// <summary>Interval join: each bid with the auction it names, when the auction is open at the bid's time.</summary>
/// <remarks>An auction lives <c>[DateTime, Expires)</c> (<c>WithLifetime</c>), a bid is a point; the result lives at the bid's instant.</remarks>
public sealed class IntervalJoinTests
{
    [Theory]
    [MemberData(nameof(Matrix.All), MemberType = typeof(Matrix))]
    public async Task IntervalJoin_AuctionsAliveAtBidTime_MatchesEveryBidPlacedWhileTheAuctionRuns(Scenario scenario)
    {
        var sources = new Sources(NexmarkData.Get(20_000, scenario), scenario);
        var query =
            from a in sources.Auctions.WithLifetime(a => a.DateTime, a => a.Expires)
            join b in sources.Bids on a.Id equals b.Auction
            select new { Auction = a.Id, a.Category, b.Bidder, b.Price };

        var actual = await Run.EventsAsync(query, scenario, sources);

        var data = sources.Data;
        var expected =
            (from a in data.Auctions
             join b in data.Bids on a.Id equals b.Auction
             where a.DateTime <= b.DateTime && b.DateTime < a.Expires
             select Run.Point(b.DateTime, new { Auction = a.Id, a.Category, b.Bidder, b.Price })).ToList();
        Assert.NotEmpty(expected);
        Run.AssertEquivalent(expected, actual);
    }

    [Theory]
    [MemberData(nameof(Matrix.All), MemberType = typeof(Matrix))]
    public async Task IntervalJoin_ShortAuctionLifetime_DropsBidsPlacedAfterTheEnd(Scenario scenario)
    {
        var life = TimeSpan.FromSeconds(1);
        var sources = new Sources(NexmarkData.Get(20_000, scenario), scenario);
        var query =
            from a in sources.Auctions.WithLifetime(a => a.DateTime, a => a.DateTime.AddSeconds(1))
            join b in sources.Bids on a.Id equals b.Auction
            select new { Auction = a.Id, b.Bidder, b.Price };

        var actual = await Run.EventsAsync(query, scenario, sources);

        var data = sources.Data;
        var unbounded = (from a in data.Auctions join b in data.Bids on a.Id equals b.Auction where a.DateTime <= b.DateTime select b).Count();
        var expected =
            (from a in data.Auctions
             join b in data.Bids on a.Id equals b.Auction
             where a.DateTime <= b.DateTime && b.DateTime < a.DateTime + life
             select Run.Point(b.DateTime, new { Auction = a.Id, b.Bidder, b.Price })).ToList();
        Assert.True(expected.Count < unbounded, "Some bids should come after their auction's (short) life, or the test does not check the end.");
        Run.AssertEquivalent(expected, actual);
    }

    [Theory]
    [MemberData(nameof(Matrix.All), MemberType = typeof(Matrix))]
    public async Task IntervalJoin_WithFilterOnEachSide_MatchesTheFilteredJoin(Scenario scenario)
    {
        var sources = new Sources(NexmarkData.Get(20_000, scenario), scenario);
        var query =
            from a in sources.Auctions.WithLifetime(a => a.DateTime, a => a.Expires)
            join b in sources.Bids on a.Id equals b.Auction
            where a.Category == 12
            where b.Price >= a.Reserve / 2
            where b.Bidder % 2 == 0
            select new { Auction = a.Id, b.Bidder, b.Price };

        var actual = await Run.EventsAsync(query, scenario, sources);

        var data = sources.Data;
        var expected =
            (from a in data.Auctions
             join b in data.Bids on a.Id equals b.Auction
             where a.DateTime <= b.DateTime && b.DateTime < a.Expires
             where a.Category == 12 && b.Price >= a.Reserve / 2 && b.Bidder % 2 == 0
             select Run.Point(b.DateTime, new { Auction = a.Id, b.Bidder, b.Price })).ToList();
        Assert.NotEmpty(expected);
        Run.AssertEquivalent(expected, actual);
    }
}
