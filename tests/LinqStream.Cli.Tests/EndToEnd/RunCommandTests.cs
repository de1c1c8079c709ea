using System.Globalization;
using System.Text;
using System.Text.Json;

namespace LinqStream.Cli.Tests.EndToEnd;

[Trait("Category", "Slow")] // Slow (fast suite skips it): runs the linqstream CLI in child processes
public sealed class RunCommandTests : IDisposable
{
    private const string BidsPerAuction = """
        // Bids per auction in 10-second tumbling windows.
        from r in input.TumblingWindow(TimeSpan.FromSeconds(10))
        group r by r.Long("auction") into g
        select new { Auction = g.Key, Bids = g.Count(), Total = g.Sum(r => r.Long("price")), g.Window.End }
        """;

    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Run_GoodScriptWithOut_WritesEveryResultAsAJsonLineAndExitsZero()
    {
        string input = _folder.Write("bids.jsonl", Bids(40));
        string script = _folder.Write("hot.csx", BidsPerAuction);
        string output = _folder.File("out.jsonl");

        var result = await CliProcess.RunAsync("run", script, "--input", input, "--out", output);

        Assert.True(result.ExitCode == 0, result.ToString());
        var windows = File.ReadAllLines(output).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        // 40 bids one second apart on auctions 0..3 in turn: 4 windows of 10 s, each with every auction.
        var expected = Enumerable.Range(0, 40)
            .GroupBy(i => (Window: i / 10, Auction: i % 4))
            .Select(g => $"{g.Key.Auction} {g.Count()} {g.Sum(i => 100 + i)} {(g.Key.Window + 1) * 10}")
            .Order(StringComparer.Ordinal);
        var actual = windows
            .Select(w => $"{w.GetProperty("Auction")} {w.GetProperty("Bids")} {w.GetProperty("Total")} {w.GetProperty("End").GetDateTimeOffset().Subtract(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero)).TotalSeconds}")
            .Order(StringComparer.Ordinal);
        Assert.Equal(expected, actual);
        Assert.Matches(@"(?m)^run: 40 lines, 40 events, 16 results \(written to .*out\.jsonl\) in [\d.]+ s\s*$", result.Output);
        Assert.Equal(string.Empty, result.Error);
    }

