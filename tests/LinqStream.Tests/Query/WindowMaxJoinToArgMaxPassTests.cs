using LinqStream.Plan;
using LinqStream.Query.Optimization;
using LinqStream.Query.Translation;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Tests.Query;

/// <summary>
/// The pass <see cref="WindowMaxJoinToArgMaxPass"/> (issue #19): which plans it rewrites (the q7 and q5 shapes, with a printed
/// before/after), and every near miss it must leave alone because the arg-max would not give the join's answer. The answers of
/// both plans are compared on random input in <c>WindowArgMaxTests</c> (conformance).
/// </summary>
public sealed class WindowMaxJoinToArgMaxPassTests
{
    private static readonly TimeSpan Size = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Hop = TimeSpan.FromSeconds(2);
    private static readonly Bid[] NoBids = [];

    private static IQStream<Bid> Bids => QStream.From(NoBids, b => b.DateTime, name: "bids");

    public readonly record struct WindowPrice(long WindowStart, long MaxPrice);

    public readonly record struct WindowTotal(long WindowStart, long Total);

    /// <summary>A record whose property does not keep its constructor argument: the pass cannot see it; the operator's check does.</summary>
    public sealed record LyingPrice(long WindowStart, long MaxPrice)
    {
        public long MaxPrice { get; } = MaxPrice + 1;
    }

    private static (string Before, string After, bool Changed) Run<T>(IQStream<T> query, QueryOptions? options = null)
    {
        var plan = new QueryTranslator().Translate(query.Expression);
        var after = new WindowMaxJoinToArgMaxPass(options ?? QueryOptions.Default).Run(plan);
        return (Print(plan), Print(after), !ReferenceEquals(plan, after));
    }

    private static string Print(PlanNode plan) =>
        System.Text.RegularExpressions.Regex.Replace(PlanPrinter.Print(plan), @"<>f__AnonymousType\d+`\d+", "<anon>").ReplaceLineEndings("\n");

    private static IQStream<HighestBid> Q7(IQStream<Bid> bids)
    {
        var maxima = bids.TumblingWindow(Size).Select(w => new WindowPrice(w.Window.StartTicks, w.Max(b => b.Price)));
        return from b in bids.TumblingWindow(Size)
               join m in maxima on b.Price equals m.MaxPrice
               select new HighestBid(b.Auction, b.Price, m.WindowStart);
    }

    public readonly record struct HighestBid(long Auction, long Price, long WindowStart);

    [Fact]
    public void ValueJoinOnTheWindowMaximum_BecomesOneWindowArgMax()
    {
        var (before, after, changed) = Run(Q7(Bids));

        Assert.True(changed);
        Assert.Equal("""
            Join: b => b.Price == m => m.MaxPrice, select: (b, m) => new HighestBid(b.Auction, b.Price, m.WindowStart)
              Window: Tumbling(00:00:10)
                From: bids, time: b => b.DateTime, policy: Throw
              WindowAggregate: Tumbling(00:00:10), select: w => new WindowPrice(w.Window.StartTicks, w.Max(b => b.Price))
                (shared #3)
            """ + "\n", before);
        Assert.Equal("""
            WindowArgMax: Tumbling(00:00:10), max of b => b.Price, row: (windowStart, windowEnd, max) => new WindowPrice(new WindowBounds(windowStart, windowEnd).StartTicks, Convert(max, Int64)), select: (b, m) => new HighestBid(b.Auction, b.Price, m.WindowStart)
              Window: Tumbling(00:00:10)
                From: bids, time: b => b.DateTime, policy: Throw
            """ + "\n", after);
    }

    [Fact]
    public void WindowStartJoinFilteredToTheMaximumCount_KeepsTheFilterOverOneWindowArgMax()
    {
        var counts =
            from b in Bids.HoppingWindow(Size, Hop)
            group b by b.Auction into g
            select new { Auction = g.Key, Count = g.Count(), Start = g.Window.StartTicks };
        var maxima = counts.TumblingWindow(Hop).Select(w => new { Start = w.Window.StartTicks, Max = w.Max(c => c.Count) });
        var query =
            from c in counts
            join m in maxima on c.Start equals m.Start
            where c.Count == m.Max
            select new { c.Auction, c.Count };

        var (_, after, changed) = Run(query);

        Assert.True(changed);
        Assert.Equal("""
            Select: <>h__TransparentIdentifier0 => new <anon>(Auction = <>h__TransparentIdentifier0.c.Auction, Count = <>h__TransparentIdentifier0.c.Count)
              Where: <>h__TransparentIdentifier0 => (<>h__TransparentIdentifier0.c.Count == <>h__TransparentIdentifier0.m.Max)
                WindowArgMax: Tumbling(00:00:02), max of c => c.Count, row: (windowStart, windowEnd, max) => new <anon>(Start = new WindowBounds(windowStart, windowEnd).StartTicks, Max = Convert(max, Int32)), select: (c, m) => new <anon>(c = c, m = m)
                  WindowAggregate: Hopping(size: 00:00:10, hop: 00:00:02), key: b => b.Auction, select: g => new <anon>(Auction = g.Key, Count = g.Count(), Start = g.Window.StartTicks)
                    From: bids, time: b => b.DateTime, policy: Throw
            """ + "\n", after);
    }

