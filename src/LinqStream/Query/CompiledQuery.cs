using System.Text;
using LinqStream.Runtime;

namespace LinqStream.Query;

/// <summary>A translated query, ready to run: its physical plan and how it got there.</summary>
internal sealed class CompiledQuery<T>
{
    private string? _logicalPlan;
    private string? _optimizedPlan;

    public required PhysicalStream<T> Root { get; init; }

    public required QueryOptions Options { get; init; }

    /// <summary>Gets the logical plan (translation's output).</summary>
    public required Plan.PlanNode Logical { get; init; }

    /// <summary>Gets the logical plan after the passes.</summary>
    public required Plan.PlanNode Optimized { get; init; }

    /// <summary>Gets the logical plan as text, printed on first read (issue #19: printing every lambda cost each compile, cache hits included).</summary>
    public string LogicalPlan => _logicalPlan ??= Plan.PlanPrinter.Print(Logical);

    /// <summary>Gets the optimized logical plan as text, printed on first read.</summary>
    public string OptimizedPlan => _optimizedPlan ??= Plan.PlanPrinter.Print(Optimized);

    public required IReadOnlyList<string> Log { get; init; }

    /// <summary>Gets which parts run on several tasks (<see cref="QueryOptions.Parallelism"/>); the physical plan itself does not depend on it.</summary>
    public required Parallel.ParallelPlan Parallel { get; init; }

    /// <summary>Gets the physical plan as text (checkpoints fingerprint it).</summary>
    public string PhysicalPlan => PrintPhysical(Root);

    public string Explain()
    {
        var text = new StringBuilder();
        text.AppendLine("Logical plan:").Append(Indent(LogicalPlan));
        text.AppendLine("Passes:");
        foreach (var line in Log)
        {
            text.Append("  ").AppendLine(line);
        }

        text.AppendLine("Physical plan:").Append(Indent(PrintPhysical(Root)));
        text.Append(Parallel.Description.TrimEnd()).AppendLine();
        return text.ToString();
    }

    private static string Indent(string text) => string.Concat(text.Split('\n').Where(l => l.Length > 0).Select(l => "  " + l + "\n"));

    private static string PrintPhysical(PhysicalNode root)
    {
        var text = new StringBuilder();
        var seen = new Dictionary<PhysicalNode, int>(ReferenceEqualityComparer.Instance);
        Print(root, 0);
        return text.ToString();

        void Print(PhysicalNode node, int depth)
        {
            text.Append(' ', depth * 2);
            if (seen.TryGetValue(node, out int id))
            {
                // A shared sub-plan runs once; its other consumers only refer to it.
                text.Append("(shared #").Append(id).Append(": ").Append(node.Name).AppendLine(")");
                return;
            }

            seen[node] = seen.Count + 1;
            text.Append(node.Name);
            if (node.Detail.Length > 0)
            {
                text.Append(": ").Append(node.Detail);
            }

            text.AppendLine();
            foreach (var input in node.Inputs)
            {
                Print(input, depth + 1);
            }
        }
    }
}
