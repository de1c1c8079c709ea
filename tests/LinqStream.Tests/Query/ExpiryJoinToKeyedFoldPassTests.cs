using LinqStream.Plan;
using LinqStream.Query.Optimization;
using LinqStream.Query.Translation;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Tests.Query;

/// <summary>
/// The pass <see cref="ExpiryJoinToKeyedFoldPass"/> (issue #19): which plans it rewrites (q9's shape, with a printed before/after),
/// and every near miss it must leave alone because the fold would not give the join's answer. The answers of both plans are
/// compared on random input in <c>KeyedFoldTests</c> (conformance).
/// </summary>
public sealed class ExpiryJoinToKeyedFoldPassTests
{
    private static readonly TimeSpan LookBack = TimeSpan.FromSeconds(20);
    private static readonly Bid[] NoBids = [];
    private static readonly Auction[] NoAuctions = [];

    public readonly record struct Winner(long Auction, long Category, long Bidder, long Price, long BidTime);

    /// <summary>A total order over the whole value: commutative.</summary>
    [CommutativeAggregate]
    public readonly struct BestBid : IAggregate<Winner, (bool Any, Winner Best), Winner>
    {
        public (bool Any, Winner Best) Initial() => (false, default);

        public (bool Any, Winner Best) Add((bool Any, Winner Best) state, Winner input) => !state.Any || Beats(input, state.Best) ? (true, input) : state;

        public Winner Result((bool Any, Winner Best) state) => state.Best;

        private static bool Beats(Winner a, Winner b) =>
            a.Price != b.Price ? a.Price > b.Price
            : a.BidTime != b.BidTime ? a.BidTime < b.BidTime
            : a.Bidder != b.Bidder ? a.Bidder < b.Bidder
            : a.Auction != b.Auction ? a.Auction < b.Auction
            : a.Category < b.Category;
    }

    /// <summary>The same aggregate without the attribute: the first of two tied values wins, so the order of <c>Add</c> matters.</summary>
    public readonly struct FirstBestBid : IAggregate<Winner, (bool Any, Winner Best), Winner>
    {
        public (bool Any, Winner Best) Initial() => (false, default);

        public (bool Any, Winner Best) Add((bool Any, Winner Best) state, Winner input) => !state.Any || input.Price > state.Best.Price ? (true, input) : state;

        public Winner Result((bool Any, Winner Best) state) => state.Best;
    }

    private static IQStream<Bid> Bids(IngressPolicy? policy = null) => QStream.From(NoBids, b => b.DateTime, policy ?? IngressPolicy.Throw, "bids");

    private static IQStream<Auction> Closes(IngressPolicy? policy = null) =>
        QStream.From(NoAuctions, a => a.Expires.Ticks - 1, policy ?? IngressPolicy.Reorder(TimeSpan.FromSeconds(10)), "closes");

    private static IQStream<Winner> Matches(IQStream<Auction> closes, IQStream<Bid> bids) =>
        from a in closes
        join b in bids on a.Id equals b.Auction
        where b.DateTime >= a.DateTime && b.Price >= a.Reserve
        select new Winner(a.Id, a.Category, b.Bidder, b.Price, b.DateTime.Ticks);

    private static IQStream<Winner> Q9(IQStream<Winner> matches, long windowTicks = 1) =>
        from m in matches.TumblingWindow(TimeSpan.FromTicks(windowTicks))
        group m by m.Auction into g
        select g.Aggregate(new BestBid());

    internal static IQStream<Winner> Q9() => Q9(Matches(Closes(), Bids().ExtendLifetime(LookBack)));

    private static (string Before, string After, bool Changed) Run<T>(IQStream<T> query, QueryOptions? options = null)
    {
        var plan = new QueryTranslator().Translate(query.Expression);
        var after = new ExpiryJoinToKeyedFoldPass(options ?? QueryOptions.Default).Run(plan);
        return (Print(plan), Print(after), !ReferenceEquals(plan, after));
    }

    internal static string Print(PlanNode plan) =>
        System.Text.RegularExpressions.Regex.Replace(PlanPrinter.Print(plan), @"<>[fh]__\w+`?\d*", "<anon>").ReplaceLineEndings("\n");

