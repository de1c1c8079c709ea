namespace LinqStream.Conformance.Tests.Infrastructure;

/// <summary>Checks a plan rewrite against the plan it replaces: the same events in the same order, and the model's events.</summary>
public static class RewriteAssert
{
    /// <summary>
    /// Runs <paramref name="query"/> with the rewrites on and off (<see cref="QueryOptions.RewriteSubPlans"/>) at
    /// <paramref name="batchSize"/>: <paramref name="rewrite"/> says "applied" in the first plan, <paramref name="rewrittenPlan"/>
    /// checks its physical plan and <paramref name="unrewrittenPlan"/> the other's whole explanation (the rewrite really fired in one
    /// and not in the other); both runs give the same events in the same order, and those equal <paramref name="expected"/> (at least
    /// <paramref name="minimumResults"/> of them, so the data set means something).
    /// </summary>
    public static async Task BothPlans<T>(
        Func<QueryOptions, IQStream<T>> query,
        int batchSize,
        List<StreamEvent<T>> expected,
        int minimumResults,
        string rewrite,
        Action<string> rewrittenPlan,
        Action<string> unrewrittenPlan)
    {
        var rewritten = new QueryOptions { Strict = true, BatchSize = batchSize };
        var unrewritten = rewritten with { RewriteSubPlans = false };
        string explained = query(rewritten).Explain();
        Assert.Contains(rewrite + ": applied", explained, StringComparison.Ordinal);
        rewrittenPlan(PhysicalPart(explained));
        unrewrittenPlan(query(unrewritten).Explain());

        var before = await Run.EventsInStartOrder(query(unrewritten));
        var after = await Run.EventsInStartOrder(query(rewritten));
        Assert.True(expected.Count >= minimumResults, $"the data set should give several results ({expected.Count})");
        Run.AssertSequence(before, after);
        Run.AssertEquivalent(expected, after);
    }

    /// <summary>The physical plan's part of an <c>Explain()</c> text.</summary>
    public static string PhysicalPart(string explained) => explained[explained.IndexOf("Physical plan:", StringComparison.Ordinal)..];
}
