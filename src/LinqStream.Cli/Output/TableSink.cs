using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace LinqStream.Cli.Output;

/// <summary>Shows the first <see cref="MaxRows"/> results as a table whose columns are the result's top-level JSON properties.</summary>
internal sealed class TableSink(IAnsiConsole console) : IResultSink
{
    public const int MaxRows = 50;

    private readonly List<JsonElement> _rows = [];

    public void Write<T>(T result)
    {
        if (_rows.Count < MaxRows)
        {
            _rows.Add(JsonSerializer.SerializeToElement(result, ResultJson.Options));
        }
    }

    public void Complete(long results)
    {
        if (_rows.Count == 0)
        {
            Console.Out.WriteLine("(no results)");
            return;
        }

        var columns = _rows[0].ValueKind == JsonValueKind.Object ? _rows[0].EnumerateObject().Select(p => p.Name).ToArray() : ["Value"];
        var table = new Table().Border(TableBorder.Rounded);
        foreach (string column in columns)
        {
            table.AddColumn(new TableColumn(Markup.Escape(column)));
        }

        foreach (var row in _rows)
        {
            table.AddRow(columns.Select(c => Markup.Escape(Cell(row, c))).ToArray());
        }

        console.Write(table);
        if (results > _rows.Count)
        {
            Console.Out.WriteLine($"(first {_rows.Count} of {results.ToString("N0", CultureInfo.InvariantCulture)} results; --out FILE writes them all as JSON lines)");
        }
    }

    public void Dispose()
    {
    }

    private static string Cell(JsonElement row, string column)
    {
        var value = row.ValueKind == JsonValueKind.Object ? (row.TryGetProperty(column, out var v) ? v : default) : row;
        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString() ?? "",
            JsonValueKind.Undefined => "",
            _ => value.GetRawText(),
        };
    }
}
