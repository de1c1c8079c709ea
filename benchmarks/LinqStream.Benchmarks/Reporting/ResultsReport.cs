using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace LinqStream.Benchmarks.Reporting;

/// <summary>
/// <c>--report</c>: reads BenchmarkDotNet's CSV reports and writes the results table into <c>benchmarks/RESULTS.md</c> (between its
/// markers, keeping the hand-written text around it) and the chart <c>benchmarks/results.png</c>.
/// </summary>
/// <remarks>
/// Options: <c>--artifacts DIR</c> (default: <c>BenchmarkDotNet.Artifacts/results</c> under the current directory or the repository
/// root), <c>--out DIR</c> (default: the repository's <c>benchmarks/</c>), <c>--no-chart</c>, <c>--replace</c>.
/// A partial run (<c>--filter</c>) leaves CSV reports for only some classes, so the table is merged: a class with a CSV report
/// replaces all of its rows, and every other class keeps the rows already in RESULTS.md (<c>--replace</c>: only the CSV reports).
/// </remarks>
public static partial class ResultsReport
{
    public const string TableBegin = "<!-- results-table:begin (written by `--report`; do not edit by hand) -->";
    public const string TableEnd = "<!-- results-table:end -->";
    public const string EnvironmentBegin = "<!-- environment:begin (written by `--report`) -->";
    public const string EnvironmentEnd = "<!-- environment:end -->";

    private static readonly string[] MethodOrder = ["RxNet", "LinqStreamQuery", "LinqStreamJoinPlan", "LinqStreamFused", "LinqStreamUnfused", "EngineDirect", "HandWrittenLoop"];

    /// <summary>Runs the report.</summary>
    /// <returns>0 on success, 1 when there is no report to read.</returns>
    public static int Run(IReadOnlyList<string> args, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        string? root = FindRepositoryRoot();
        string artifacts = Option(args, "--artifacts")
            ?? new[] { Directory.GetCurrentDirectory(), root }.OfType<string>().Select(d => Path.Combine(d, "BenchmarkDotNet.Artifacts", "results")).FirstOrDefault(Directory.Exists)
            ?? Path.Combine(Directory.GetCurrentDirectory(), "BenchmarkDotNet.Artifacts", "results");
        string outDir = Option(args, "--out") ?? (root is null ? Directory.GetCurrentDirectory() : Path.Combine(root, "benchmarks"));
        var csvFiles = Directory.Exists(artifacts) ? Directory.GetFiles(artifacts, "*-report.csv") : [];
        if (csvFiles.Length == 0)
        {
            output.WriteLine($"No BenchmarkDotNet CSV report in {artifacts}: run the benchmarks first (see benchmarks/RESULTS.md), or pass --artifacts DIR.");
            return 1;
        }

        string resultsPath = Path.Combine(outDir, "RESULTS.md");
        string existing = File.Exists(resultsPath) ? File.ReadAllText(resultsPath) : Template;
        var fresh = csvFiles.SelectMany(BenchmarkCsv.Read).ToList();
        var kept = args.Contains("--replace") ? [] : Merge(fresh, ReadTable(existing));
        var rows = Order(fresh.Concat(kept)).ToList();
        string table = Table(rows);
        string? environment = Environment(Directory.GetFiles(artifacts, "*-report-github.md"));
        File.WriteAllText(resultsPath, UpdateResults(existing, table, environment));
        output.WriteLine(table);
        output.WriteLine($"Wrote the table of {rows.Count} rows into {resultsPath}: {fresh.Count} from {csvFiles.Length} reports, {kept.Count} kept from the table already there.");
        if (!args.Contains("--no-chart"))
        {
            string chartPath = Path.Combine(outDir, "results.png");
            ResultsChart.Render(rows, chartPath);
            output.WriteLine($"Wrote {chartPath}.");
        }

        return 0;
    }

    /// <summary>The markdown table: events/s, ratio to Rx.NET and to the hand-written loop (as speed ratios: above 1 is faster), allocations per event.</summary>
    public static string Table(IReadOnlyList<BenchmarkRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var text = new StringBuilder()
            .AppendLine("| Benchmark | Parameters | Method | ns/event | events/s | vs Rx.NET | vs hand loop | allocated B/event |")
            .AppendLine("|---|---|---|--:|--:|--:|--:|--:|");
        foreach (var row in rows)
        {
            var group = rows.Where(r => r.Class == row.Class && r.Parameters == row.Parameters).ToList();
            var rx = group.FirstOrDefault(r => r.Method == "RxNet");
            var hand = group.FirstOrDefault(r => r.Method == "HandWrittenLoop");
            text.Append(CultureInfo.InvariantCulture, $"| {row.Class} | {row.Parameters} | {row.Method} | {Number(row.MeanNs, "F2")} | {Rate(row.EventsPerSecond)} ")
                .Append(CultureInfo.InvariantCulture, $"| {Ratio(rx, row)} | {Ratio(hand, row)} | {Number(row.AllocatedBytes, "F1")} |")
                .AppendLine();
        }

        return text.ToString();
    }

    /// <summary>The rows of <paramref name="existing"/> to keep next to <paramref name="fresh"/>: those of every class that has no fresh row.</summary>
    public static List<BenchmarkRow> Merge(IReadOnlyCollection<BenchmarkRow> fresh, IEnumerable<BenchmarkRow> existing)
    {
        ArgumentNullException.ThrowIfNull(fresh);
        ArgumentNullException.ThrowIfNull(existing);
        var measured = fresh.Select(r => r.Class).ToHashSet(StringComparer.Ordinal);
        return [.. existing.Where(r => !measured.Contains(r.Class))];
    }