    [Fact]
    public void ClosesJoinedWithExtendedBidsThenOneTickWindow_BecomesOneKeyedFold()
    {
        var (before, after, changed) = Run(Q9());

        Assert.True(changed);
        Assert.Equal("""
            WindowAggregate: Tumbling(00:00:00.0000001), key: m => m.Auction, select: g => g.Aggregate(Convert(new BestBid(), IAggregate`3))
              Select: <anon> => new Winner(<anon>.a.Id, <anon>.a.Category, <anon>.b.Bidder, <anon>.b.Price, <anon>.b.DateTime.Ticks)
                Where: <anon> => ((<anon>.b.DateTime >= <anon>.a.DateTime) AndAlso (<anon>.b.Price >= <anon>.a.Reserve))
                  Join: a => a.Id == b => b.Auction, select: (a, b) => new <anon>(a = a, b = b)
                    From: closes, time: a => (a.Expires.Ticks - 1), policy: Reorder(00:00:10, late: Drop)
                    ExtendLifetime: 00:00:20
                      From: bids, time: b => b.DateTime, policy: Throw
            """ + "\n", before);
        Assert.Equal("""
            KeyedFold: per close and key c => c.Value.Auction, Aggregate(BestBid, x => x), select: (key, windowStart, windowEnd, aggregate) => aggregate
              Select: c => new Closing`1(c.Close, new Winner(c.Value.Left.Id, c.Value.Left.Category, c.Value.Right.Bidder, c.Value.Right.Price, c.Value.Right.DateTime.Ticks))
                Where: c => ((c.Value.Right.DateTime >= c.Value.Left.DateTime) AndAlso (c.Value.Right.Price >= c.Value.Left.Reserve))
                  Join: a => a.Id == b => b.Auction, select: (a, b) => new Closing`1((a.Expires.Ticks - 1), new JoinPair`2(a, b))
                    From: closes, time: a => ((a.Expires.Ticks - 1) - 200000000), end: a => ((a.Expires.Ticks - 1) + 1), policy: Reorder(00:00:10, late: Drop)
                    From: bids, time: b => b.DateTime, policy: Throw
            """ + "\n", after);
    }

    [Fact]
    public void Explain_SaysTheRewriteApplied_AndShowsTheFold()
    {
        string explained = Q9().Explain();

        Assert.Contains("ExpiryJoinToKeyedFold: applied", explained, StringComparison.Ordinal);
        Assert.Contains("KeyedFold:", explained[explained.IndexOf("Physical plan:", StringComparison.Ordinal)..], StringComparison.Ordinal);
    }

    [Fact]
    public void AggregateNotMarkedCommutative_IsLeftAlone()
    {
        var query =
            from m in Matches(Closes(), Bids().ExtendLifetime(LookBack)).TumblingWindow(TimeSpan.FromTicks(1))
            group m by m.Auction into g
            select g.Aggregate(new FirstBestBid());

        Assert.False(Run(query).Changed);
    }

    [Fact]
    public void TransparentIdentifierReadWhole_IsKeptAsAnObject()
    {
        // 'let' wraps the join's new { a, b } into another anonymous object: the identifier itself is read, not only its members, so
        // the pass still folds but keeps the object (no JoinPair).
        var matches =
            from a in Closes()
            join b in Bids().ExtendLifetime(LookBack) on a.Id equals b.Auction
            let price = b.Price
            where b.DateTime >= a.DateTime && price >= a.Reserve
            select new Winner(a.Id, a.Category, b.Bidder, price, b.DateTime.Ticks);

        var (_, after, changed) = Run(Q9(matches));

        Assert.True(changed);
        Assert.Contains("select: (a, b) => new Closing`1((a.Expires.Ticks - 1), new <anon>(a = a, b = b))", after, StringComparison.Ordinal);
        Assert.DoesNotContain("JoinPair", after, StringComparison.Ordinal);
    }

    [Fact]
    public void JoinResultOfAUserType_IsKeptAsIs()
    {
        var matches =
            from a in Closes()
            join b in Bids().ExtendLifetime(LookBack) on a.Id equals b.Auction
            select new Winner(a.Id, a.Category, b.Bidder, b.Price, b.DateTime.Ticks);

        var (_, after, changed) = Run(Q9(matches));

        Assert.True(changed);
        Assert.Contains("select: (a, b) => new Closing`1((a.Expires.Ticks - 1), new Winner(a.Id, a.Category, b.Bidder, b.Price, b.DateTime.Ticks))", after, StringComparison.Ordinal);
    }

