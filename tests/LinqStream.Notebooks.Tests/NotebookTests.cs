using System.Text.Json.Nodes;

namespace LinqStream.Notebooks.Tests;

/// <summary>Every notebook in notebooks/ runs top to bottom in the real kernel (dotnet-interactive), with the results saved in it.</summary>
[Trait("Category", "Slow")] // Slow (fast suite skips it): runs the real .NET Interactive kernel
[Collection(KernelCollection.Name)]
public sealed class NotebookTests(KernelFixture fixture)
{
    public static TheoryData<string> Notebooks() => [.. Notebook.Names()];

    [Fact]
    public void Notebooks_AtLeastTheFourNumberedOnes()
    {
        var names = Notebook.Names().ToArray();

        Assert.Contains("01-getting-started.ipynb", names);
        Assert.Contains("02-windows-and-joins.ipynb", names);
        Assert.Contains("03-nexmark.ipynb", names);
        Assert.Contains("04-live-redis.ipynb", names);
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
    public void Notebook_FirstCodeCellAddsTheLocalFeedThenReferencesThePackages(string name)
    {
        var lines = Notebook.Load(name).CodeCells.First().Source.Split('\n');

        Assert.Equal("#i \"nuget: ../artifacts/nupkg\"", lines[0].TrimEnd());
        Assert.Contains("#r \"nuget: LinqStream.Interactive, *-*\"", lines.Select(l => l.TrimEnd()));
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void Notebook_OutputsClearedExceptTheFinalResult(string name)
    {
        var cells = Notebook.Load(name).CodeCells.ToArray();

        Assert.All(cells[..^1], c => Assert.True(c.Outputs.Count == 0 && c.Json["execution_count"] is null, $"{name}, cell {c.Number} has outputs saved; only the last cell keeps its result."));
        Assert.NotEmpty(cells[^1].Outputs);
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public async Task Notebook_RunsInTheKernelWithTheSavedOutputs(string name) =>
        await NotebookRunner.RunAsync(fixture.Kernel, Notebook.Load(name), fixture.Feed, record: Environment.GetEnvironmentVariable(NotebookRunner.RecordVariable) == "1");

    [Fact]
    public async Task RunAsync_CellThatDoesNotCompile_FailsNamingTheNotebookAndTheCell()
    {
        var notebook = Parse("broken.ipynb", [Packages, "var x = 1;", "x + y"]);

        var error = await Assert.ThrowsAsync<NotebookCellException>(() => NotebookRunner.RunAsync(fixture.Kernel, notebook, fixture.Feed));

        Assert.StartsWith("broken.ipynb, cell 4 (code cell 3) failed:", error.Message, StringComparison.Ordinal);
        Assert.Contains("CS0103", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_CellThatThrows_FailsNamingTheNotebookAndTheCell()
    {
        var notebook = Parse("throws.ipynb", [Packages, "throw new InvalidOperationException(\"boom\");"]);

        var error = await Assert.ThrowsAsync<NotebookCellException>(() => NotebookRunner.RunAsync(fixture.Kernel, notebook, fixture.Feed));

        Assert.StartsWith("throws.ipynb, cell 3 (code cell 2) failed:", error.Message, StringComparison.Ordinal);
        Assert.Contains("boom", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_ResultDiffersFromTheSavedOne_FailsWithBoth()
    {
        var notebook = Parse("stale.ipynb", [Packages, "1 + 1"], savedLastResult: "3");

        var error = await Assert.ThrowsAsync<NotebookCellException>(() => NotebookRunner.RunAsync(fixture.Kernel, notebook, fixture.Feed));

        Assert.StartsWith("stale.ipynb, cell 3 (code cell 2): the outputs differ", error.Message, StringComparison.Ordinal);
        Assert.Contains("text/plain: 3", error.Message, StringComparison.Ordinal);
        Assert.Contains("<pre>2</pre>", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_FirstCellWithoutALocalFeed_FailsSayingWhatToWrite()
    {
        var notebook = Parse("nofeed.ipynb", ["#r \"nuget: LinqStream.Interactive\""]);

        var error = await Assert.ThrowsAsync<NotebookCellException>(() => NotebookRunner.RunAsync(fixture.Kernel, notebook, fixture.Feed));

        Assert.Contains("must start with '#i \"nuget: <folder>\"'", error.Message, StringComparison.Ordinal);
    }

    private const string Packages = "#i \"nuget: ../artifacts/nupkg\"\n#r \"nuget: LinqStream.Interactive, *-*\"";

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