    [Fact]
    public void WindowMin_IsNotRewritten()
    {
        var minima = Bids.TumblingWindow(Size).Select(w => new WindowPrice(w.Window.StartTicks, w.Min(b => b.Price)));
        var query = from b in Bids.TumblingWindow(Size) join m in minima on b.Price equals m.MaxPrice select b;
        Assert.False(Run(query).Changed);
    }

    [Fact]
    public void FilteredMax_IsNotRewritten()
    {
        var bids = Bids;
        var maxima = bids.TumblingWindow(Size).Select(w => new WindowPrice(w.Window.StartTicks, w.Where(b => b.Bidder > 5).Max(b => b.Price)));
        var query = from b in bids.TumblingWindow(Size) join m in maxima on b.Price equals m.MaxPrice select b;
        Assert.False(Run(query).Changed);
    }

    [Fact]
    public void MaxWithASecondAggregate_IsNotRewritten()
    {
        var bids = Bids;
        var maxima = bids.TumblingWindow(Size).Select(w => new { Max = w.Max(b => b.Price), Count = w.Count() });
        var query = from b in bids.TumblingWindow(Size) join m in maxima on b.Price equals m.Max select b;
        Assert.False(Run(query).Changed);
    }

    [Fact]
    public void LeftWindowOfAnotherSize_IsNotRewritten()
    {
        var bids = Bids;
        var maxima = bids.TumblingWindow(Size).Select(w => new WindowPrice(w.Window.StartTicks, w.Max(b => b.Price)));
        var query = from b in bids.TumblingWindow(Hop) join m in maxima on b.Price equals m.MaxPrice select b;
        Assert.False(Run(query).Changed);
    }

    [Fact]
    public void HoppingLeftWindow_IsNotRewritten()
    {
        var bids = Bids;
        var maxima = bids.HoppingWindow(Size, Hop).Select(w => new WindowPrice(w.Window.StartTicks, w.Max(b => b.Price)));
        var query = from b in bids.HoppingWindow(Size, Hop) join m in maxima on b.Price equals m.MaxPrice select b;
        Assert.False(Run(query).Changed);
    }

    [Fact]
    public void MaxOfAnotherSource_IsNotRewritten()
    {
        var maxima = Bids.TumblingWindow(Size).Select(w => new WindowPrice(w.Window.StartTicks, w.Max(b => b.Price)));
        var query = from b in Bids.Where(b => b.Bidder > 5).TumblingWindow(Size) join m in maxima on b.Price equals m.MaxPrice select b;
        Assert.False(Run(query).Changed);
    }

    [Fact]
    public void JoinOnAnotherValueThanTheMaximum_IsNotRewritten()
    {
        var bids = Bids;
        var maxima = bids.TumblingWindow(Size).Select(w => new WindowPrice(w.Window.StartTicks, w.Max(b => b.Price)));
        var query = from b in bids.TumblingWindow(Size) join m in maxima on b.Bidder equals m.MaxPrice select b;
        Assert.False(Run(query).Changed);
    }

    [Fact]
    public void JoinOnTheWindowStartInsteadOfTheMaximum_IsNotRewritten()
    {
        var bids = Bids;
        var maxima = bids.TumblingWindow(Size).Select(w => new WindowPrice(w.Window.StartTicks, w.Max(b => b.Price)));
        var query = from b in bids.TumblingWindow(Size) join m in maxima on b.Price equals m.WindowStart select b;
        Assert.False(Run(query).Changed);
    }

    [Fact]
    public void FloatingPointMaximum_IsNotRewritten()
    {
        var bids = Bids;
        var maxima = bids.TumblingWindow(Size).Select(w => new { Max = w.Max(b => (double)b.Price) });
        var query = from b in bids.TumblingWindow(Size) join m in maxima on (double)b.Price equals m.Max select b;
        Assert.False(Run(query).Changed);
    }

