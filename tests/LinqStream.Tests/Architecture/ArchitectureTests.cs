using Microsoft.CodeAnalysis.CSharp;

namespace LinqStream.Tests.Architecture;

/// <summary>
/// The stages of src/LinqStream depend on each other one way: Linq → Query → Plan → Physical → Runtime (docs/architecture.md).
/// </summary>
/// <remarks>
/// A layer is a folder. The compiler (Query) drives the stages and so may use all of them; the logical plan (Plan) is data and
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

    [Fact(Timeout = 120_000)]
    public async Task LinqStream_ReferencesFollowTheStageOrder()
    {
        await Task.Yield();
        string root = Path.Combine(RepositoryRoot(), "src", "LinqStream");
        var checker = new LayerChecker(Layers, Allowed);

        var violations = checker.Check(LayerChecker.CompileFolder(root), root);

        Assert.True(violations.Count == 0, "References against the stage order (docs/architecture.md):\n" + string.Join("\n", violations));
    }

    [Fact(Timeout = 60_000)]
    public async Task Check_RuntimeReferencesPhysical_ReportsTheReference()
    {
        await Task.Yield();
        var checker = new LayerChecker(Layers, Allowed);
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
        var checker = new LayerChecker(Layers, Allowed);
        var compilation = LayerChecker.Compile(
        [
            CSharpSyntaxTree.ParseText("namespace LinqStream.Physical.Pipeline; internal sealed record Step(bool IsFilter);", path: "/repo/Physical/Pipeline/Step.cs"),
            CSharpSyntaxTree.ParseText("namespace LinqStream.Plan; internal sealed class Node(System.Collections.Generic.IReadOnlyList<LinqStream.Physical.Pipeline.Step> steps) { public int Count => steps.Count; }", path: "/repo/Plan/Node.cs"),
        ]);

        var violations = checker.Check(compilation, "/repo");

        Assert.Equal(("Plan", "Physical"), (Assert.Single(violations).FromLayer, violations[0].ToLayer));
    }

    [Theory(Timeout = 10_000)]
    [InlineData("Linq/Operators/QStream.From.cs", "Linq")]
    [InlineData("Linq/QueryOptions.cs", "Contracts")]
    [InlineData("Linq/Windows/IWindow.cs", "Contracts")]
    [InlineData("Physical/Windows/Tumbling/TumblingLifetimeStream.cs", "Physical")]
    public async Task LayerOf_File_IsItsLongestFolder(string path, string layer)
    {
        await Task.Yield();
        Assert.Equal(layer, new LayerChecker(Layers, Allowed).LayerOf(path));
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
