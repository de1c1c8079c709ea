using LinqStream.Conformance.Tests.Infrastructure;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Conformance.Tests.Plans;

/// <summary><c>Explain()</c> shows what the optimizer did: fusion, predicate pushdown below joins and windows, and shared sub-plans.</summary>
public sealed class PlanInspectionTests
{
    private static readonly NexmarkData Data = NexmarkData.Get(10_000, TimeSpan.Zero);

    private static IQStream<Bid> Bids => QStream.From(Data.Bids, b => b.DateTime, name: "bids");

    private static IQStream<Auction> Auctions => QStream.From(Data.Auctions, a => a.DateTime, name: "auctions");

    [Fact]
    public void Explain_WhereSelectWhereChain_IsOneFusedNode()
    {
        var query =
            from b in Bids
            where b.Price > 10
            select new { b.Auction, b.Price } into x
            where x.Auction > 5
            select x;

        var physical = PlanTree.Physical(query.Explain());

        Assert.Equal("Fused[Where > Select > Where]", physical.Name);
        Assert.Equal("From", Assert.Single(physical.Children).Name);
    }

    [Fact]
    public void Explain_WhereSelectWhereMethodChain_PrintsFusedWhereSelectWhere()
    {
        var query = Bids.Where(b => b.Price > 10).Select(b => new { b.Auction, b.Price }).Where(x => x.Auction > 5);

        var explain = query.Explain();

        Assert.Contains("Fused[Where > Select > Where]", explain, StringComparison.Ordinal);
        Assert.Contains("WhereSelectFusion: applied", explain, StringComparison.Ordinal);
    }

    [Fact]
    public void Explain_FusionOff_KeepsOneNodePerOperator()
    {
        var query = Bids.Where(b => b.Price > 10).Select(b => new { b.Auction, b.Price }).Where(x => x.Auction > 5)
            .WithOptions(new QueryOptions { Fuse = false });

        var physical = PlanTree.Physical(query.Explain());

        Assert.Equal(["Where", "Select", "Where", "From"], physical.Descendants().Select(n => n.Name));
    }

    [Fact]
    public void Explain_WhereOnLeftSideAfterJoin_IsPushedUnderTheJoinsLeftInput()
    {
        var query =
            from a in Auctions.WithLifetime(a => a.DateTime, a => a.Expires)
            join b in Bids on a.Id equals b.Auction
            where a.Category > 11
            select new { a.Id, b.Price };

        var explain = query.Explain();
        var join = PlanTree.Physical(explain).Single("Join");

        Assert.Equal(2, join.Children.Count);
        var left = join.Children[0];
        Assert.Equal("Where", left.Name);
        Assert.Contains("a.Category > 11", left.Detail, StringComparison.Ordinal);
        Assert.StartsWith("auctions", Assert.Single(left.Children).Detail, StringComparison.Ordinal);
        Assert.Equal("From", join.Children[1].Name);
        Assert.DoesNotContain(PlanTree.Physical(explain).Descendants(), n => n.Name == "Where" && n.Depth < join.Depth);
        Assert.Contains("PredicatePushdown: applied", explain, StringComparison.Ordinal);
    }

