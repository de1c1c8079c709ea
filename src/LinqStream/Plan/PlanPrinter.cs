using System.Text;

namespace LinqStream.Plan;

/// <summary>Prints a plan as an indented tree; a node used by several parents is printed once and referred to after.</summary>
internal static class PlanPrinter
{
    public static string Print(PlanNode root)
    {
        var text = new StringBuilder();
        var seen = new Dictionary<PlanNode, int>(ReferenceEqualityComparer.Instance);
        Print(root, 0, text, seen);
        return text.ToString();
    }

    private static void Print(PlanNode node, int depth, StringBuilder text, Dictionary<PlanNode, int> seen)
    {
        text.Append(' ', depth * 2);
        if (seen.TryGetValue(node, out int id))
        {
            text.Append("(shared #").Append(id).Append(')').AppendLine();
            return;
        }

        seen[node] = seen.Count + 1;
        text.Append(node.Name);
        if (node.Detail.Length > 0)
        {
            text.Append(": ").Append(node.Detail);
        }

        text.AppendLine();
        foreach (var child in node.Children)
        {
            Print(child, depth + 1, text, seen);
        }
    }
}
