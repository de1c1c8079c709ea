namespace LinqStream.Conformance.Tests.Infrastructure;

/// <summary>A section of <c>Explain()</c> (logical or physical plan) parsed back into a tree by indentation.</summary>
public sealed class PlanTree
{
    private PlanTree(string name, string detail, int depth)
    {
        Name = name;
        Detail = detail;
        Depth = depth;
    }

    /// <summary>Gets the operator, e.g. <c>Join</c>, <c>Fused[Where &gt; Select]</c>, <c>From</c> or <c>(shared #2)</c>.</summary>
    public string Name { get; }

    /// <summary>Gets the text after the operator's colon (lambdas, sizes), or empty.</summary>
    public string Detail { get; }

    public int Depth { get; }

    public List<PlanTree> Children { get; } = [];

    public static PlanTree Logical(string explain) => Parse(explain, "Logical plan:");

    public static PlanTree Physical(string explain) => Parse(explain, "Physical plan:");

    /// <summary>Every node of the tree, parents before children.</summary>
    public IEnumerable<PlanTree> Descendants()
    {
        yield return this;
        foreach (var child in Children)
        {
            foreach (var node in child.Descendants())
            {
                yield return node;
            }
        }
    }

    public PlanTree Single(string name) => Assert.Single(Descendants(), n => n.Name == name);

    public override string ToString() => Detail.Length == 0 ? Name : $"{Name}: {Detail}";

    private static PlanTree Parse(string explain, string header)
    {
        var lines = explain.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        int first = lines.IndexOf(header);
        Assert.True(first >= 0, $"'{header}' not found in:\n{explain}");
        var stack = new Stack<PlanTree>();
        PlanTree? root = null;
        foreach (var line in lines.Skip(first + 1))
        {
            if (line.Length == 0 || !line.StartsWith("  ", StringComparison.Ordinal))
            {
                break; // the next section
            }

            int depth = (line.Length - line.TrimStart(' ').Length) / 2 - 1;
            var text = line.Trim();
            int colon = text.IndexOf(": ", StringComparison.Ordinal);
            var node = colon < 0 ? new PlanTree(text, string.Empty, depth) : new PlanTree(text[..colon], text[(colon + 2)..], depth);
            while (stack.Count > 0 && stack.Peek().Depth >= depth)
            {
                stack.Pop();
            }

            if (stack.Count == 0)
            {
                root = node;
            }
            else
            {
                stack.Peek().Children.Add(node);
            }

            stack.Push(node);
        }

        return root ?? throw new InvalidOperationException($"'{header}' has no plan in:\n{explain}");
    }
}