    [Fact]
    public void WindowOfTwoTicks_IsLeftAlone() =>
        Assert.False(Run(Q9(Matches(Closes(), Bids().ExtendLifetime(LookBack)), windowTicks: 2)).Changed);

    [Fact]
    public void BidsNotExtended_IsLeftAlone() =>
        Assert.False(Run(Q9(Matches(Closes(), Bids()))).Changed);

    [Theory]
    [InlineData("Throw")]
    [InlineData("Adjust")]
    [InlineData("ReorderThenAdjust")]
    [InlineData("ReorderThenThrow")]
    public void ClosesWithAPolicyThatMovesOrFailsAtTheirTime_AreLeftAlone(string policy)
    {
        var ingress = policy switch
        {
            "Throw" => IngressPolicy.Throw,
            "Adjust" => IngressPolicy.Adjust,
            "ReorderThenAdjust" => IngressPolicy.Reorder(TimeSpan.FromSeconds(1), IngressPolicyKind.Adjust),
            _ => IngressPolicy.Reorder(TimeSpan.FromSeconds(1), IngressPolicyKind.Throw),
        };

        Assert.False(Run(Q9(Matches(Closes(ingress), Bids().ExtendLifetime(LookBack)))).Changed);
    }

    [Fact]
    public void ClosesWithDropPolicy_AreRewritten() =>
        Assert.True(Run(Q9(Matches(Closes(IngressPolicy.Drop), Bids().ExtendLifetime(LookBack)))).Changed);

    [Fact]
    public void ClosesAtARawLongTime_AreLeftAlone()
    {
        // A long read from the payload may be near long.MinValue: the shifted start would overflow.
        var closes = QStream.From(NoAuctions, a => a.Seller, IngressPolicy.Reorder(TimeSpan.FromSeconds(10)), "closes");

        Assert.False(Run(Q9(Matches(closes, Bids().ExtendLifetime(LookBack)))).Changed);
    }

    [Fact]
    public void ClosesWithALifetime_AreLeftAlone()
    {
        var closes = Closes().WithLifetime(a => a.Expires.Ticks - 1, a => a.Expires.Ticks + 5);

        Assert.False(Run(Q9(Matches(closes, Bids().ExtendLifetime(LookBack)))).Changed);
    }

    [Fact]
    public void ClosesFilteredBeforeTheJoin_AreLeftAlone()
    {
        // The join's left input must be the source itself: its time is what the fold's groups are tagged with.
        var closes = Closes().Where(a => a.Category != 3);

        Assert.False(Run(Q9(Matches(closes, Bids().ExtendLifetime(LookBack)))).Changed);
    }

    [Fact]
    public void ClosesReadTwice_AreLeftAlone()
    {
        var closes = Closes();
        var bids = Bids().ExtendLifetime(LookBack);
        var query = Q9(Matches(closes, bids)).Union(closes.Select(a => new Winner(a.Id, a.Category, 0, 0, 0)));

        Assert.False(Run(query).Changed);
    }

    [Fact]
    public void JoinUsedTwice_IsLeftAlone()
    {
        var matches = Matches(Closes(), Bids().ExtendLifetime(LookBack));
        var query = Q9(matches).Union(matches);

        Assert.False(Run(query).Changed);
    }

    [Fact]
    public void FilteredAggregate_IsLeftAlone()
    {
        var query =
            from m in Matches(Closes(), Bids().ExtendLifetime(LookBack)).TumblingWindow(TimeSpan.FromTicks(1))
            group m by m.Auction into g
            select g.Where(m => m.Price > 3).Aggregate(new BestBid());

        Assert.False(Run(query).Changed);
    }

    [Fact]
    public void TwoAggregates_AreLeftAlone()
    {
        var query =
            from m in Matches(Closes(), Bids().ExtendLifetime(LookBack)).TumblingWindow(TimeSpan.FromTicks(1))
            group m by m.Auction into g
            select new { Best = g.Aggregate(new BestBid()), Count = g.Count() };

        Assert.False(Run(query).Changed);
    }

    [Fact]
    public void SkipAndDeadLetter_IsLeftAlone() =>
        Assert.False(Run(Q9(), QueryOptions.Default with { OnError = ErrorPolicy.SkipAndDeadLetter }).Changed);

    [Fact]
    public void RewriteSubPlansOff_IsLeftAlone() =>
        Assert.False(Run(Q9(), QueryOptions.Default with { RewriteSubPlans = false }).Changed);
}
