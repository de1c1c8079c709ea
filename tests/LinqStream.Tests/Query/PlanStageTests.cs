using System.Linq.Expressions;
using LinqStream.Plan;
using LinqStream.Query.Optimization;
using LinqStream.Query.Translation;
using LinqStream.Testing.Nexmark;
using LinqStream.Tests.Infrastructure;

namespace LinqStream.Tests.Query;

/// <summary>
/// The compiler's stages one at a time, each with a printed baseline: the translator (query shape → logical plan), each
/// optimizer pass (plan before → plan after), and the recognition of aggregates in a group's <c>select</c>. A baseline is
/// changed on purpose, after reading the new plan, never by copying whatever comes out.
/// </summary>
public sealed class PlanStageTests
{
    private static readonly Bid[] NoBids = [];

    private static readonly Auction[] NoAuctions = [];

    private static IQStream<Bid> Bids => QStream.From(NoBids, b => b.DateTime, name: "bids");

    private static IQStream<Auction> Auctions => QStream.From(NoAuctions, a => a.DateTime, name: "auctions");

    private static string Translate<T>(IQStream<T> query) => Print(new QueryTranslator().Translate(query.Expression));

    /// <summary>The printed plan, with the compiler's numbered anonymous type names shown as <c>&lt;anon&gt;</c>.</summary>
    private static string Print(PlanNode plan) =>
        System.Text.RegularExpressions.Regex.Replace(PlanPrinter.Print(plan), @"<>f__AnonymousType\d+`\d+", "<anon>").ReplaceLineEndings("\n");

    private static (string Before, string After, bool Changed) Run<T>(PlanPass pass, IQStream<T> query)
    {
        var plan = new QueryTranslator().Translate(query.Expression);
        var after = pass.Run(plan);
        return (Print(plan), Print(after), !ReferenceEquals(plan, after));
    }

    // ---- Translation -------------------------------------------------------------------------------------------------

    [Fact]
    public void Translate_WhereSelectChain_IsOneNodePerOperatorInCallOrder()
    {
        var query = Bids.Where(b => b.Price > 10).Select(b => new { b.Auction, b.Price }).Where(x => x.Auction > 5);

        Assert.Equal("""
            Where: x => (x.Auction > 5)
              Select: b => new <anon>(Auction = b.Auction, Price = b.Price)
                Where: b => (b.Price > 10)
                  From: bids, time: b => b.DateTime, policy: Throw
            """ + "\n", Translate(query));
    }

    [Fact]
    public void Translate_TumblingWindowGroupCount_IsOneWindowAggregateWithKeyAndSelector()
    {
        var query =
            from b in Bids.TumblingWindow(TimeSpan.FromSeconds(10))
            group b by b.Auction into g
            select new { g.Key, Count = g.Count() };

        Assert.Equal("""
            WindowAggregate: Tumbling(00:00:10), key: b => b.Auction, select: g => new <anon>(Key = g.Key, Count = g.Count())
              From: bids, time: b => b.DateTime, policy: Throw
            """ + "\n", Translate(query));
    }

    [Fact]
    public void Translate_JoinInQuerySyntax_IsAJoinWithBothKeysAndTheResultSelector()
    {
        var query =
            from a in Auctions.WithLifetime(a => a.DateTime, a => a.Expires)
            join b in Bids on a.Id equals b.Auction
            select new { a.Id, b.Price };

        Assert.Equal("""
            Join: a => a.Id == b => b.Auction, select: (a, b) => new <anon>(Id = a.Id, Price = b.Price)
              From: auctions, time: a => a.DateTime, end: a => a.Expires, policy: Throw
              From: bids, time: b => b.DateTime, policy: Throw
            """ + "\n", Translate(query));
    }

    [Fact]
    public void Translate_LifetimesAndUnion_KeepTheirArguments()
    {
        var query = Bids.ExtendLifetime(TimeSpan.FromSeconds(2)).ClipLifetime(b => b.Auction).Union(Bids.ShiftTime(TimeSpan.FromSeconds(1)).ToPointEvents());

        Assert.Equal("""
            Union
              ClipLifetime: b => b.Auction
                ExtendLifetime: 00:00:02
                  From: bids, time: b => b.DateTime, policy: Throw
              ToPointEvents
                ShiftTime: 00:00:01
                  From: bids, time: b => b.DateTime, policy: Throw
            """ + "\n", Translate(query));
    }

