using LinqStream.Conformance.Tests.Infrastructure;

namespace LinqStream.Conformance.Tests.Joins;

/// <summary>LeftJoin and WhereNotExists, with auctions that live one second and bids as points.</summary>
public sealed class OuterAndAntiJoinTests
{
    [Theory]
    [MemberData(nameof(Matrix.All), MemberType = typeof(Matrix))]
    public async Task LeftJoin_BidsWithShortLivedAuctions_PairsMatchesAndKeepsTheRestWithDefault(Scenario scenario)
    {
        var sources = new Sources(NexmarkData.Get(20_000, scenario), scenario);
        var query = sources.Bids.LeftJoin(
            sources.Auctions.WithLifetime(a => a.DateTime, a => a.DateTime.AddSeconds(1)),
            b => b.Auction,
            a => a.Id,
            (b, a) => new { b.Bidder, b.Price, Category = a == null ? -1 : a.Category });

        var actual = await Run.EventsAsync(query, scenario, sources);

        var data = sources.Data;
        var auctions = data.Auctions.ToLookup(a => a.Id);
        var expected = new List<StreamEvent<(long, long, long)>>();
        foreach (var b in data.Bids)
        {
            var alive = auctions[b.Auction].Where(a => a.DateTime <= b.DateTime && b.DateTime < a.DateTime.AddSeconds(1)).ToList();
            expected.AddRange(alive.Count == 0
                ? [Run.Point(b.DateTime, (b.Bidder, b.Price, -1L))]
                : alive.Select(a => Run.Point(b.DateTime, (b.Bidder, b.Price, a.Category))));
        }

        Assert.Contains(expected, e => e.Payload.Item3 == -1);
        Assert.Contains(expected, e => e.Payload.Item3 != -1);
        Run.AssertEquivalent(expected, actual.Select(e => Run.Event(e.Start, e.End, (e.Payload.Bidder, e.Payload.Price, e.Payload.Category))));
    }

    [Theory]
    [MemberData(nameof(Matrix.All), MemberType = typeof(Matrix))]
    public async Task WhereNotExists_BidsWithoutALiveAuction_KeepsOnlyThose(Scenario scenario)
    {
        var sources = new Sources(NexmarkData.Get(20_000, scenario), scenario);
        var query = sources.Bids
            .WhereNotExists(sources.Auctions.WithLifetime(a => a.DateTime, a => a.DateTime.AddSeconds(1)), b => b.Auction, a => a.Id)
            .Select(b => new { b.Auction, b.Bidder, b.Price });

        var actual = await Run.EventsAsync(query, scenario, sources);

        var data = sources.Data;
        var auctions = data.Auctions.ToLookup(a => a.Id);
        var expected =
            (from b in data.Bids
             where !auctions[b.Auction].Any(a => a.DateTime <= b.DateTime && b.DateTime < a.DateTime.AddSeconds(1))
             select Run.Point(b.DateTime, new { b.Auction, b.Bidder, b.Price })).ToList();
        Assert.NotEmpty(expected);
        Assert.True(expected.Count < data.Bids.Length);
        Run.AssertEquivalent(expected, actual);
    }
}
