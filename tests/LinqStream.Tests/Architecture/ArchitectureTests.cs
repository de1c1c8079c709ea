using Microsoft.CodeAnalysis.CSharp;

namespace LinqStream.Tests.Architecture;

/// <summary>
/// The stages of src/LinqStream depend on each other one way: Linq → Query → Plan → Physical → Runtime (docs/architecture.md).
/// </summary>
/// <remarks>
/// A layer is a folder, except for the logical nodes: each operator family's folder below Physical holds its logical node
/// (<c>…Node.cs</c>, the Plan layer) next to its physical stream and operator (the Physical layer), see <see cref="Roles"/>. The compiler (Query) drives the stages and so may use all of them; the logical plan (Plan) is data and
/// uses no execution layer; physical operators (Physical) run on the runtime (Runtime), which knows no operator, plan or
/// compiler. The side folders (Temporal, Internal, the public vocabulary in Linq/*.cs and Linq/Windows) may be used by all.
/// </remarks>
public sealed class ArchitectureTests
{
    /// <summary>Folder (below src/LinqStream) → layer; the longest matching folder wins.</summary>
    internal static readonly (string Folder, string Layer)[] Layers =
    [
        ("Linq", "Contracts"),
        ("Linq/Operators", "Linq"),
        ("Linq/Provider", "Linq"),
        ("Query", "Query"),
        ("Plan", "Plan"),
        ("Physical", "Physical"),
        ("Runtime", "Runtime"),
        ("Io", "Io"),
        ("Jobs", "Jobs"),
        ("Parallel", "Parallel"),
        ("Diagnostics", "Diagnostics"),
        ("Temporal", "Temporal"),
        ("Internal", "Internal"),
    ];

    /// <summary>Role suffixes that put a file of a folder into another layer than its folder's: an operator family's logical node is Plan.</summary>
    internal static readonly (string Folder, string FileSuffix, string Layer)[] Roles =
    [
        ("Physical", "Node.cs", "Plan"),
    ];

    private static readonly string[] s_vocabulary = ["Contracts", "Temporal", "Internal"];

    /// <summary>Layer → the other layers it may reference.</summary>
    internal static readonly Dictionary<string, string[]> Allowed = new()
    {
        ["Linq"] = [.. s_vocabulary, "Query", "Runtime", "Jobs", "Io", "Diagnostics", "Parallel"],
        // Translation recognises the public operator methods (typeof(QStream)) in the expression it reads: the one edge back.
        ["Query"] = [.. s_vocabulary, "Linq", "Plan", "Physical", "Runtime", "Parallel", "Diagnostics"],
        ["Plan"] = [.. s_vocabulary],
        ["Physical"] = [.. s_vocabulary, "Runtime", "Io", "Diagnostics", "Parallel"],
        // QueryExecution.Create takes the ParallelPlan (which nodes run on several tasks); Parallel is being reworked (checkpoints), so
        // this edge stays until it settles. Runtime never references Physical, Plan or Query.
        ["Runtime"] = [.. s_vocabulary, "Io", "Diagnostics", "Parallel"],
        ["Jobs"] = [.. s_vocabulary, "Query", "Runtime", "Io", "Diagnostics", "Parallel"],
        ["Parallel"] = [.. s_vocabulary, "Physical", "Runtime", "Io", "Diagnostics"],
        ["Io"] = [.. s_vocabulary, "Runtime", "Diagnostics"],
        ["Diagnostics"] = [.. s_vocabulary, "Runtime", "Io"],
        ["Contracts"] = ["Temporal", "Internal", "Linq", "Io", "Diagnostics", "Jobs"],
        ["Temporal"] = ["Internal", "Contracts"],
        ["Internal"] = ["Temporal", "Contracts"],
    };

    // A guard against a hang, not a time limit: compiling src/LinqStream here took over 120 s at load average 30 and above.
    [Fact(Timeout = 600_000)]
    public async Task LinqStream_ReferencesFollowTheStageOrder()
    {
        await Task.Yield();
        string root = Path.Combine(RepositoryRoot(), "src", "LinqStream");
        var checker = new LayerChecker(Layers, Allowed, Roles);

        var violations = checker.Check(LayerChecker.CompileFolder(root), root);

        Assert.True(violations.Count == 0, "References against the stage order (docs/architecture.md):\n" + string.Join("\n", violations));
    }

