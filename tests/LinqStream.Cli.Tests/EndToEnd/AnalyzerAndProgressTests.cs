using System.Globalization;
using System.Text.RegularExpressions;

namespace LinqStream.Cli.Tests.EndToEnd;

/// <summary><c>run</c> shows LinqStream's analyzer diagnostics at the script's lines; <c>run</c> and <c>nexmark</c> show progress with watermark lag.</summary>
[Trait("Category", "Slow")] // Slow (fast suite skips it): runs the linqstream CLI in child processes
public sealed partial class AnalyzerAndProgressTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Run_UnwindowedCount_ExitsThreeWithLsq0001AtItsLineAndDoesNotRun()
    {
        string input = _folder.Write("bids.jsonl", RunCommandTests.Bids(5));
        string script = _folder.Write("count.csx", "using System.Reactive.Linq;\n\n// every bid, counted\ninput.Count()\n");

        var result = await CliProcess.RunAsync("run", script, "--input", input);

        Assert.True(result.ExitCode == 3, result.ToString());
        Assert.Contains("count.csx(4,7): error LSQ0001: 'Count' cannot run on a stream", result.Error, StringComparison.Ordinal);
        Assert.Contains("    input.Count()\n          ^^^^^^^", result.Error.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("count.csx: 1 error; the query did not run.", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("run:", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Explain_UnwindowedCount_ExitsThreeWithLsq0001()
    {
        string script = _folder.Write("count.csx", "using System.Reactive.Linq;\ninput.Count()\n");

        var result = await CliProcess.RunAsync("explain", script);

        Assert.True(result.ExitCode == 3, result.ToString());
        Assert.Contains("count.csx(2,7): error LSQ0001:", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_WallClockInALambda_WarnsLsq0002AtItsLineAndStillRuns()
    {
        string input = _folder.Write("bids.jsonl", RunCommandTests.Bids(10));
        string script = _folder.Write("now.csx", "// bids before now\nfrom r in input\nwhere r.Time < DateTime.Now\nselect r.Long(\"price\")\n");
        string output = _folder.File("out.jsonl");

        var result = await CliProcess.RunAsync("run", script, "--input", input, "--out", output);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("now.csx(3,16): warning LSQ0002: 'DateTime.Now' in a query reads the processing-time clock", result.Error, StringComparison.Ordinal);
        Assert.Equal(Enumerable.Range(100, 10).Select(p => p.ToString(CultureInfo.InvariantCulture)), File.ReadAllLines(output));
        Assert.Contains("run: 10 lines, 10 events, 10 results", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_CleanQuery_PrintsNoDiagnostics()
    {
        string input = _folder.Write("bids.jsonl", RunCommandTests.Bids(20));
        string script = _folder.Write("clean.csx", "from r in input.TumblingWindow(TimeSpan.FromSeconds(10))\ngroup r by r.Long(\"auction\") into g\nselect new { g.Key, N = g.Count() }\n");

        var result = await CliProcess.RunAsync("run", script, "--input", input, "--out", _folder.File("out.jsonl"));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(string.Empty, result.Error);
        Assert.DoesNotContain("LSQ", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_ProgressLines_ShowEventsReadRateAndTheWatermarkLagOfTheDisorderBound()
    {
        // 40,000 records in time order, 100 ms apart; --max-delay 5s holds the watermark 5 s behind the latest record.
        string input = _folder.Write("bids.jsonl", Records(40_000));
        string script = _folder.Write("count.csx", "from r in input.TumblingWindow(TimeSpan.FromSeconds(10))\ngroup r by r.Long(\"auction\") into g\nselect new { g.Key, N = g.Count() }\n");

        var result = await CliProcess.RunAsync("run", script, "--input", input, "--out", _folder.File("out.jsonl"), "--max-delay", "5s", "--progress-interval", "0");

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length >= 2, result.ToString());
        long previous = 0;
        foreach (var line in lines)
        {
            var match = ProgressLine().Match(line);
            Assert.True(match.Success, $"not a progress line: '{line}'\n{result}");
            Assert.Equal("run", match.Groups["label"].Value);
            Assert.Equal("5 s", match.Groups["lag"].Value);
            long read = long.Parse(match.Groups["events"].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);
            Assert.InRange(read, previous + 1, 40_000);
            previous = read;
            // The watermark is the latest record's time minus 5 s: record n is at n × 100 ms.
            var watermark = DateTimeOffset.Parse(match.Groups["watermark"].Value, CultureInfo.InvariantCulture);
            Assert.Equal(s_start.AddMilliseconds((read - 1) * 100).AddSeconds(-5), watermark);
        }

        Assert.Matches(@"(?m)^run: 40,000 lines, 40,000 events, 2,800 results \(written to .*\) in [\d.]+ s, watermark lag up to 5 s\s*$", result.Output);
    }

    [Fact]
    public async Task Run_Quiet_PrintsNoProgress()
    {
        string input = _folder.Write("bids.jsonl", Records(40_000));
        string script = _folder.Write("all.csx", "input.Select(r => r.Long(\"price\"))\n");

        var result = await CliProcess.RunAsync("run", script, "--input", input, "--out", _folder.File("out.jsonl"), "--progress-interval", "0", "--quiet");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(string.Empty, result.Error);
        Assert.Equal(string.Empty, result.Output);
    }

    [Fact]
    public async Task Nexmark_ProgressLines_ShowTheJoinsWatermarkLag()
    {
        var result = await CliProcess.RunAsync("nexmark", "--query", "q8", "--events", "2M", "--progress-interval", "0");

        Assert.True(result.ExitCode == 0, result.ToString());
        var matches = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(l => ProgressLine().Match(l)).ToList();
        Assert.True(matches.Count >= 2, result.ToString());
        Assert.All(matches, m => Assert.True(m.Success && m.Groups["label"].Value == "q8", result.ToString()));
        Assert.Matches(@"(?m)^q8: 2,000,000 events .* results, watermark lag up to [\d.]+ s\s*$", result.Output);
    }

    private static readonly DateTimeOffset s_start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static string Records(int count)
    {
        var text = new System.Text.StringBuilder();
        for (int i = 0; i < count; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"{{\"time\":\"{s_start.AddMilliseconds(i * 100L):yyyy-MM-ddTHH:mm:ss.fffZ}\",\"auction\":{i % 7},\"price\":{100 + i}}}\n");
        }

        return text.ToString();
    }

    [GeneratedRegex(@"^progress: (?<label>\w+): (?<events>[\d,]+) events read, [\d,]+ events/s, watermark (?<watermark>\S+Z), watermark lag (?<lag>[\d.]+ s)$")]
    private static partial Regex ProgressLine();
}
