import re, sys
root = sys.argv[1]
p = root + '/src/LinqStream/Query/QueryCompiler.cs'
s = open(p).read()
old = """        context.MembersRead = MembersRead.Of(plan.Optimized);                   //    what each source's events are read for (a JSON source decodes only that)
        foreach (var (source, members) in context.MembersRead)
        {
            if (Runtime.Ingress.EventSources.IsEventSource(source.Source))
            {
                context.Log.Add(MembersRead.Describe(source, members));
            }
        }
"""
new = """        if (MembersRead.HasEventSource(plan.Optimized))                         //    what each event source's events are read for (a JSON source decodes only
        {                                                                        //    that); only an EventSource<T> uses it, so other plans skip the analysis
            context.MembersRead = MembersRead.Of(plan.Optimized);
            foreach (var (source, members) in context.MembersRead)
            {
                if (Runtime.Ingress.EventSources.IsEventSource(source.Source))
                {
                    context.Log.Add(MembersRead.Describe(source, members));
                }
            }
        }
"""
assert old in s
s = s.replace(old, new)
open(p, 'w').write(s)

p = root + '/src/LinqStream/Query/MembersRead.cs'
s = open(p).read()
anchor = """    /// <summary>One line for <c>Explain()</c>: what the query reads of <paramref name="source"/>'s events.</summary>"""
add = """    /// <summary>
    /// Whether some source of <paramref name="root"/>'s plan is an <see cref="EventSource{T}"/>: the only sources that use what
    /// <see cref="Of"/> finds (<see cref="SourceContext.MembersRead"/>) and the only ones <c>Explain()</c> prints it for, so the
    /// compiler skips the analysis for every other plan (issue #19: it ran on every compile, plan-cache hits included).
    /// </summary>
    public static bool HasEventSource(PlanNode root)
    {
        var seen = new HashSet<PlanNode>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<PlanNode>();
        stack.Push(root);
        while (stack.Count > 0)
        {
            var node = stack.Pop();
            if (!seen.Add(node))
            {
                continue;
            }

            if (node is SourceNode source && EventSources.IsEventSource(source.Source))
            {
                return true;
            }

            foreach (var child in node.Children)
            {
                stack.Push(child);
            }
        }

        return false;
    }

"""
assert anchor in s
s = s.replace(anchor, add + anchor)
open(p, 'w').write(s)

# Fix B: the plans' text printed when read (Explain), not on every compile.
p = root + '/src/LinqStream/Query/QueryCompiler.cs'
s = open(p).read()
old = """            LogicalPlan = PlanPrinter.Print(plan.Logical),
            OptimizedPlan = PlanPrinter.Print(plan.Optimized),
"""
new = """            Logical = plan.Logical,     // printed when read (Explain), not on every compile: each lambda's ToString
            Optimized = plan.Optimized,
"""
assert old in s
s = s.replace(old, new)
open(p, 'w').write(s)

p = root + '/src/LinqStream/Query/CompiledQuery.cs'
s = open(p).read()
old = """    public required string LogicalPlan { get; init; }

    public required string OptimizedPlan { get; init; }
"""
new = """    /// <summary>Gets the logical plan (translation's output).</summary>
    public required Plan.PlanNode Logical { get; init; }

    /// <summary>Gets the logical plan after the passes.</summary>
    public required Plan.PlanNode Optimized { get; init; }

    /// <summary>Gets the logical plan as text, printed on first read (issue #19: printing every lambda cost each compile, cache hits included).</summary>
    public string LogicalPlan => _logicalPlan ??= Plan.PlanPrinter.Print(Logical);

    /// <summary>Gets the optimized logical plan as text, printed on first read.</summary>
    public string OptimizedPlan => _optimizedPlan ??= Plan.PlanPrinter.Print(Optimized);
"""
assert old in s
s = s.replace(old, new)
old = """internal sealed class CompiledQuery<T>
{
"""
new = """internal sealed class CompiledQuery<T>
{
    private string? _logicalPlan;
    private string? _optimizedPlan;

"""
assert old in s
s = s.replace(old, new)
open(p, 'w').write(s)