    [Fact]
    public async Task Run_GoodScriptWithoutOut_PrintsATableOfTheResults()
    {
        string input = _folder.Write("bids.jsonl", Bids(10));
        string script = _folder.Write("hot.csx", BidsPerAuction);

        var result = await CliProcess.RunAsync("run", script, "--input", input, "--quiet");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Auction", result.Output, StringComparison.Ordinal);
        Assert.Contains("2026-01-01T00:00:10+00:00", result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("run:", result.Output, StringComparison.Ordinal); // --quiet: no summary
    }

    [Fact]
    public async Task Run_ScriptDoesNotCompile_ExitsThreeWithTheCompilerDiagnosticsAndLineNumbers()
    {
        string input = _folder.Write("bids.jsonl", Bids(5));
        string script = _folder.Write("bad.csx", "var threshold = 100;\nfrom r in input\nwhere r.Lng(\"price\") > threshold\nselect undefinedName\n");

        var result = await CliProcess.RunAsync("run", script, "--input", input);

        Assert.True(result.ExitCode == 3, result.ToString());
        Assert.Contains("bad.csx(3,9): error CS1061: 'Row' does not contain a definition for 'Lng'", result.Error, StringComparison.Ordinal);
        Assert.Contains("bad.csx(4,8): error CS0103: The name 'undefinedName' does not exist", result.Error, StringComparison.Ordinal);
        Assert.Contains("    where r.Lng(\"price\") > threshold", result.Error, StringComparison.Ordinal);
        Assert.Contains("2 errors; the query did not run.", result.Error, StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.Output);
    }

    [Fact]
    public async Task Run_MalformedLines_AreReportedAndDeadLetteredAndEveryValidLineIsProcessed()
    {
        var lines = Bids(100).Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
        lines[9] = "{\"time\":\"2026-01-01T00:00:09Z\",\"auction\":1,\"price\":\"cheap\"}";   // line 10: wrong kind
        lines[19] = "this is not JSON";                                                      // line 20
        lines[29] = "{\"auction\":1,\"price\":5,\"channel\":\"web\"}";                                   // line 30: no time field
        lines[39] = "{\"time\":\"yesterday\",\"auction\":1,\"price\":5,\"channel\":\"web\"}";              // line 40: unreadable time
        lines[49] = "{\"time\":\"2025-12-31T23:00:00Z\",\"auction\":1,\"price\":5,\"channel\":\"web\"}";   // line 50: an hour out of order
        string input = _folder.Write("bids.jsonl", string.Join('\n', lines) + "\n");
        string script = _folder.Write("all.csx", "from r in input select new { Line = r.Line, Price = r.Long(\"price\") }");
        string output = _folder.File("out.jsonl");
        string deadLetter = _folder.File("dead.jsonl");

        var result = await CliProcess.RunAsync("run", script, "--input", input, "--out", output, "--dead-letter", deadLetter);

        Assert.True(result.ExitCode == 0, result.ToString());
        long[] bad = [10, 20, 30, 40, 50];
        var processed = File.ReadAllLines(output).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("Line").GetInt64()).ToArray();
        Assert.Equal(Enumerable.Range(1, 100).Select(i => (long)i).Except(bad), processed);
        var dead = File.ReadAllLines(deadLetter).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(bad, dead.Select(d => d.GetProperty("line").GetInt64()));
        Assert.All(dead, d => Assert.Equal(lines[(int)d.GetProperty("line").GetInt64() - 1], d.GetProperty("text").GetString()));
        Assert.All(dead, d => Assert.Equal(input, d.GetProperty("file").GetString()));
        Assert.Contains($"{input}:10: field 'price' is a string, expected a number as on line 1", result.Error, StringComparison.Ordinal);
        Assert.Contains($"{input}:20: invalid JSON", result.Error, StringComparison.Ordinal);
        Assert.Contains($"{input}:30: missing field 'time'", result.Error, StringComparison.Ordinal);
        Assert.Contains($"{input}:40: time field 'time': \"yesterday\" is not a time", result.Error, StringComparison.Ordinal);
        Assert.Contains($"{input}:50: out of order", result.Error, StringComparison.Ordinal);
        Assert.Contains("95 events, 5 malformed", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_StrictAndAMalformedLine_ExitsFourNamingTheLine()
    {
        var lines = Bids(30).Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
        lines[14] = "{\"time\":\"2026-01-01T00:00:14Z\",\"auction\":1";
        string input = _folder.Write("bids.jsonl", string.Join('\n', lines) + "\n");
        string script = _folder.Write("hot.csx", BidsPerAuction);
        string output = _folder.File("out.jsonl");

        var result = await CliProcess.RunAsync("run", script, "--input", input, "--strict", "--out", output);

        Assert.True(result.ExitCode == 4, result.ToString());
        Assert.Contains($"Stopped at the first malformed line (--strict): {input}:15: invalid JSON", result.Error, StringComparison.Ordinal);
        // Only the windows that closed before line 15 came out (the window [10 s, 20 s) was still open).
        Assert.All(File.ReadAllLines(output), l => Assert.Contains("\"End\":\"2026-01-01T00:00:10+00:00\"", l, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Run_StrictAndCleanInput_ExitsZero()
    {
        string input = _folder.Write("bids.jsonl", Bids(20));
        string script = _folder.Write("hot.csx", BidsPerAuction);

        var result = await CliProcess.RunAsync("run", script, "--input", input, "--strict", "--quiet");

        Assert.True(result.ExitCode == 0, result.ToString());
    }

    [Fact]
    public async Task Run_ScriptRecordOverCsv_ReadsColumnsByHeaderName()
    {
        var csv = new StringBuilder("time,auction,price,channel\n");
        for (int i = 0; i < 20; i++)
        {
            csv.Append(CultureInfo.InvariantCulture, $"2026-01-01T00:00:{i:00}Z,{i % 3},{100 + i},\"web, {i}\"\n");
        }

        csv.Append("2026-01-01T00:00:21Z,1,lots,web\n");
        string input = _folder.Write("bids.csv", csv.ToString());
        string script = _folder.Write("typed.csx", """
            record Bid(long Auction, long Price, string Channel, DateTime Time);

            from b in InputAs<Bid>().TumblingWindow(TimeSpan.FromSeconds(10))
            group b by b.Auction into g
            select new { Auction = g.Key, Max = g.Max(b => b.Price), g.Window.End }
            """);
        string output = _folder.File("out.jsonl");

        var result = await CliProcess.RunAsync("run", script, "--input", input, "--out", output);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(6, File.ReadAllLines(output).Length);
        Assert.Contains("{\"Auction\":0,\"Max\":118,\"End\":\"2026-01-01T00:00:20+00:00\"}", File.ReadAllLines(output));
        Assert.Contains($"{input}:22: field 'price' cannot be read as Int64 (Bid.Price)", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_LastLineEndsWithSemicolon_ExitsThreeAndSaysTheQueryIsMissing()
    {
        string input = _folder.Write("bids.jsonl", Bids(5));
        string script = _folder.Write("nothing.csx", "var q = from r in input select r;\n");

        var result = await CliProcess.RunAsync("run", script, "--input", input);

        Assert.True(result.ExitCode == 3, result.ToString());
        Assert.Contains("the script's last expression must be the query", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_QueryThatCannotStream_ExitsThreeWithTheTranslationError()
    {
        string input = _folder.Write("bids.jsonl", Bids(5));
        string script = _folder.Write("take.csx", "using System.Reactive.Linq;\n\ninput.Take(3)\n");

        var result = await CliProcess.RunAsync("run", script, "--input", input);

        Assert.True(result.ExitCode == 3, result.ToString());
        Assert.Contains("Take", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_NoTimeField_ExitsFourAndNamesTheFields()
    {
        string input = _folder.Write("bids.jsonl", Bids(5));
        string script = _folder.Write("hot.csx", BidsPerAuction);

        var result = await CliProcess.RunAsync("run", script, "--input", input, "--time", "ts");

        Assert.True(result.ExitCode == 4, result.ToString());
        Assert.Contains("has no field 'ts' for the event time; name it with --time FIELD. The fields are: time, auction, price", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_WithMaxDelay_SortsLateRecordsIn()
    {
        string input = _folder.Write("bids.jsonl", """
            {"time":"2026-01-01T00:00:05Z","auction":1,"price":1}
            {"time":"2026-01-01T00:00:03Z","auction":1,"price":2}
            {"time":"2026-01-01T00:00:12Z","auction":1,"price":3}
            """);
        string script = _folder.Write("hot.csx", BidsPerAuction);
        string output = _folder.File("out.jsonl");

        var result = await CliProcess.RunAsync("run", script, "--input", input, "--max-delay", "5s", "--out", output, "--strict");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(
            ["{\"Auction\":1,\"Bids\":2,\"Total\":3,\"End\":\"2026-01-01T00:00:10+00:00\"}", "{\"Auction\":1,\"Bids\":1,\"Total\":3,\"End\":\"2026-01-01T00:00:20+00:00\"}"],
            File.ReadAllLines(output));
    }

    [Theory]
    [InlineData("--format", "xml")]
    [InlineData("--max-delay", "soon")]
    public async Task Run_BadOption_ExitsTwo(string option, string value)
    {
        string input = _folder.Write("bids.jsonl", Bids(5));
        string script = _folder.Write("hot.csx", BidsPerAuction);

        var result = await CliProcess.RunAsync("run", script, "--input", input, option, value);

        Assert.True(result.ExitCode == 2, result.ToString());
    }

    [Fact]
    public async Task Run_MissingInputFile_ExitsTwo()
    {
        string script = _folder.Write("hot.csx", BidsPerAuction);

        var result = await CliProcess.RunAsync("run", script, "--input", _folder.File("no-such-file.jsonl"));

        Assert.True(result.ExitCode == 2, result.ToString());
    }

    /// <summary><paramref name="count"/> bids one second apart from 2026-01-01T00:00:00Z, on auctions 0 to 3 in turn, priced 100, 101, ...</summary>
    internal static string Bids(int count)
    {
        var text = new StringBuilder();
        var start = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        for (int i = 0; i < count; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"{{\"time\":\"{start.AddSeconds(i):yyyy-MM-ddTHH:mm:ssZ}\",\"auction\":{i % 4},\"price\":{100 + i},\"channel\":\"web\"}}\n");
        }

        return text.ToString();
    }
}
