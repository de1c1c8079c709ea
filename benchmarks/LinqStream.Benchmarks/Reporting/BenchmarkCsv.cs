using System.Globalization;
using System.Reflection;
using BenchmarkDotNet.Attributes;

namespace LinqStream.Benchmarks.Reporting;

/// <summary>One row of a BenchmarkDotNet CSV report: a benchmark method with one set of parameters.</summary>
/// <param name="Class">The benchmark class's short name.</param>
/// <param name="Parameters">The <c>[Params]</c> values, as "Name=Value" joined with ", " (empty when none).</param>
/// <param name="Method">The benchmark method.</param>
/// <param name="MeanNs">The mean time per operation (per event: every benchmark sets <c>OperationsPerInvoke</c> to its events), in ns; NaN when it did not run.</param>
/// <param name="AllocatedBytes">The bytes allocated per operation; NaN when not measured.</param>
public sealed record BenchmarkRow(string Class, string Parameters, string Method, double MeanNs, double AllocatedBytes)
{
    /// <summary>Gets the events per second: 10⁹ / the mean ns per event.</summary>
    public double EventsPerSecond => 1e9 / MeanNs;

    /// <summary>Gets what the row measures: Rx.NET, a hand-written loop, or LinqStream.</summary>
    public string Engine => Method switch
    {
        "RxNet" => "Rx.NET",
        "HandWrittenLoop" => "hand loop",
        _ => "LinqStream",
    };
}

/// <summary>Reads BenchmarkDotNet's <c>*-report.csv</c> files (its default CSV exporter: units in the cells, invariant numbers).</summary>
public static class BenchmarkCsv
{
    /// <summary>Reads every row of one report; the class comes from the file name, its parameter columns from its <c>[Params]</c>, <c>[ParamsSource]</c> and <c>[ParamsAllValues]</c> properties (inherited ones too).</summary>
    public static IEnumerable<BenchmarkRow> Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string typeName = Path.GetFileName(path)[..^"-report.csv".Length];
        var type = typeof(BenchmarkCsv).Assembly.GetType(typeName);
        string className = type?.Name ?? typeName[(typeName.LastIndexOf('.') + 1)..];
        var paramNames = type is null
            ? []
            : type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetCustomAttribute<ParamsAttribute>() is not null || p.GetCustomAttribute<ParamsSourceAttribute>() is not null || p.GetCustomAttribute<ParamsAllValuesAttribute>() is not null).Select(p => p.Name).ToList();
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0)
        {
            yield break;
        }

        char separator = lines[0].Count(c => c == ';') > lines[0].Count(c => c == ',') ? ';' : ',';
        var header = Split(lines[0], separator);
        int Column(string name) => header.FindIndex(h => h == name);
        int method = Column("Method"), mean = Column("Mean"), allocated = Column("Allocated");
        var paramColumns = paramNames.Select(n => (Name: n, Index: Column(n))).Where(p => p.Index >= 0).ToList();
        foreach (var line in lines.Skip(1).Where(l => l.Length > 0))
        {
            var cells = Split(line, separator);
            string parameters = string.Join(", ", paramColumns.Select(p => $"{p.Name}={cells[p.Index]}"));
            yield return new BenchmarkRow(
                className,
                parameters,
                cells[method],
                ParseTime(cells[mean]),
                allocated >= 0 ? ParseSize(cells[allocated]) : double.NaN);
        }
    }

    /// <summary>Parses "1,234.5 ns", "12.3 μs", "4.56 ms" or "1.2 s" into nanoseconds; NaN for "NA" or anything else.</summary>
    public static double ParseTime(string cell)
    {
        ArgumentNullException.ThrowIfNull(cell);
        var (value, unit) = SplitUnit(cell);
        double factor = unit switch
        {
            "ns" => 1,
            "μs" or "us" or "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            _ => double.NaN,
        };
        return value * factor;
    }

    /// <summary>Parses "0 B", "123 B", "1.5 KB", "2 MB" (BenchmarkDotNet's units are powers of 1,024) into bytes; 0 for "-"; NaN otherwise.</summary>
    public static double ParseSize(string cell)
    {
        ArgumentNullException.ThrowIfNull(cell);
        if (cell.Trim() == "-")
        {
            return 0;
        }

        var (value, unit) = SplitUnit(cell);
        double factor = unit switch
        {
            "B" => 1,
            "KB" => 1024,
            "MB" => 1024 * 1024,
            "GB" => 1024.0 * 1024 * 1024,
            _ => double.NaN,
        };
        return value * factor;
    }

    private static (double Value, string Unit) SplitUnit(string cell)
    {
        var parts = cell.Trim().Split(' ', 2, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 2 || !double.TryParse(parts[0].Replace(",", string.Empty, StringComparison.Ordinal), NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
        {
            return (double.NaN, string.Empty);
        }

        return (value, parts[1]);
    }

    /// <summary>Splits one CSV line; fields may be quoted, with "" for a quote.</summary>
    private static List<string> Split(string line, char separator)
    {
        var cells = new List<string>();
        var cell = new System.Text.StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"')
                {
                    cell.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    cell.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == separator)
            {
                cells.Add(cell.ToString());
                cell.Clear();
            }
            else
            {
                cell.Append(c);
            }
        }

        cells.Add(cell.ToString());
        return cells;
    }
}