    [Fact(Timeout = 60_000)]
    public async Task Check_RuntimeReferencesPhysical_ReportsTheReference()
    {
        await Task.Yield();
        var checker = new LayerChecker(Layers, Allowed, Roles);
        var compilation = LayerChecker.Compile(
        [
            CSharpSyntaxTree.ParseText("namespace LinqStream.Physical; internal sealed class SomeOperator { public static int Run() => 1; }", path: "/repo/Physical/SomeOperator.cs"),
            CSharpSyntaxTree.ParseText("namespace LinqStream.Runtime; internal static class Loop { public static int Go() => LinqStream.Physical.SomeOperator.Run(); }", path: "/repo/Runtime/Loop.cs"),
            CSharpSyntaxTree.ParseText("namespace LinqStream.Physical; internal static class Uses { public static int Go() => LinqStream.Runtime.Loop.Go(); }", path: "/repo/Physical/Uses.cs"),
        ]);

        var violations = checker.Check(compilation, "/repo");

        var violation = Assert.Single(violations);
        Assert.Equal(("Runtime/Loop.cs", "Runtime", "Physical", "LinqStream.Physical.SomeOperator"), (violation.File, violation.FromLayer, violation.ToLayer, violation.Symbol));
    }

    [Fact(Timeout = 60_000)]
    public async Task Check_PlanReferencesPhysicalThroughAGenericArgument_ReportsTheReference()
    {
        await Task.Yield();
        var checker = new LayerChecker(Layers, Allowed, Roles);
        var compilation = LayerChecker.Compile(
        [
            CSharpSyntaxTree.ParseText("namespace LinqStream.Physical.Pipeline; internal sealed record Step(bool IsFilter);", path: "/repo/Physical/Pipeline/Step.cs"),
            CSharpSyntaxTree.ParseText("namespace LinqStream.Plan; internal sealed class Node(System.Collections.Generic.IReadOnlyList<LinqStream.Physical.Pipeline.Step> steps) { public int Count => steps.Count; }", path: "/repo/Plan/Node.cs"),
        ]);

        var violations = checker.Check(compilation, "/repo");

        Assert.Equal(("Plan", "Physical"), (Assert.Single(violations).FromLayer, violations[0].ToLayer));
    }

    [Fact(Timeout = 60_000)]
    public async Task Check_LogicalNodeInItsFamilyFolderReferencesTheOperator_ReportsTheReference()
    {
        await Task.Yield();
        var checker = new LayerChecker(Layers, Allowed, Roles);
        var compilation = LayerChecker.Compile(
        [
            CSharpSyntaxTree.ParseText("namespace LinqStream.Physical.Union; internal sealed class UnionOperator { public static int Inputs => 2; }", path: "/repo/Physical/Union/UnionOperator.cs"),
            CSharpSyntaxTree.ParseText("namespace LinqStream.Physical.Union; internal sealed class UnionNode { public int Width => UnionOperator.Inputs; }", path: "/repo/Physical/Union/UnionNode.cs"),
        ]);

        var violations = checker.Check(compilation, "/repo");

        var violation = Assert.Single(violations);
        Assert.Equal(("Physical/Union/UnionNode.cs", "Plan", "Physical", "LinqStream.Physical.Union.UnionOperator"), (violation.File, violation.FromLayer, violation.ToLayer, violation.Symbol));
    }

    [Theory(Timeout = 10_000)]
    [InlineData("Linq/Operators/QStream.From.cs", "Linq")]
    [InlineData("Linq/QueryOptions.cs", "Contracts")]
    [InlineData("Linq/Windows/IWindow.cs", "Contracts")]
    [InlineData("Physical/Windows/Tumbling/TumblingLifetimeStream.cs", "Physical")]
    [InlineData("Physical/Windows/WindowNode.cs", "Plan")]
    [InlineData("Physical/Join/JoinNode.cs", "Plan")]
    [InlineData("Plan/PlanNode.cs", "Plan")]
    public async Task LayerOf_File_IsItsLongestFolder(string path, string layer)
    {
        await Task.Yield();
        Assert.Equal(layer, new LayerChecker(Layers, Allowed, Roles).LayerOf(path));
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "LinqStream.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No LinqStream.sln above '{AppContext.BaseDirectory}'.");
    }
}
