using System.Text.Json;
using System.Text.Json.Nodes;

namespace LinqStream.Notebooks.Tests;

/// <summary>A Polyglot notebook (.ipynb, nbformat 4) read for testing: its C# code cells, in order, with the outputs saved in the file.</summary>
internal sealed class Notebook
{
    private Notebook(string name, JsonObject root, IReadOnlyList<NotebookCell> cells)
    {
        Name = name;
        Root = root;
        Cells = cells;
    }

    public string Name { get; }

    public JsonObject Root { get; }

    /// <summary>Gets every cell, markdown and code, in file order.</summary>
    public IReadOnlyList<NotebookCell> Cells { get; }

    public IEnumerable<NotebookCell> CodeCells => Cells.Where(c => c.IsCode);

    /// <summary>Gets the folder of the repository's notebooks (found above the test assembly, next to LinqStream.sln).</summary>
    public static string Folder { get; } = FindFolder();

    public static IEnumerable<string> Names() =>
        Directory.EnumerateFiles(Folder, "*.ipynb").Select(Path.GetFileName).Order(StringComparer.Ordinal)!;

    public static Notebook Load(string name) => Parse(name, JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, name)))!.AsObject());

    public static Notebook Parse(string name, JsonObject root)
    {
        var cells = root["cells"]!.AsArray().Select((cell, index) => new NotebookCell(index + 1, cell!.AsObject())).ToArray();
        return new Notebook(name, root, cells);
    }

    /// <summary>Writes the notebook back, laid out as Polyglot writes it (one-space indents, Unicode as it is).</summary>
    public void Save()
    {
        var options = new JsonSerializerOptions { WriteIndented = true, IndentSize = 1, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        File.WriteAllText(Path.Combine(Folder, Name), Root.ToJsonString(options).ReplaceLineEndings("\n") + "\n");
    }

    private static string FindFolder()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "LinqStream.sln")))
            {
                return Path.Combine(directory.FullName, "notebooks");
            }
        }

        throw new DirectoryNotFoundException($"No LinqStream.sln above {AppContext.BaseDirectory}: cannot find the notebooks.");
    }
}

/// <summary>One cell of a notebook.</summary>
/// <param name="Number">The 1-based position of the cell in the notebook, counting markdown cells (as an editor shows it).</param>
/// <param name="Json">The cell as stored.</param>
internal sealed record NotebookCell(int Number, JsonObject Json)
{
    public bool IsCode => (string?)Json["cell_type"] == "code";

    /// <summary>Gets the cell's kernel: Polyglot stores it as metadata.polyglot_notebook.kernelName (and, in older files, metadata.dotnet_interactive.language).</summary>
    public string? Kernel => (string?)Json["metadata"]?["polyglot_notebook"]?["kernelName"] ?? (string?)Json["metadata"]?["dotnet_interactive"]?["language"];

    public string Source => Text(Json["source"]);

    public JsonArray Outputs => Json["outputs"]?.AsArray() ?? [];

    /// <summary>The saved result of the cell's last expression (an execute_result output): mime type → text.</summary>
    public IReadOnlyDictionary<string, string> SavedResult =>
        Outputs.Where(o => (string?)o!["output_type"] == "execute_result")
            .SelectMany(o => o!["data"]!.AsObject())
            .ToDictionary(p => p.Key, p => Text(p.Value), StringComparer.Ordinal);

    /// <summary>The saved console output of the cell (stream outputs), or null when there is none.</summary>
    public string? SavedConsole
    {
        get
        {
            var streams = Outputs.Where(o => (string?)o!["output_type"] == "stream").Select(o => Text(o!["text"])).ToArray();
            return streams.Length == 0 ? null : string.Concat(streams);
        }
    }

    /// <summary>nbformat stores text as a string or as an array of lines (each but the last ending in a new line).</summary>
    private static string Text(JsonNode? node) => node switch
    {
        null => "",
        JsonArray lines => string.Concat(lines.Select(l => (string?)l)),
        _ when node.GetValueKind() == JsonValueKind.String => (string?)node ?? "",
        _ => node.ToJsonString(),
    };
}