    [Fact]
    public void Translate_SameSubQueryTwice_IsOneSharedNode()
    {
        var cheap = Bids.Where(b => b.Price < 100);
        var query = cheap.Select(b => b.Auction).Union(cheap.Select(b => b.Bidder));

        Assert.Equal("""
            Union
              Select: b => b.Auction
                Where: b => (b.Price < 100)
                  From: bids, time: b => b.DateTime, policy: Throw
              Select: b => b.Bidder
                (shared #3)
            """ + "\n", Translate(query));
    }

    [Fact]
    public void Translate_RxOperatorWithoutStreamingMeaning_ThrowsOnceNamingItAndTheFix()
    {
        var query = System.Reactive.Linq.Qbservable.Take(Bids, 3);

        var error = Assert.Throws<QueryTranslationException>(() => new QueryTranslator().Translate(query.Expression));

        Assert.Equal("Take", error.Operator);
        Assert.Contains("ClipLifetime", error.Message, StringComparison.Ordinal);
    }

    // ---- Optimizer passes ----------------------------------------------------------------------------------------------

    [Fact]
    public void PredicatePushdown_WhereOnTheLeftAfterAJoin_MovesUnderTheLeftInput()
    {
        var query =
            from a in Auctions.WithLifetime(a => a.DateTime, a => a.Expires)
            join b in Bids on a.Id equals b.Auction
            where a.Category > 11
            select new { a.Id, b.Price };

        var (before, after, changed) = Run(new PredicatePushdownPass(), query);

        Assert.True(changed);
        Assert.Equal("""
            Select: <>h__TransparentIdentifier0 => new <anon>(Id = <>h__TransparentIdentifier0.a.Id, Price = <>h__TransparentIdentifier0.b.Price)
              Where: <>h__TransparentIdentifier0 => (<>h__TransparentIdentifier0.a.Category > 11)
                Join: a => a.Id == b => b.Auction, select: (a, b) => new <anon>(a = a, b = b)
                  From: auctions, time: a => a.DateTime, end: a => a.Expires, policy: Throw
                  From: bids, time: b => b.DateTime, policy: Throw
            """ + "\n", before);
        Assert.Equal("""
            Select: <>h__TransparentIdentifier0 => new <anon>(Id = <>h__TransparentIdentifier0.a.Id, Price = <>h__TransparentIdentifier0.b.Price)
              Join: a => a.Id == b => b.Auction, select: (a, b) => new <anon>(a = a, b = b)
                Where: a => (a.Category > 11)
                  From: auctions, time: a => a.DateTime, end: a => a.Expires, policy: Throw
                From: bids, time: b => b.DateTime, policy: Throw
            """ + "\n", after);
    }

    [Fact]
    public void PredicatePushdown_WhereAfterAWindowAndALifetime_MovesBelowBoth()
    {
        var query = Bids.ShiftTime(TimeSpan.FromSeconds(1)).Where(b => b.Price > 10).TumblingWindow(TimeSpan.FromSeconds(10)).Select(w => w.Count());

        var (before, after, changed) = Run(new PredicatePushdownPass(), query);

        Assert.True(changed);
        Assert.Equal("""
            WindowAggregate: Tumbling(00:00:10), select: w => w.Count()
              Where: b => (b.Price > 10)
                ShiftTime: 00:00:01
                  From: bids, time: b => b.DateTime, policy: Throw
            """ + "\n", before);
        Assert.Equal("""
            WindowAggregate: Tumbling(00:00:10), select: w => w.Count()
              ShiftTime: 00:00:01
                Where: b => (b.Price > 10)
                  From: bids, time: b => b.DateTime, policy: Throw
            """ + "\n", after);
    }

    [Fact]
    public void PredicatePushdown_WhereOverASharedSubPlan_LeavesThePlanAlone()
    {
        var shifted = Bids.ShiftTime(TimeSpan.FromSeconds(1));
        var query = shifted.Where(b => b.Price > 10).Union(shifted);

        var (before, after, changed) = Run(new PredicatePushdownPass(), query);

        Assert.False(changed);
        Assert.Equal(before, after);
    }

    [Fact]
    public void WhereSelectFusion_On_FusesTheChainIntoOnePipeline()
    {
        var query = Bids.Where(b => b.Price > 10).Select(b => new { b.Auction, b.Price }).Where(x => x.Auction > 5);

        var (_, after, changed) = Run(new WhereSelectFusionPass(fuse: true), query);

        Assert.True(changed);
        Assert.Equal("""
            Fused[Where > Select > Where]: b => (b.Price > 10) > b => new <anon>(Auction = b.Auction, Price = b.Price) > x => (x.Auction > 5)
              From: bids, time: b => b.DateTime, policy: Throw
            """ + "\n", after);
    }

