using LinqStream.Testing.Nexmark;

namespace LinqStream.Conformance.Tests;

public sealed class ProviderSmokeTests
{
    private static readonly QueryOptions Strict = new() { Strict = true };

    [Fact]
    public async Task WhereSelect_QuerySyntax_MatchesLinqToObjects()
    {
        var bids = new NexmarkGenerator().Bids(10_000);
        var query =
            from b in QStream.From(bids, b => b.DateTime).WithOptions(Strict)
            where b.Price > 1000
            select new { b.Auction, Euro = b.Price * 0.9 };
        var actual = await query.ToListAsync();
        var expected = bids.Where(b => b.Price > 1000).Select(b => new { b.Auction, Euro = b.Price * 0.9 }).ToList();
        Assert.Equal(expected, actual);
        Assert.Contains("Fused[Where > Select]", query.Explain(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task HoppingWindowGroupBy_QuerySyntax_MatchesReference()
    {
        var bids = new NexmarkGenerator().Bids(20_000);
        var query =
            from b in QStream.From(bids, b => b.DateTime).WithOptions(Strict).HoppingWindow(TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(2))
            group b by b.Auction into g
            select new { Auction = g.Key, Bids = g.Count(), End = g.Window.End };
        var actual = await query.ToListAsync();
        var expected = Testing.ReferenceWindows.Fixed(bids.Select(b => (b.DateTime.Ticks, b)), TimeSpan.FromMilliseconds(10).Ticks, TimeSpan.FromMilliseconds(2).Ticks, b => b.Auction,
            g => new { Auction = g.Key, Bids = g.Count(), End = g.Window.End }).Select(r => r.Result).ToList();
        Assert.Equal(expected.OrderBy(r => r.End).ThenBy(r => r.Auction), actual.OrderBy(r => r.End).ThenBy(r => r.Auction));
    }

    [Fact]
    public async Task Join_AuctionsWithLifetimeAndBids_MatchesReference()
    {
        var generator = new NexmarkGenerator();
        var events = generator.EventsArray(20_000);
        var auctions = events.Where(e => e.Auction is not null).Select(e => e.Auction!).ToArray();
        var bids = events.Where(e => e.Bid is not null).Select(e => e.Bid!).ToArray();
        var query =
            from a in QStream.From(auctions, a => a.DateTime).WithOptions(Strict).WithLifetime(a => a.DateTime, a => a.Expires)
            join b in QStream.From(bids, b => b.DateTime) on a.Id equals b.Auction
            select new { a.Id, b.Price, b.Bidder };
        var actual = await query.ToListAsync();
        var expected =
            (from a in auctions
             join b in bids on a.Id equals b.Auction
             where b.DateTime >= a.DateTime && b.DateTime < a.Expires
             select new { a.Id, b.Price, b.Bidder }).ToList();
        Assert.Equal(expected.Count, actual.Count);
        Assert.Equal(expected.OrderBy(x => x.Id).ThenBy(x => x.Bidder).ThenBy(x => x.Price), actual.OrderBy(x => x.Id).ThenBy(x => x.Bidder).ThenBy(x => x.Price));
    }

    [Fact]
    public void Count_WithoutWindow_FailsAtSubscribeNamingOperatorAndFix()
    {
        var bids = new NexmarkGenerator().Bids(10);
        var query = System.Reactive.Linq.Qbservable.Count(QStream.From(bids, b => b.DateTime));
        var error = Assert.Throws<QueryTranslationException>(() => query.Subscribe(_ => { }));
        Assert.Equal("Count", error.Operator);
        Assert.Contains("TumblingWindow", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WindowedWhere_BeforeGroupBy_FiltersEventsBeforeAggregating()
    {
        var bids = new NexmarkGenerator().Bids(20_000);
        var query =
            from b in QStream.From(bids, b => b.DateTime).WithOptions(Strict).TumblingWindow(TimeSpan.FromMilliseconds(5))
            where b.Price > 10_000
            group b by b.Bidder % 10 into g
            select new { g.Key, N = g.Count(), g.Window.End };
        var actual = await query.ToListAsync();
        var expected = Testing.ReferenceWindows.Fixed(bids.Where(b => b.Price > 10_000).Select(b => (b.DateTime.Ticks, b)), TimeSpan.FromMilliseconds(5).Ticks, TimeSpan.FromMilliseconds(5).Ticks, b => b.Bidder % 10,
            g => new { g.Key, N = g.Count(), g.Window.End }).Select(r => r.Result).ToList();
        Assert.Equal(expected.OrderBy(r => r.End).ThenBy(r => r.Key), actual.OrderBy(r => r.End).ThenBy(r => r.Key));
    }
}
