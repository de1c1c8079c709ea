using System.Diagnostics;
using System.Text.Json.Nodes;

namespace LinqStream.Notebooks.Tests;

/// <summary>Every notebook in notebooks/ runs top to bottom, in the Polyglot format, with the results saved in it.</summary>
public sealed class NotebookTests
{
    public static TheoryData<string> Notebooks() => [.. Notebook.Names()];

    [Fact]
    public void Notebooks_AtLeastTheThreeNumberedOnes()
    {
        var names = Notebook.Names().ToArray();

        Assert.Contains("01-getting-started.ipynb", names);
        Assert.Contains("02-windows-and-joins.ipynb", names);
        Assert.Contains("03-nexmark.ipynb", names);
        Assert.All(names, n => Assert.Matches(@"^\d\d-[a-z0-9-]+\.ipynb$", n));
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void Notebook_IsAPolyglotCSharpNotebook(string name)
    {
        var notebook = Notebook.Load(name);

        Assert.Equal(4, (int?)notebook.Root["nbformat"]);
        Assert.Equal("csharp", (string?)notebook.Root["metadata"]?["polyglot_notebook"]?["kernelInfo"]?["defaultKernelName"]);
        Assert.Equal("C#", (string?)notebook.Root["metadata"]?["kernelspec"]?["language"]);
        Assert.All(notebook.CodeCells, c => Assert.Equal("csharp", (string?)c.Json["metadata"]?["polyglot_notebook"]?["kernelName"]));
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void Notebook_FirstCodeCellReferencesTheLinqStreamPackage(string name)
    {
        var first = Notebook.Load(name).CodeCells.First();

        Assert.StartsWith("#r \"nuget: LinqStream\"", first.Source, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void Notebook_OutputsClearedExceptTheFinalResult(string name)
    {
        var cells = Notebook.Load(name).CodeCells.ToArray();

        Assert.All(cells[..^1], c => Assert.True(c.Outputs.Count == 0 && c.Json["execution_count"] is null, $"{name}, cell {c.Number} has outputs saved; only the last cell keeps its result."));
        Assert.NotEmpty(cells[^1].SavedResult);
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public async Task Notebook_RunsTopToBottomWithTheSavedResult(string name)
    {
        var stopwatch = Stopwatch.StartNew();

        await NotebookRunner.RunAsync(Notebook.Load(name), record: Environment.GetEnvironmentVariable(NotebookRunner.RecordVariable) == "1");

        Assert.True(stopwatch.Elapsed < TimeSpan.FromMinutes(2), $"{name} took {stopwatch.Elapsed}.");
    }

    [Fact]
    public async Task RunAsync_CellThatDoesNotCompile_FailsNamingTheNotebookAndTheCell()
    {
        var notebook = Parse("broken.ipynb", ["#r \"nuget: LinqStream\"", "using LinqStream;\nvar x = 1;", "x + y"]);

        var error = await Assert.ThrowsAsync<NotebookCellException>(() => NotebookRunner.RunAsync(notebook));

        Assert.StartsWith("broken.ipynb, cell 4 (code cell 3) does not compile:", error.Message, StringComparison.Ordinal);
        Assert.Contains("error CS0103: The name 'y' does not exist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_CellThatThrows_FailsNamingTheNotebookAndTheCell()
    {
        var notebook = Parse("throws.ipynb", ["#r \"nuget: LinqStream\"", "throw new InvalidOperationException(\"boom\");"]);

        var error = await Assert.ThrowsAsync<NotebookCellException>(() => NotebookRunner.RunAsync(notebook));

        Assert.Equal("throws.ipynb, cell 3 (code cell 2) threw InvalidOperationException: boom", error.Message);
    }

    [Fact]
    public async Task RunAsync_ResultDiffersFromTheSavedOne_FailsWithBoth()
    {
        var notebook = Parse("stale.ipynb", ["#r \"nuget: LinqStream\"", "1 + 1"], savedLastResult: "3");

        var error = await Assert.ThrowsAsync<NotebookCellException>(() => NotebookRunner.RunAsync(notebook));

        Assert.StartsWith("stale.ipynb, cell 3 (code cell 2): the result displayed as text/plain differs", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_OtherNugetPackage_FailsSayingItCannotBeRestored()
    {
        var notebook = Parse("other.ipynb", ["#r \"nuget: Newtonsoft.Json, 13.0.3\""]);

        var error = await Assert.ThrowsAsync<NotebookCellException>(() => NotebookRunner.RunAsync(notebook));

        Assert.Contains("cannot be restored here", error.Message, StringComparison.Ordinal);
    }

    /// <summary>A notebook of a markdown cell followed by the given C# cells, the last with <paramref name="savedLastResult"/> saved as text/plain.</summary>
    private static Notebook Parse(string name, string[] cells, string? savedLastResult = null)
    {
        var array = new JsonArray(new JsonObject { ["cell_type"] = "markdown", ["metadata"] = new JsonObject(), ["source"] = "# test" });
        for (int i = 0; i < cells.Length; i++)
        {
            var outputs = new JsonArray();
            if (i == cells.Length - 1 && savedLastResult is not null)
            {
                outputs.Add(new JsonObject
                {
                    ["output_type"] = "execute_result",
                    ["data"] = new JsonObject { ["text/plain"] = savedLastResult },
                    ["metadata"] = new JsonObject(),
                    ["execution_count"] = 1,
                });
            }

            array.Add(new JsonObject
            {
                ["cell_type"] = "code",
                ["metadata"] = new JsonObject { ["polyglot_notebook"] = new JsonObject { ["kernelName"] = "csharp" } },
                ["outputs"] = outputs,
                ["source"] = cells[i],
            });
        }

        return Notebook.Parse(name, new JsonObject { ["cells"] = array, ["nbformat"] = 4 });
    }
}
