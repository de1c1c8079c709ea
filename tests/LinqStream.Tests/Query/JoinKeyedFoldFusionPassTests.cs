using LinqStream.Query.Optimization;
using LinqStream.Query.Translation;

namespace LinqStream.Tests.Query;

/// <summary>
/// The pass <see cref="JoinKeyedFoldFusionPass"/> (issue #19): the keyed fold that <see cref="ExpiryJoinToKeyedFoldPass"/> made,
/// its chain and its join become one <c>JoinKeyedFold</c> node (printed before/after), and only when <c>Fuse</c> is on. Its answers
/// are compared with the three separate operators on random input in <c>KeyedFoldTests</c> (conformance).
/// </summary>
public sealed class JoinKeyedFoldFusionPassTests
{
    private static (string Before, string After, bool Changed) Run<T>(IQStream<T> query, QueryOptions options)
    {
        var plan = new ExpiryJoinToKeyedFoldPass(options).Run(new QueryTranslator().Translate(query.Expression));
        var after = new JoinKeyedFoldFusionPass(options).Run(plan);
        return (ExpiryJoinToKeyedFoldPassTests.Print(plan), ExpiryJoinToKeyedFoldPassTests.Print(after), !ReferenceEquals(plan, after));
    }

    [Fact]
    public void KeyedFoldOverItsChainAndJoin_BecomesOneJoinKeyedFold()
    {
        var (before, after, changed) = Run(ExpiryJoinToKeyedFoldPassTests.Q9(), QueryOptions.Default);

        Assert.True(changed);
        Assert.StartsWith("KeyedFold:", before, StringComparison.Ordinal);
        Assert.Equal("""
            JoinKeyedFold: a => a.Id == b => b.Auction, pair: (a, b) => new Closing`1((a.Expires.Ticks - 1), new JoinPair`2(a, b)), Where(c => ((c.Value.Right.DateTime >= c.Value.Left.DateTime) AndAlso (c.Value.Right.Price >= c.Value.Left.Reserve))), Select(c => new Closing`1(c.Close, new Winner(c.Value.Left.Id, c.Value.Left.Category, c.Value.Right.Bidder, c.Value.Right.Price, c.Value.Right.DateTime.Ticks))), per close and key c => c.Value.Auction, Aggregate(BestBid, x => x), select: (key, windowStart, windowEnd, aggregate) => aggregate
              From: closes, time: a => ((a.Expires.Ticks - 1) - 200000000), end: a => ((a.Expires.Ticks - 1) + 1), policy: Reorder(00:00:10, late: Drop)
              From: bids, time: b => b.DateTime, policy: Throw
            """ + "\n", after);
    }

    [Fact]
    public void FuseOff_IsLeftAlone() =>
        Assert.False(Run(ExpiryJoinToKeyedFoldPassTests.Q9(), QueryOptions.Default with { Fuse = false }).Changed);

    [Fact]
    public void JoinNotRewrittenToAFold_IsLeftAlone() =>
        Assert.False(Run(ExpiryJoinToKeyedFoldPassTests.Q9(), QueryOptions.Default with { RewriteSubPlans = false }).Changed);

    [Fact]
    public void Explain_SaysTheFusionApplied_AndShowsTheFusedOperator()
    {
        string explained = ExpiryJoinToKeyedFoldPassTests.Q9().Explain();

        Assert.Contains("JoinKeyedFoldFusion: applied", explained, StringComparison.Ordinal);
        string physical = explained[explained.IndexOf("Physical plan:", StringComparison.Ordinal)..];
        Assert.Contains("JoinKeyedFold:", physical, StringComparison.Ordinal);
        Assert.DoesNotContain("Join:", physical, StringComparison.Ordinal);
        Assert.DoesNotContain("\n  KeyedFold:", physical, StringComparison.Ordinal);
    }
}
