using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace LinqStream.Notebooks.Tests;

/// <summary>
/// Runs a notebook in the real kernel, cell by cell, and compares what each cell displays with the outputs saved in the notebook (the notebooks
/// keep only their last cell's outputs, saved from this kernel).
/// </summary>
internal static partial class NotebookRunner
{
    /// <summary>Set to 1 to save each notebook's last cell's outputs into the .ipynb (as Polyglot saves them) instead of comparing them: after changing a notebook on purpose.</summary>
    public const string RecordVariable = "LINQSTREAM_RECORD_NOTEBOOKS";

    /// <summary>How long one cell may run.</summary>
    public static readonly TimeSpan CellTimeout = TimeSpan.FromMinutes(3);

    /// <summary>Runs every code cell; the first one's <c>#i "nuget: folder"</c> is pointed at <paramref name="feed"/> (the packages packed for this run).</summary>
    public static async Task RunAsync(KernelClient kernel, Notebook notebook, string feed, bool record = false)
    {
        var last = notebook.CodeCells.Last();
        int codeCell = 0;
        foreach (var cell in notebook.CodeCells)
        {
            codeCell++;
            string where = $"{notebook.Name}, cell {cell.Number} (code cell {codeCell})";
            if (cell.Kernel is not (null or "csharp"))
            {
                throw new NotebookCellException($"{where}: the kernel is '{cell.Kernel}'; the notebooks are C# only.");
            }

            string code = codeCell == 1 ? PointAtFeed(cell.Source, feed, where) : cell.Source;
            var result = await kernel.SubmitAsync(code, CellTimeout);
            if (!result.Succeeded)
            {
                throw new NotebookCellException($"{where} failed: {result.Error}");
            }

            var outputs = Outputs(result);
            if (record && cell == last)
            {
                cell.Json["execution_count"] = 1;
                cell.Json["outputs"] = new JsonArray([.. outputs.Select(o => o.DeepClone())]);
                notebook.Save();
            }
            else if (cell.Outputs.Count > 0)
            {
                Compare(where, cell.Outputs, outputs);
            }
        }
    }

    /// <summary>The cell's outputs as an .ipynb stores them: console text as a stream output, the last value as execute_result, other displays as display_data (their last update).</summary>
    private static List<JsonObject> Outputs(KernelResult result)
    {
        var outputs = new List<JsonObject>();
        if (result.StandardOutput.Length > 0)
        {
            outputs.Add(new JsonObject { ["name"] = "stdout", ["output_type"] = "stream", ["text"] = Lines(result.StandardOutput) });
        }

        var displays = new Dictionary<string, KernelOutput>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var output in result.Outputs.Where(o => o.EventType is "DisplayedValueProduced" or "DisplayedValueUpdated"))
        {
            string id = output.DisplayId ?? Guid.NewGuid().ToString();
            if (output.EventType == "DisplayedValueUpdated" && !displays.ContainsKey(id) && order.Count > 0)
            {
                // This kernel sends a value's updates with an id other than the one it was displayed with: they replace the latest display.
                id = order[^1];
            }
            else if (!displays.ContainsKey(id))
            {
                order.Add(id);
            }

            displays[id] = output;
        }

        foreach (string id in order)
        {
            outputs.Add(new JsonObject { ["data"] = Data(displays[id]), ["metadata"] = new JsonObject(), ["output_type"] = "display_data" });
        }

        if (result.ReturnValue is { } value)
        {
            outputs.Add(new JsonObject { ["data"] = Data(value), ["execution_count"] = 1, ["metadata"] = new JsonObject(), ["output_type"] = "execute_result" });
        }

        return outputs;
    }

    private static JsonObject Data(KernelOutput output) => new([.. output.Values.Select(v => KeyValuePair.Create(v.Key, (JsonNode?)Lines(v.Value)))]);

    private static JsonArray Lines(string text)
    {
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        return new JsonArray([.. lines.Select((l, i) => (JsonNode?)JsonValue.Create(i < lines.Length - 1 ? l + "\n" : l)).Where(l => (string?)l != "")]);
    }

    private static void Compare(string where, JsonArray saved, List<JsonObject> actual)
    {
        string Show(IEnumerable<JsonNode?> outputs) => string.Join(Environment.NewLine, outputs.Select(o => Normalize(Text(o))));
        string expected = Show(saved), got = Show(actual);
        if (expected != got)
        {
            throw new NotebookCellException(
                $"{where}: the outputs differ from the ones saved in the notebook.{Environment.NewLine}saved:{Environment.NewLine}{expected}{Environment.NewLine}actual:{Environment.NewLine}{got}");
        }
    }

    /// <summary>An output as text: its type and each mime type's content (nbformat keeps text as a string or an array of lines).</summary>
    private static string Text(JsonNode? output)
    {
        static string Join(JsonNode? node) => node is JsonArray lines ? string.Concat(lines.Select(l => (string?)l)) : (string?)node ?? "";
        string type = (string?)output?["output_type"] ?? "";
        return type == "stream"
            ? $"stream: {Join(output!["text"])}"
            : $"{type}: " + string.Join(Environment.NewLine, output?["data"]?.AsObject().OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}: {Join(p.Value)}") ?? []);
    }

    /// <summary>Line ends are not compared, nor the bytes of embedded PNG images (font rendering differs between machines): only that an image is there.</summary>
    private static string Normalize(string text) =>
        DataUri().Replace(text.Replace("\r\n", "\n", StringComparison.Ordinal).TrimEnd(), "data:image/png;base64,(image)");

    private static string PointAtFeed(string source, string feed, string where)
    {
        var match = LocalFeed().Match(source);
        if (!match.Success)
        {
            throw new NotebookCellException($"{where}: the first cell must start with '#i \"nuget: <folder>\"' (the folder the packages were packed into).");
        }

        return source[..match.Groups["folder"].Index] + feed + source[(match.Groups["folder"].Index + match.Groups["folder"].Length)..];
    }

    [GeneratedRegex(@"^#i ""nuget:\s*(?<folder>[^""]+)""")]
    private static partial Regex LocalFeed();

    [GeneratedRegex(@"data:image/png;base64,[A-Za-z0-9+/=]+")]
    private static partial Regex DataUri();
}

/// <summary>A notebook cell failed, or its result differs from the saved one.</summary>
public sealed class NotebookCellException : Exception
{
    public NotebookCellException(string message)
        : base(message)
    {
    }

    public NotebookCellException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public NotebookCellException()
    {
    }
}
