namespace LinqStream.Plan;

/// <summary>Graph facts about a plan.</summary>
internal static class PlanGraph
{
    public static Dictionary<PlanNode, int> CountParents(PlanNode root)
    {
        var parents = new Dictionary<PlanNode, int>(ReferenceEqualityComparer.Instance) { [root] = 1 };
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

            foreach (var child in node.Children)
            {
                parents[child] = parents.GetValueOrDefault(child) + 1;
                stack.Push(child);
            }
        }

        return parents;
    }
}
