namespace LinqStream.Plan;

/// <summary>Graph facts about a plan.</summary>
internal static class PlanGraph
{
    public static Dictionary<PlanNode, int> CountParents(PlanNode root)
    {
        var parents = new Dictionary<PlanNode, int>(ReferenceEqualityComparer.Instance) { [root] = 1 };
        foreach (var node in Nodes(root))
        {
            foreach (var child in node.Children)
            {
                parents[child] = parents.GetValueOrDefault(child) + 1;
            }
        }

        return parents;
    }

    /// <summary>Every node of <paramref name="root"/>'s plan once (a node shared by several parents too), depth first.</summary>
    public static IEnumerable<PlanNode> Nodes(PlanNode root)
    {
        var visited = new HashSet<PlanNode>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<PlanNode>();
        stack.Push(root);
        while (stack.Count > 0)
        {
            var node = stack.Pop();
            if (!visited.Add(node))
            {
                continue;
            }

            yield return node;
            foreach (var child in node.Children)
            {
                stack.Push(child);
            }
        }
    }
}
