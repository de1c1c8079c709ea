using LinqStream.Conformance.Tests.Infrastructure;

namespace LinqStream.Conformance.Tests.Operators;

/// <summary>SelectMany in query syntax and Union/Merge of several sources, each with its own ingress policy.</summary>
public sealed class SelectManyAndUnionTests
{
    [Theory]
    [MemberData(nameof(Matrix.All), MemberType = typeof(Matrix))]
    public async Task SelectMany_QuerySyntax_ExpandsEachBidAtItsTime(Scenario scenario)
    {
        var sources = new Sources(NexmarkData.Get(10_000, scenario), scenario);
        var query =
            from b in sources.Bids
            where b.Price > 500
            from share in Enumerable.Range(1, 3)
            where share <= b.Bidder % 4
            select new { b.Auction, Share = b.Price / share };

        var actual = await Run.EventsAsync(query, scenario, sources);

        var expected =
            from b in sources.Data.Bids.OrderBy(b => b.DateTime)
            where b.Price > 500
            from share in Enumerable.Range(1, 3)
            where share <= b.Bidder % 4
            select Run.Point(b.DateTime, new { b.Auction, Share = b.Price / share });
        Run.AssertSequence(expected, actual);
    }

    [Theory]
    [MemberData(nameof(Matrix.All), MemberType = typeof(Matrix))]
    public async Task Merge_ThreeSources_GivesEveryEventInTimeOrder(Scenario scenario)
    {
        var sources = new Sources(NexmarkData.Get(20_000, scenario), scenario);
        var query = sources.Bids.Select(b => $"bid {b.Auction} {b.Price}")
            .Merge(sources.Auctions.Select(a => $"auction {a.Id}"), sources.People.Select(p => $"person {p.Id}"));

        var actual = await Run.EventsAsync(query, scenario, sources);

        var data = sources.Data;
        var expected = data.Bids.Select(b => Run.Point(b.DateTime, $"bid {b.Auction} {b.Price}"))
            .Concat(data.Auctions.Select(a => Run.Point(a.DateTime, $"auction {a.Id}")))
            .Concat(data.People.Select(p => Run.Point(p.DateTime, $"person {p.Id}")));
        Run.AssertEquivalent(expected, actual);
    }

    [Theory]
    [MemberData(nameof(Matrix.All), MemberType = typeof(Matrix))]
    public async Task Union_ThenWindow_CountsEventsOfBothInputs(Scenario scenario)
    {
        var size = TimeSpan.FromSeconds(2);
        var sources = new Sources(NexmarkData.Get(20_000, scenario), scenario);
        var sellers = sources.Auctions.Select(a => a.Seller);
        var bidders = sources.Bids.Select(b => b.Bidder);
        var query =
            from p in sellers.Union(bidders).TumblingWindow(size)
            group p by p % 3 into g
            select new { g.Key, Events = g.Count(), People = g.Distinct().Count() };

        var actual = await Run.EventsAsync(query, scenario, sources);

        var data = sources.Data;
        var events = data.Auctions.Select(a => (a.DateTime.Ticks, a.Seller)).Concat(data.Bids.Select(b => (b.DateTime.Ticks, b.Bidder)));
        var expected = Testing.ReferenceWindows.Fixed(events, size.Ticks, size.Ticks, p => p % 3, g => new { g.Key, Events = g.Count(), People = g.Distinct().Count() })
            .Select(r => Run.Event(r.Start, r.End, r.Result));
        Run.AssertEquivalent(expected, actual);
    }
}