    [Fact]
    public void NarrowingConversionOfTheMaximum_IsNotRewritten()
    {
        var bids = Bids;
        var maxima = bids.TumblingWindow(Size).Select(w => new { Max = (int)w.Max(b => b.Price) });
        var query = from b in bids.TumblingWindow(Size) join m in maxima on (int)b.Price equals m.Max select b;
        Assert.False(Run(query).Changed);
    }

    [Fact]
    public void WindowStartJoinFilteredByAnInequality_IsNotRewritten()
    {
        var counts = from b in Bids.HoppingWindow(Size, Hop) group b by b.Auction into g select new { Count = g.Count(), Start = g.Window.StartTicks };
        var maxima = counts.TumblingWindow(Hop).Select(w => new { Start = w.Window.StartTicks, Max = w.Max(c => c.Count) });
        var query = from c in counts join m in maxima on c.Start equals m.Start where c.Count >= m.Max - 1 select c;
        Assert.False(Run(query).Changed);
    }

    [Fact]
    public void WindowStartJoinWithMaximaOverAnotherHop_IsNotRewritten()
    {
        var counts = from b in Bids.HoppingWindow(Size, Hop) group b by b.Auction into g select new { Count = g.Count(), Start = g.Window.StartTicks };
        var maxima = counts.TumblingWindow(Size).Select(w => new { Start = w.Window.StartTicks, Max = w.Max(c => c.Count) });
        var query = from c in counts join m in maxima on c.Start equals m.Start where c.Count == m.Max select c;
        Assert.False(Run(query).Changed);
    }

    [Fact]
    public void WindowStartJoinOnTheWindowEnd_IsNotRewritten()
    {
        var counts = from b in Bids.HoppingWindow(Size, Hop) group b by b.Auction into g select new { Count = g.Count(), End = g.Window.EndTicks };
        var maxima = counts.TumblingWindow(Hop).Select(w => new { Start = w.Window.StartTicks, Max = w.Max(c => c.Count) });
        var query = from c in counts join m in maxima on c.End equals m.Start where c.Count == m.Max select c;
        Assert.False(Run(query).Changed);
    }

    [Fact]
    public void SkipAndDeadLetterPolicy_TurnsThePassOff()
    {
        var options = new QueryOptions { OnError = ErrorPolicy.SkipAndDeadLetter };
        Assert.False(Run(Q7(Bids), options).Changed);
        Assert.Equal("WindowMaxJoinToArgMax (off)", new WindowMaxJoinToArgMaxPass(options).Name);
    }

    [Fact]
    public void RewriteSubPlansOff_TurnsThePassOff() =>
        Assert.False(Run(Q7(Bids), new QueryOptions { RewriteSubPlans = false }).Changed);

    [Fact]
    public void Explain_NamesThePassAndTheOperator()
    {
        var bids = QStream.From(new[] { new Bid { Auction = 1, Price = 5, DateTime = DateTime.UnixEpoch } }, b => b.DateTime);
        string explained = Q7(bids).Explain();
        Assert.Contains("WindowMaxJoinToArgMax: applied", explained, StringComparison.Ordinal);
        Assert.Contains("  WindowArgMax: Tumbling(00:00:10)", explained[explained.IndexOf("Physical plan:", StringComparison.Ordinal)..], StringComparison.Ordinal);
    }

    [Fact]
    public async Task RecordWhosePropertyDiffersFromItsArgument_StopsTheQueryWithTheRewritesError()
    {
        var bids = QStream.From(new[] { new Bid { Auction = 1, Price = 5, DateTime = DateTime.UnixEpoch } }, b => b.DateTime);
        var maxima = bids.TumblingWindow(Size).Select(w => new LyingPrice(w.Window.StartTicks, w.Max(b => b.Price)));
        var query = from b in bids.TumblingWindow(Size) join m in maxima on b.Price equals m.MaxPrice select b.Auction;

        Assert.Contains("WindowMaxJoinToArgMax: applied", query.Explain(), StringComparison.Ordinal);
        var error = await Assert.ThrowsAnyAsync<Exception>(() => query.ToListAsync());
        Assert.Contains("WindowMaxJoinToArgMax", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("'b => b.Price' differs from 'm => m.MaxPrice'", error.ToString(), StringComparison.Ordinal);
        Assert.Empty(await query.WithOptions(new QueryOptions { RewriteSubPlans = false }).ToListAsync());
    }
}
