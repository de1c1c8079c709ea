using System.Linq.Expressions;
using LinqStream.Parallel;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Tests.Parallel;

/// <summary>
/// What a split keyed aggregate reads of each event (the projection below the exchange, issue #17): only the members its key selector
/// and aggregates use, whole events for anything else, with the reason; and the Explain line. The answers with the projection are
/// checked in LinqStream.Orleans.Tests (ProjectedSpreadJobTests: spread over the test cluster and in process against LINQ to objects).
/// </summary>
public sealed class ExchangeProjectionTests
{
    private static readonly Bid Captured = new() { Auction = 1 };

    private static ExchangeProjection Analyze(Expression<Func<Bid, long>>? key, Expression<Func<IWindowGroup<long, Bid>, object>> result, string? buffered = null) =>
        ExchangeProjection.Analyze(typeof(Bid), key, result, buffered);

    private static bool IsHot(Bid bid) => bid.Price > 1_000;

    [Fact]
    public void KeyAndCount_ReadOnlyTheKeyMember()
    {
        var reads = Analyze(b => b.Auction, g => new { g.Key, Count = g.Count(), g.Window.Start });

        Assert.Equal("Auction", string.Join(",", reads.Members!));
        Assert.Null(reads.WhyWhole);
        Assert.Equal("Bid.Auction (1 of 7 members: the key selector and the aggregates read nothing else)", reads.Describe());
    }

    [Fact]
    public void Aggregates_AddTheMembersTheyRead_InDeclarationOrder()
    {
        var reads = Analyze(b => b.Auction, g => new
        {
            Max = g.Max(b => b.Price),
            Chars = g.Sum(b => (long)b.Channel.Length),
            Hot = g.Count(b => b.Price > 10 && b.DateTime.Second == 0),
            Last = g.OrderBy(b => b.Bidder).Select(b => b.Url).LastOrDefault(),
        });

        Assert.Equal("Auction,Bidder,Price,Channel,Url,DateTime", string.Join(",", reads.Members!));
    }

    [Fact]
    public void NoMemberRead_CarriesNoMember()
    {
        var reads = ExchangeProjection.Analyze(typeof(Bid), (Expression<Func<Bid, int>>)(b => 1), (Expression<Func<IWindowGroup<int, Bid>, int>>)(g => g.Count()), null);

        Assert.Empty(reads.Members!);
        Assert.StartsWith("no member of Bid (0 of 7 members", reads.Describe(), StringComparison.Ordinal);
    }

    private static readonly Dictionary<string, (Expression<Func<Bid, long>> Key, Expression<Func<IWindowGroup<long, Bid>, object>> Result, string Named)> s_whole = new()
    {
        ["an event handed to a method"] = (b => b.Auction, g => g.Count(b => IsHot(b)), "IsHot"),
        ["the group's first event"] = (b => b.Auction, g => g.First().Price, "g.First()"),
        ["the events themselves selected"] = (b => b.Auction, g => g.Select(b => b).Count(), "'b' is used whole"),
        ["the group kept in the result"] = (b => b.Auction, g => new { Items = g.ToList() }, "ToList"),
        ["a captured event compared"] = (b => b.Auction, g => g.Contains(Captured), "stands for events"),
        ["the key is the whole event's hash"] = (b => b.GetHashCode(), g => g.Count(), "GetHashCode"),
        ["an event compared to null"] = (b => b.Auction, g => g.Count(b => b != null), "'b' is used whole"),
    };

    public static TheoryData<string> WholeCases => [.. s_whole.Keys];

    [Theory]
    [MemberData(nameof(WholeCases))]
    public void AnyOtherUseOfAnEvent_TakesWholeEvents_WithTheReason(string what)
    {
        var (key, result, named) = s_whole[what];

        var reads = Analyze(key, result);

        Assert.True(reads.Members is null, what);
        Assert.Contains(named, reads.WhyWhole, StringComparison.Ordinal);
        Assert.StartsWith("whole Bid events (", reads.Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public void BufferedWindow_TakesWholeEvents()
    {
        var reads = Analyze(b => b.Auction, g => g.Count(), buffered: "Median has no incremental form");

        Assert.Null(reads.Members);
        Assert.Contains("buffered", reads.WhyWhole, StringComparison.Ordinal);
    }

    [Fact]
    public void Explain_SaysWhichMembersCrossSilos_OrWhyWholeEvents()
    {
        var bids = QStream.From(new NexmarkGenerator().Bids(100), b => b.DateTime, IngressPolicy.Reorder(TimeSpan.FromSeconds(1)));
        var projected =
            from b in bids.TumblingWindow(TimeSpan.FromSeconds(10))
            group b by b.Auction into g
            select new { g.Key, Count = g.Count(), Max = g.Max(b => b.Price) };
        var whole =
            from b in bids.TumblingWindow(TimeSpan.FromSeconds(10))
            group b by b.Auction into g
            select new { g.Key, Hot = g.Count(b => IsHot(b)) };
        var options = new QueryOptions { Parallelism = 4 };

        Assert.Contains("Between silos (a job spread over a cluster, events cross in one phase): Bid.Auction, Bid.Price (2 of 7 members", projected.WithOptions(options).Explain(), StringComparison.Ordinal);
        Assert.Contains("Between silos (a job spread over a cluster, events cross in one phase): whole Bid events (", whole.WithOptions(options).Explain(), StringComparison.Ordinal);
        Assert.DoesNotContain("Between silos", projected.Explain(), StringComparison.Ordinal); // parallelism 1: no exchange
    }

    [Fact]
    public void Explain_FourPartitions_ProjectedToo()
    {
        var partitions = Enumerable.Range(0, 4).Select(k => QStream.From(new NexmarkGenerator(new NexmarkConfig { Seed = k }).Bids(50), b => b.DateTime, IngressPolicy.Reorder(TimeSpan.FromSeconds(1)), "bids-" + k)).ToArray();
        var query =
            from b in partitions[0].Merge(partitions[1..]).TumblingWindow(TimeSpan.FromSeconds(10))
            group b by b.Auction into g
            select new { g.Key, Count = g.Count() };

        string plan = query.WithOptions(new QueryOptions { Parallelism = 4 }).Explain();

        Assert.Contains("Stage: 4 source tasks", plan, StringComparison.Ordinal);
        Assert.Contains("events cross in one phase): Bid.Auction (1 of 7 members", plan, StringComparison.Ordinal);
    }
}