    [Fact]
    public void Explain_WhereOnRightSideAfterJoin_IsPushedUnderTheJoinsRightInput()
    {
        var query =
            from a in Auctions.WithLifetime(a => a.DateTime, a => a.Expires)
            join b in Bids on a.Id equals b.Auction
            where b.Price > 1000
            select new { a.Id, b.Price };

        var join = PlanTree.Physical(query.Explain()).Single("Join");

        Assert.Equal("From", join.Children[0].Name);
        Assert.Equal("Where", join.Children[1].Name);
        Assert.Contains("b.Price > 1000", join.Children[1].Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Explain_WhereOnBothSidesAfterJoin_StaysAboveTheJoin()
    {
        var query =
            from a in Auctions.WithLifetime(a => a.DateTime, a => a.Expires)
            join b in Bids on a.Id equals b.Auction
            where b.Price >= a.Reserve
            select new { a.Id, b.Price };

        var physical = PlanTree.Physical(query.Explain());
        var join = physical.Single("Join");

        Assert.All(join.Children, c => Assert.Equal("From", c.Name));
        Assert.Contains(physical.Descendants(), n => n.Name.Contains("Where", StringComparison.Ordinal) && n.Depth < join.Depth);
    }

    [Fact]
    public void Explain_WhereOnWindowedStream_IsPushedBelowTheWindow()
    {
        var query =
            from b in Bids.TumblingWindow(TimeSpan.FromSeconds(1)).Where(b => b.Price > 100)
            join a in Auctions on b.Auction equals a.Id
            select new { a.Id, b.Price };

        var join = PlanTree.Physical(query.Explain()).Single("Join");

        var window = join.Children[0];
        Assert.Equal("TumblingLifetime", window.Name);
        var where = Assert.Single(window.Children);
        Assert.Equal("Where", where.Name);
        Assert.Equal("From", Assert.Single(where.Children).Name);
    }

    [Fact]
    public void Explain_WhereAfterJoinOfWindowedInput_IsPushedBelowTheJoinAndTheWindow()
    {
        var query =
            from b in Bids.TumblingWindow(TimeSpan.FromSeconds(1))
            join a in Auctions on b.Auction equals a.Id
            where b.Price > 100
            select new { a.Id, b.Price };

        var join = PlanTree.Physical(query.Explain()).Single("Join");

        var window = join.Children[0];
        Assert.Equal("TumblingLifetime", window.Name);
        Assert.Equal("Where", Assert.Single(window.Children).Name);
    }

    [Fact]
    public async Task Explain_WhereOnWindowedStreamBeforeJoin_GivesTheSameAnswerAsFilteringFirst()
    {
        var size = TimeSpan.FromSeconds(1);
        var pushed =
            from b in Bids.TumblingWindow(size).Where(b => b.Price > 100_000)
            join a in Auctions.TumblingWindow(size) on b.Auction equals a.Id
            select new { a.Id, b.Price, b.Bidder };
        var manual =
            from b in Bids.Where(b => b.Price > 100_000).TumblingWindow(size)
            join a in Auctions.TumblingWindow(size) on b.Auction equals a.Id
            select new { a.Id, b.Price, b.Bidder };

        var expected = await manual.ToStreamEvents().ToListAsync();
        var actual = await pushed.ToStreamEvents().ToListAsync();

        Assert.NotEmpty(expected);
        Run.AssertEquivalent(expected, actual);
    }

    [Fact]
    public async Task Multicast_StreamUsedOnBothSidesOfUnion_IsSharedAndItsSourceEnumeratedOnce()
    {
        var source = new CountingEnumerable<Bid>(Data.Bids);
        var bids = QStream.From(source, b => b.DateTime, name: "counted");
        var cheap = bids.Where(b => b.Price < 1000);
        var query = cheap.Union(cheap.Where(b => b.Bidder % 2 == 0)).Select(b => new { b.Auction, b.Bidder, b.Price });

        var explain = query.Explain();
        var actual = await query.ToListAsync();

        Assert.Contains("(shared #", PlanTree.Logical(explain).Descendants().Select(n => n.Name).Aggregate((a, b) => a + "\n" + b), StringComparison.Ordinal);
        Assert.Contains(PlanTree.Physical(explain).Descendants(), n => n.Name == "Multicast");
        Assert.Equal(1, source.Enumerations);
        var expected = Data.Bids.Where(b => b.Price < 1000).Concat(Data.Bids.Where(b => b.Price < 1000 && b.Bidder % 2 == 0))
            .Select(b => new { b.Auction, b.Bidder, b.Price });
        Assert.Equal(expected.OrderBy(x => x.ToString(), StringComparer.Ordinal), actual.OrderBy(x => x.ToString(), StringComparer.Ordinal));
    }

    [Fact]
    public async Task Multicast_StreamUsedOnBothSidesOfJoin_IsSharedAndItsSourceEnumeratedOnce()
    {
        var source = new CountingEnumerable<Auction>(Data.Auctions);
        var auctions = QStream.From(source, a => a.DateTime, name: "counted").WithLifetime(a => a.DateTime, a => a.Expires);
        var query =
            from a in auctions
            join other in auctions on a.Seller equals other.Seller
            where a.Id < other.Id
            select new { First = a.Id, Second = other.Id };

        var logical = PlanTree.Logical(query.Explain());
        var actual = await query.ToListAsync();

        Assert.Contains(logical.Descendants(), n => n.Name.StartsWith("(shared #", StringComparison.Ordinal));
        Assert.Equal(1, source.Enumerations);
        var expected =
            from a in Data.Auctions
            join other in Data.Auctions on a.Seller equals other.Seller
            where a.Id < other.Id && a.DateTime < other.Expires && other.DateTime < a.Expires
            select new { First = a.Id, Second = other.Id };
        Assert.NotEmpty(actual);
        Assert.Equal(expected.OrderBy(x => x.First).ThenBy(x => x.Second), actual.OrderBy(x => x.First).ThenBy(x => x.Second));
    }

    [Fact]
    public void Explain_StreamUsedTwice_PhysicalPlanPrintsTheSharedSourceOnce()
    {
        var bids = QStream.From(new BreakingEnumerable<Bid>(), b => b.DateTime, name: "bids");
        var query = bids.Union(bids.Where(b => b.Price > 10));

        var physical = PlanTree.Physical(query.Explain());

        Assert.Single(physical.Descendants(), n => n.Name == "From");
    }

    [Fact]
    public void Explain_AnyQuery_DoesNotTouchTheSource()
    {
        var source = new BreakingEnumerable<Bid>();
        var query =
            from b in QStream.From(source, b => b.DateTime).TumblingWindow(TimeSpan.FromSeconds(1))
            group b by b.Auction into g
            select new { g.Key, N = g.Count() };

        var explain = query.Explain();

        Assert.Contains("WindowAggregate", explain, StringComparison.Ordinal);
        Assert.Equal(0, source.Touches);
    }
}
