using LinqStream.Plan;

namespace LinqStream.Query.Optimization;

/// <summary>A pure plan → plan rewrite, applied bottom-up; a node shared by several parents is rewritten once.</summary>
internal abstract class PlanPass
{
    public abstract string Name { get; }

    public PlanNode Run(PlanNode root)
    {
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
