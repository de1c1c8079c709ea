using LinqStream.Cli.Showcase;
using LinqStream.Testing;

namespace LinqStream.Cli.Tests.Showcase;

/// <summary>The showcase queries give the answers LINQ to Objects gives on the same data (so the demo's tables are right).</summary>
public sealed class BuiltInQueriesTests
{
    private static readonly DemoData s_data = DemoData.Generate(60_000, 10_000);

    [Theory]
    [InlineData("q0", "From")]
    [InlineData("q1", "Select")]
    [InlineData("q2", "Fused[Where > Select]")]
    [InlineData("q5", "HoppingWindowAggregate")]
    [InlineData("q11", "SessionWindowAggregate")]
    [InlineData("join", "Join")]
    public void Explain_EveryBuiltInQuery_PrintsItsPhysicalOperator(string name, string physicalOperator)
    {
        string plan = BuiltInQueries.Explain(name);

        Assert.Contains(physicalOperator, plan[plan.IndexOf("Physical plan:", StringComparison.Ordinal)..], StringComparison.Ordinal);
    }

    [Fact]
    public void HotItems_MatchesReferenceWindows()
    {
        var actual = Run(BuiltInQueries.HotItems(BuiltInQueries.Bids(s_data.Bids)));

        var expected = ReferenceWindows.Fixed(
            s_data.Bids.Select(b => (b.DateTime.Ticks, b)), BuiltInQueries.HotItemsSize.Ticks, BuiltInQueries.HotItemsHop.Ticks, b => b.Auction,
            g => new AuctionCount(g.Key, g.Count(), g.Window.Start, g.Window.End)).Select(r => r.Result);
        Assert.Equal(Sorted(expected), Sorted(actual));
    }

    [Fact]
    public void Sessions_MatchesReferenceSessions()
    {
        var actual = Run(BuiltInQueries.Sessions(BuiltInQueries.Bids(s_data.Bids)));

        var expected = ReferenceWindows.Sessions(
            s_data.Bids.Select(b => (b.DateTime.Ticks, b)), BuiltInQueries.SessionGap.Ticks, 0, b => b.Bidder,
            g => new BidderSession(g.Key, g.Count(), g.Sum(b => b.Price), g.Window.Start, g.Window.End)).Select(r => r.Result);
        Assert.Equal(expected.OrderBy(s => s.End).ThenBy(s => s.Bidder), actual.OrderBy(s => s.End).ThenBy(s => s.Bidder));
    }

    [Fact]
    public void AuctionBids_MatchesBidsInsideTheirAuctionsLifetime()
    {
        var actual = Run(BuiltInQueries.AuctionBids(BuiltInQueries.LiveAuctions(s_data.Auctions), BuiltInQueries.Bids(s_data.Bids)));

        var expected =
            from a in s_data.Auctions
            join b in s_data.Bids on a.Id equals b.Auction
            where b.DateTime >= a.DateTime && b.DateTime < a.Expires
            select new AuctionBid(a.Id, a.Seller, a.Reserve, b.Bidder, b.Price, b.DateTime);
        Assert.Equal(expected.OrderBy(m => m.BidTime).ThenBy(m => m.Auction).ThenBy(m => m.Price), actual.OrderBy(m => m.BidTime).ThenBy(m => m.Auction).ThenBy(m => m.Price));
    }

    private static List<T> Run<T>(IQStream<T> query)
    {
        var results = new List<T>();
        ResultObserver<T>.Drain(query.WithOptions(new QueryOptions { Strict = true }), results.Add);
        return results;
    }

    private static IEnumerable<AuctionCount> Sorted(IEnumerable<AuctionCount> counts) => counts.OrderBy(c => c.WindowEnd).ThenBy(c => c.Auction);
}
