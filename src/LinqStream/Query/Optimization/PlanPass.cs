using LinqStream.Plan;

namespace LinqStream.Query.Optimization;

/// <summary>A pure plan → plan rewrite, applied bottom-up; a node shared by several parents is rewritten once.</summary>
internal abstract class PlanPass
{
    public abstract string Name { get; }

    /// <summary>
    /// Gets why the pass left alone a node it would have rewritten (a setting outside the plan forbade it), for the log line
    /// <c>Explain()</c> prints; null when nothing was declined in the last <see cref="Run"/>.
    /// </summary>
    public string? Declined { get; protected set; }

    public PlanNode Run(PlanNode root)
    {
        Declined = null;
        Parents = PlanGraph.CountParents(root);
        var memo = new Dictionary<PlanNode, PlanNode>(ReferenceEqualityComparer.Instance);
        return Visit(root, memo);
    }

    /// <summary>Gets how many parents each node of the input plan has (a shared node has more than one).</summary>
    protected Dictionary<PlanNode, int> Parents { get; private set; } = [];

    protected bool IsShared(PlanNode node) => Parents.TryGetValue(node, out int count) && count > 1;

    /// <summary>Rewrites one node whose children are already rewritten.</summary>
    protected abstract PlanNode Rewrite(PlanNode node);

    private PlanNode Visit(PlanNode node, Dictionary<PlanNode, PlanNode> memo)
    {
        if (memo.TryGetValue(node, out var done))
        {
            return done;
        }

        var children = node.Children;
        var rewritten = new PlanNode[children.Count];
        for (int i = 0; i < children.Count; i++)
        {
            rewritten[i] = Visit(children[i], memo);
        }

        var updated = node.Update(rewritten);
        if (!ReferenceEquals(updated, node) && Parents.TryGetValue(node, out int count))
        {
            Parents[updated] = count;
        }

        var result = Rewrite(updated);
        if (!ReferenceEquals(result, node) && Parents.TryGetValue(node, out int parents))
        {
            Parents[result] = parents;
        }

        memo[node] = result;
        return result;
    }
}

/// <summary>A pass that a query option turns on or off; its name says <c>(off)</c> when it is off.</summary>
internal abstract class OptionalPlanPass(string name, bool enabled) : PlanPass
{
    /// <summary>Gets a value indicating whether the option turned the pass on.</summary>
    protected bool Enabled { get; } = enabled;

    public override string Name => Enabled ? name : name + " (off)";
}
