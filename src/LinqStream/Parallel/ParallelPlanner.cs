using System.Globalization;
using System.Text;
using LinqStream.Physical.Windows;
using LinqStream.Runtime;

namespace LinqStream.Parallel;

/// <summary>Which parts of a physical plan run on several tasks, and the text <c>Explain()</c> shows for it.</summary>
internal sealed record ParallelPlan(IReadOnlySet<PhysicalNode>? Nodes, int Parallelism, string Description)
{
    public static ParallelPlan Sequential { get; } = new(null, 1, "Parallelism: 1 (one task; set QueryOptions.Parallelism to use more)");
}

/// <summary>
/// Cuts the physical plan into stages at each keyed window aggregate whose input belongs to it alone: the input runs on a
/// source task, the aggregate on P tasks behind a hash exchange by key group, the rest behind an order-restoring merge.
/// </summary>
/// <remarks>
/// The sequential plan is left as it is (the checkpoint fingerprint is taken from it, so it does not depend on P); the
/// cut is a set of nodes the run looks up when it wires them. A query with no such aggregate runs on one task, with the reason.
/// </remarks>
internal static class ParallelPlanner
{
    public static ParallelPlan Plan(PhysicalNode root, QueryOptions options)
    {
        if (options.Parallelism == 1)
        {
            return ParallelPlan.Sequential;
        }

        int parallelism = Math.Min(options.Parallelism, options.KeyGroups);
        var parents = CountParents(root);
        var chosen = new List<PhysicalNode>();
        string? reason = null;
        foreach (var node in parents.Keys)
        {
            if (node is not IKeyedAggregateNode { KeyDescription: not null })
            {
                continue;
            }

            var below = Descendants(node);
            if (below.Any(n => n is IKeyedAggregateNode { KeyDescription: not null }))
            {
                continue; // split the lowest keyed aggregate: most events flow there
            }

            if (below.Any(n => parents[n].Any(p => p != node && !below.Contains(p))))
            {
                reason ??= Internal.Strings.ParallelSharedInput(options.Parallelism, node.Name);
                continue;
            }

            chosen.Add(node);
        }

        if (chosen.Count == 0)
        {
            return ParallelPlan.Sequential with
            {
                Description = "Parallelism: 1. " + (reason ?? Internal.Strings.ParallelNoKeyedAggregate(options.Parallelism)),
            };
        }

        return new ParallelPlan(new HashSet<PhysicalNode>(chosen, ReferenceEqualityComparer.Instance), parallelism, Describe(chosen, parallelism, options));
    }

    private static string Describe(List<PhysicalNode> chosen, int parallelism, QueryOptions options)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"Parallelism: {parallelism} tasks per keyed stage, {options.KeyGroups} key groups");
        if (parallelism < options.Parallelism)
        {
            text.Append(CultureInfo.InvariantCulture, $" (Parallelism {options.Parallelism} is more than the key groups)");
        }

        text.AppendLine();
        foreach (var node in chosen)
        {
            var keyed = (IKeyedAggregateNode)node;
            var ranges = Enumerable.Range(0, parallelism).Select(t => KeyGroups.RangeOf(t, options.KeyGroups, parallelism)).Select(r => $"[{r.First},{r.End})");
            text.Append(CultureInfo.InvariantCulture, $"  Stage: 1 task: {string.Join(" + ", Descendants(node).Where(n => n.Inputs.Count == 0).Select(n => n.Name).Distinct())} and the operators above them").AppendLine();
            text.Append(CultureInfo.InvariantCulture, $"  Exchange: hash by key group of '{keyed.KeyDescription}' (stable XxHash3 of the key)").AppendLine();
            text.Append(CultureInfo.InvariantCulture, $"  Stage: {parallelism} tasks: {node.Name}, key groups {string.Join(" ", ranges)}").AppendLine();
            text.Append("  Exchange: order-restoring merge (by start, then key hash), then the rest of the plan on the query's thread").AppendLine();
        }

        return text.ToString();
    }

    private static Dictionary<PhysicalNode, List<PhysicalNode>> CountParents(PhysicalNode root)
    {
        var parents = new Dictionary<PhysicalNode, List<PhysicalNode>>(ReferenceEqualityComparer.Instance) { [root] = [] };
        var stack = new Stack<PhysicalNode>([root]);
        var seen = new HashSet<PhysicalNode>(ReferenceEqualityComparer.Instance) { root };
        while (stack.Count > 0)
        {
            var node = stack.Pop();
            foreach (var input in node.Inputs)
            {
                if (!parents.TryGetValue(input, out var list))
                {
                    parents[input] = list = [];
                }

                list.Add(node);
                if (seen.Add(input))
                {
                    stack.Push(input);
                }
            }
        }

        return parents;
    }

    private static HashSet<PhysicalNode> Descendants(PhysicalNode node)
    {
        var seen = new HashSet<PhysicalNode>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<PhysicalNode>(node.Inputs);
        while (stack.Count > 0)
        {
            var next = stack.Pop();
            if (seen.Add(next))
            {
                foreach (var input in next.Inputs)
                {
                    stack.Push(input);
                }
            }
        }

        return seen;
    }
}

/// <summary>A window aggregate that may run split by key (<see cref="WindowAggregateStream{T, TKey, TResult}"/>).</summary>
internal interface IKeyedAggregateNode
{
    /// <summary>Gets the key selector's text, or null when the aggregate has no key (then it cannot be split).</summary>
    string? KeyDescription { get; }
}
