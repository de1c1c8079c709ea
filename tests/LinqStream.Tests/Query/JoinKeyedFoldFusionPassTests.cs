using LinqStream.Physical.Kernels;
using LinqStream.Query;
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
    private static (string Before, string After, bool Changed) Run<T>(IQStream<T> query, QueryOptions options, bool keyedStateOffHeap = false)
    {
        var plan = new ExpiryJoinToKeyedFoldPass(options).Run(new QueryTranslator().Translate(query.Expression));
        var pass = new JoinKeyedFoldFusionPass(options, keyedStateOffHeap);
        var after = pass.Run(plan);
        Assert.Equal(keyedStateOffHeap && options.Fuse && options.RewriteSubPlans ? JoinKeyedFoldFusionPass.OffHeapReason : null, pass.Declined);
        return (ExpiryJoinToKeyedFoldPassTests.Print(plan), ExpiryJoinToKeyedFoldPassTests.Print(after), !ReferenceEquals(plan, after));
    }

    private static string PhysicalPart(string explained) => explained[explained.IndexOf("Physical plan:", StringComparison.Ordinal)..];

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

    [Fact]
    public void KeyedStateOffHeap_IsLeftAlone_AndTheDeclineSaysWhy()
    {
        Assert.False(Run(ExpiryJoinToKeyedFoldPassTests.Q9(), QueryOptions.Default, keyedStateOffHeap: true).Changed);
        Assert.False(Run(ExpiryJoinToKeyedFoldPassTests.Q9(), QueryOptions.Default with { Fuse = false }, keyedStateOffHeap: true).Changed);
        Assert.False(Run(ExpiryJoinToKeyedFoldPassTests.Q9(), QueryOptions.Default with { RewriteSubPlans = false }, keyedStateOffHeap: true).Changed);
    }

    [Fact]
    public void CompiledForKeyedStateOffHeap_KeepsTheJoinAndTheFold_AndExplainSaysWhyInOneLine()
    {
        string explained = QueryCompiler.Compile<ExpiryJoinToKeyedFoldPassTests.Winner>(ExpiryJoinToKeyedFoldPassTests.Q9().Expression, keyedStateOffHeap: true).Explain();

        string line = Assert.Single(explained.Split('\n'), l => l.Contains("JoinKeyedFoldFusion", StringComparison.Ordinal));
        Assert.Equal("  JoinKeyedFoldFusion: not applied (" + JoinKeyedFoldFusionPass.OffHeapReason + ")", line.TrimEnd('\r'));
        Assert.Contains("ExpiryJoinToKeyedFold: applied", explained, StringComparison.Ordinal);
        string physical = PhysicalPart(explained);
        Assert.DoesNotContain("JoinKeyedFold:", physical, StringComparison.Ordinal);
        Assert.Contains("\n  KeyedFold:", physical, StringComparison.Ordinal);
        Assert.Contains("Join", physical.Replace("KeyedFold", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public void CompiledForKeyedStateOffHeap_BypassesThePlanCache_InBothDirections()
    {
        // A heap plan in the cache must not serve a job on RocksDB, and the RocksDB plan must not be cached for the heap.
        var (kernels, plans) = (new KernelCompiler(new CompiledKernelCache(64)), new PlanCache(16));
        var expression = ExpiryJoinToKeyedFoldPassTests.Q9().Expression;

        var heap = QueryCompiler.Compile<ExpiryJoinToKeyedFoldPassTests.Winner>(expression, kernels, plans);
        var offHeap = QueryCompiler.Compile<ExpiryJoinToKeyedFoldPassTests.Winner>(expression, kernels, plans, keyedStateOffHeap: true);
        var heapAgain = QueryCompiler.Compile<ExpiryJoinToKeyedFoldPassTests.Winner>(expression, kernels, plans);

        Assert.Contains("JoinKeyedFold:", PhysicalPart(heap.Explain()), StringComparison.Ordinal);
        Assert.DoesNotContain("JoinKeyedFold:", PhysicalPart(offHeap.Explain()), StringComparison.Ordinal);
        Assert.Contains("JoinKeyedFold:", PhysicalPart(heapAgain.Explain()), StringComparison.Ordinal);
        Assert.Equal((1L, 1L, 1), (plans.Hits, plans.Misses, plans.Count));

        // The shared caches (what ToJob uses): warm with the heap's plan first.
        Assert.Contains("JoinKeyedFold:", PhysicalPart(QueryCompiler.Compile<ExpiryJoinToKeyedFoldPassTests.Winner>(expression).Explain()), StringComparison.Ordinal);
        Assert.DoesNotContain("JoinKeyedFold:", PhysicalPart(QueryCompiler.Compile<ExpiryJoinToKeyedFoldPassTests.Winner>(expression, keyedStateOffHeap: true).Explain()), StringComparison.Ordinal);
        Assert.Contains("JoinKeyedFold:", PhysicalPart(QueryCompiler.Compile<ExpiryJoinToKeyedFoldPassTests.Winner>(expression, keyedStateOffHeap: false).Explain()), StringComparison.Ordinal);
    }
}
