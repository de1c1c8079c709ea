using LinqStream.Plan;

namespace LinqStream.Query.Optimization;

/// <summary>Runs the plan passes in order. The list is the whole optimizer.</summary>
internal sealed class QueryOptimizer
{
    public static PlanNode Process(PlanNode plan, QueryOptions options, List<string> log)
    {
        PlanPass[] passes =
        [
            new PredicatePushdownPass(),            // filters below windows, lifetimes, unions and joins
            new WhereSelectFusionPass(options.Fuse), // Where/Select chains into one kernel
        ];
        foreach (var pass in passes)
        {
            var next = pass.Run(plan);
            log.Add(ReferenceEquals(next, plan) ? $"{pass.Name}: no change" : $"{pass.Name}: applied");
            plan = next;
        }

        return plan;
    }
}