    [Fact]
    public void WhereSelectFusion_Off_MakesOnePipelinePerOperator()
    {
        var query = Bids.Where(b => b.Price > 10).Select(b => new { b.Auction, b.Price }).Where(x => x.Auction > 5);

        var (before, after, changed) = Run(new WhereSelectFusionPass(fuse: false), query);

        Assert.True(changed); // each operator became a one-step pipeline, printed under its own name
        Assert.Equal(before, after);

        Assert.Equal("""
            Where: x => (x.Auction > 5)
              Select: b => new <anon>(Auction = b.Auction, Price = b.Price)
                Where: b => (b.Price > 10)
                  From: bids, time: b => b.DateTime, policy: Throw
            """ + "\n", after);
    }

    [Fact]
    public void WhereSelectFusion_SharedFilter_IsNotFusedIntoItsConsumers()
    {
        var cheap = Bids.Where(b => b.Price < 100);
        var query = cheap.Select(b => b.Auction).Union(cheap.Select(b => b.Bidder));

        var (_, after, _) = Run(new WhereSelectFusionPass(fuse: true), query);

        Assert.Equal("""
            Union
              Select: b => b.Auction
                Where: b => (b.Price < 100)
                  From: bids, time: b => b.DateTime, policy: Throw
              Select: b => b.Bidder
                (shared #3)
            """ + "\n", after);
    }

    // ---- Aggregate recognition -----------------------------------------------------------------------------------------

    private static (string[] Columns, string? BufferReason) Recognise<TResult>(Expression<Func<IWindowGroup<long, Bid>, TResult>> selector)
    {
        var plan = AggregatePlans.Plan<Bid, long, TResult>(selector, strict: false);
        return ([.. plan.Columns.Select(c => c.GetType().Name.Split('`')[0])], plan.BufferReason);
    }

    public sealed class Spread : IAggregate<long, (long Min, long Max), long>
    {
        public (long Min, long Max) Initial() => (long.MaxValue, long.MinValue);

        public (long Min, long Max) Add((long Min, long Max) state, long input) => (Math.Min(state.Min, input), Math.Max(state.Max, input));

        public long Result((long Min, long Max) state) => state.Max - state.Min;
    }

    private static void AssertColumns<TResult>(Expression<Func<IWindowGroup<long, Bid>, TResult>> selector, params string[] columns)
    {
        var (actual, buffer) = Recognise(selector);
        Assert.True(buffer is null, $"'{selector}' buffers: {buffer}");
        Assert.True(columns.SequenceEqual(actual), $"'{selector}' gave [{string.Join(", ", actual)}], expected [{string.Join(", ", columns)}]");
    }

    [Fact]
    public void Aggregates_EachBuiltInShape_IsRecognisedAsItsIncrementalColumn()
    {
        AssertColumns(g => g.Count(), "CountColumn");
        AssertColumns(g => g.LongCount(), "CountColumn");
        AssertColumns(g => g.Count(b => b.Price < 10), "CountColumn");
        AssertColumns(g => g.Sum(b => b.Price), "IntegerSumColumn");
        AssertColumns(g => g.Min(b => b.Price), "MinMaxColumn");
        AssertColumns(g => g.Max(b => b.Price), "MinMaxColumn");
        AssertColumns(g => g.Average(b => b.Price), "IntegerSumColumn"); // the column keeps the count too
        AssertColumns(g => g.Any(b => b.Price > 100), "CountColumn");
        AssertColumns(g => g.All(b => b.Price > 0), "CountColumn");
        AssertColumns(g => g.Select(b => b.Bidder).Distinct().Count(), "DistinctCountColumn");
        AssertColumns(g => g.OrderByDescending(b => b.Price).Take(3), "TopKColumn");
        AssertColumns(g => g.Aggregate(0L, (acc, b) => acc ^ b.Bidder), "FoldColumn");
        AssertColumns(g => g.Where(b => b.Price > 5).Sum(b => b.Price), "IntegerSumColumn");
        AssertColumns(g => new { g.Key, N = g.Count(), Top = g.Max(b => b.Price) }, "CountColumn", "MinMaxColumn");
    }

    [Fact]
    public void Aggregates_UserAggregate_IsItsOwnColumn()
    {
        AssertColumns(g => g.Select(b => b.Price).Aggregate(new Spread()), "UserAggregateColumn");
    }

    [Fact]
    public void Aggregates_GroupUsedWithoutAnIncrementalForm_BuffersAndSaysWhy()
    {
        var (columns, buffer) = Recognise(g => g.Select(b => b.Price).ToList().Count);

        Assert.NotNull(buffer);
        Assert.Contains("ToList", buffer, StringComparison.Ordinal);
        Assert.Equal(["BufferColumn"], columns);
    }
}