    /// <summary>Reads the rows back from the results table of RESULTS.md (between its markers): class, parameters, method, ns/event and B/event.</summary>
    public static List<BenchmarkRow> ReadTable(string results)
    {
        ArgumentNullException.ThrowIfNull(results);
        int b = results.IndexOf(TableBegin, StringComparison.Ordinal);
        int e = results.IndexOf(TableEnd, StringComparison.Ordinal);
        var rows = new List<BenchmarkRow>();
        if (b < 0 || e < b)
        {
            return rows;
        }

        foreach (var line in results[(b + TableBegin.Length)..e].Split('\n').Select(l => l.Trim()))
        {
            var cells = line.Trim('|').Split('|').Select(c => c.Trim()).ToArray();
            if (!line.StartsWith('|') || cells.Length != 8 || cells[0] == "Benchmark" || cells[0].StartsWith("---", StringComparison.Ordinal))
            {
                continue;
            }

            rows.Add(new BenchmarkRow(cells[0], cells[1], cells[2], Parse(cells[3]), Parse(cells[7])));
        }

        return rows;

        static double Parse(string cell) =>
            double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) ? value : double.NaN;
    }

    /// <summary>Replaces the table and environment sections of RESULTS.md, or appends them when the markers are missing.</summary>
    public static string UpdateResults(string results, string table, string? environment)
    {
        ArgumentNullException.ThrowIfNull(results);
        results = Replace(results, TableBegin, TableEnd, table);
        return environment is null ? results : Replace(results, EnvironmentBegin, EnvironmentEnd, "```\n" + environment.Trim() + "\n```\n");
    }

    private static string Replace(string text, string begin, string end, string content)
    {
        int b = text.IndexOf(begin, StringComparison.Ordinal);
        int e = text.IndexOf(end, StringComparison.Ordinal);
        string block = begin + "\n" + content.TrimEnd() + "\n" + end;
        return b >= 0 && e > b ? text[..b] + block + text[(e + end.Length)..] : text.TrimEnd() + "\n\n" + block + "\n";
    }

    /// <summary>NEXMark queries first, by number, then the other classes by name; in each, the parameters in file order and the methods Rx, LinqStream..., hand loop.</summary>
    private static IEnumerable<BenchmarkRow> Order(IEnumerable<BenchmarkRow> rows) =>
        rows.Select((r, i) => (Row: r, Index: i))
            .OrderBy(x => QueryNumber(x.Row.Class))
            .ThenBy(x => x.Row.Class, StringComparer.Ordinal)
            .ThenBy(x => x.Index / 1000)
            .ThenBy(x => x.Row.Parameters, StringComparer.Ordinal)
            .ThenBy(x => Array.IndexOf(MethodOrder, x.Row.Method) is int m && m >= 0 ? m : MethodOrder.Length)
            .Select(x => x.Row);

    private static int QueryNumber(string className)
    {
        var match = QueryName().Match(className);
        return match.Success ? int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : className.StartsWith("TopK", StringComparison.Ordinal) || className.StartsWith("Distinct", StringComparison.Ordinal) ? 100 : 1000;
    }

    [GeneratedRegex("^Q([0-9]+)[A-Z]")]
    private static partial Regex QueryName();

    /// <summary>The environment block BenchmarkDotNet writes at the top of its GitHub markdown report (machine, OS, .NET).</summary>
    private static string? Environment(IEnumerable<string> githubReports)
    {
        foreach (var path in githubReports)
        {
            var text = File.ReadAllText(path);
            int start = text.IndexOf("```", StringComparison.Ordinal);
            int end = start < 0 ? -1 : text.IndexOf("```", start + 3, StringComparison.Ordinal);
            if (end > start)
            {
                return text[(start + 3)..end].Trim('\n', '\r');
            }
        }

        return null;
    }

    private static string Ratio(BenchmarkRow? reference, BenchmarkRow row) =>
        reference is null || ReferenceEquals(reference, row) || double.IsNaN(row.MeanNs) || double.IsNaN(reference.MeanNs)
            ? (ReferenceEquals(reference, row) ? "1" : string.Empty)
            : (reference.MeanNs / row.MeanNs).ToString(reference.MeanNs / row.MeanNs >= 10 ? "F0" : "F2", CultureInfo.InvariantCulture);

    private static string Number(double value, string format) =>
        double.IsNaN(value) ? "NA" : value.ToString(format, CultureInfo.InvariantCulture);

    private static string Rate(double perSecond) =>
        double.IsNaN(perSecond) || double.IsInfinity(perSecond) ? "NA"
        : perSecond >= 1e9 ? (perSecond / 1e9).ToString("F2", CultureInfo.InvariantCulture) + " G"
        : perSecond >= 1e6 ? (perSecond / 1e6).ToString("F1", CultureInfo.InvariantCulture) + " M"
        : perSecond >= 1e3 ? (perSecond / 1e3).ToString("F0", CultureInfo.InvariantCulture) + " K"
        : perSecond.ToString("F0", CultureInfo.InvariantCulture);

    private static string? Option(IReadOnlyList<string> args, string name)
    {
        for (int i = 0; i + 1 < args.Count; i++)
        {
            if (args[i] == name)
            {
                return args[i + 1];
            }
        }

        return null;
    }

    private static string? FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "LinqStream.sln")))
            {
                return dir.FullName;
            }
        }

        return null;
    }

    private const string Template = $"""
        # Benchmark results

        {EnvironmentBegin}
        {EnvironmentEnd}

        {TableBegin}
        {TableEnd}
        """;
}
