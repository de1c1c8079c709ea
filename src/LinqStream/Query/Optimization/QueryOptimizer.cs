using LinqStream.Plan;

namespace LinqStream.Query.Optimization;

/// <summary>Runs the logical plan passes in order. The list is the whole optimizer.</summary>
internal static class QueryOptimizer
{
    /// <summary>Gets the passes, in the order they run, for <paramref name="options"/>.</summary>
    /// <param name="options">The query's options.</param>
    /// <param name="keyedStateOffHeap">Whether the plan runs in a job whose keyed state is off the heap (<c>JobOptions.State</c>): no pass may then move state the unfused plan spills onto the heap.</param>
    public static IReadOnlyList<PlanPass> Passes(QueryOptions options, bool keyedStateOffHeap = false) =>
    [
        new PredicatePushdownPass(),             // filters below windows, lifetimes, unions and joins
        new WindowMaxJoinToArgMaxPass(options),  // a per-window Max joined back to its input on the maximum → one arg-max operator
        new ExpiryJoinToKeyedFoldPass(options),  // closes joined with what they close, then a one-tick window per key → one fold per open key
        new JoinKeyedFoldFusionPass(options, keyedStateOffHeap), // that fold, its chain and its join → one operator, the group cached in the live close
        new TumblingJoinToWindowJoinPass(options), // a join of two inputs in the same tumbling window → joined once per window (after the passes that remove such joins)
        new WhereSelectFusionPass(options.Fuse), // Where/Select chains into one kernel
    ];

    /// <summary>Runs every pass on <paramref name="plan"/>; each one's name and whether it changed the plan go to the context's log.</summary>
    public static PlanNode Process(PlanNode plan, QueryCompilationContext context)
    {
        foreach (var pass in Passes(context.Options, context.KeyedStateOffHeap))
        {
            var next = pass.Run(plan);
            context.Log.Add(
                !ReferenceEquals(next, plan) ? $"{pass.Name}: applied"
                : pass.Declined is { } why ? $"{pass.Name}: not applied ({why})"
                : $"{pass.Name}: no change");
            plan = next;
        }

        return plan;
    }
}
