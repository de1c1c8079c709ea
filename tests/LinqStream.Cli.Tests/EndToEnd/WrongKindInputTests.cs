using System.Text.Json;

namespace LinqStream.Cli.Tests.EndToEnd;

/// <summary>
/// A value of the wrong kind read by the script (<c>r.Long("price")</c> of 1.5, NaN, Infinity, 1e400) is a malformed line: reported,
/// dead-lettered with its line number and reason, and skipped; with --strict the run stops at the first one (exit 4). Read in a
/// Where, a Select, a group key or an aggregate input alike (issue #14).
/// </summary>
[Trait("Category", "Slow")] // Slow (fast suite skips it): runs the linqstream CLI in child processes
public sealed class WrongKindInputTests : IDisposable
{
    private static readonly Dictionary<string, string> s_scripts = new()
    {
        ["select"] = "from r in input select new { A = r.Long(\"auction\"), P = r.Long(\"price\") }",
        ["where"] = "from r in input where r.Long(\"price\") > 15 select r.Long(\"auction\")",
        ["key"] = """
            from r in input.TumblingWindow(TimeSpan.FromSeconds(10))
            group r by r.Long("price") % 3 into g
            select new { g.Key, N = g.Count(), g.Window.End }
            """,
        ["aggregate"] = """
            from r in input.TumblingWindow(TimeSpan.FromSeconds(10))
            group r by r.Long("auction") into g
            select new { Auction = g.Key, Bids = g.Count(), Total = g.Sum(r => r.Long("price")), g.Window.End }
            """,
    };

    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (string format in new[] { "jsonl", "csv" })
        {
            foreach (string script in s_scripts.Keys)
            {
                data.Add(format, script);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Run_WrongKindValues_AreMalformedLines_DeadLetteredAndSkipped(string format, string scriptName)
    {
        var (all, good, badLines) = Input(format);
        string input = _folder.Write("all." + format, all);
        string goodInput = _folder.Write("good." + format, good);
        string script = _folder.Write(scriptName + ".csx", s_scripts[scriptName]);
        string output = _folder.File("out.jsonl"), expectedOutput = _folder.File("expected.jsonl"), deadLetter = _folder.File("dead.jsonl");

        var expected = await CliProcess.RunAsync("run", script, "--input", goodInput, "--out", expectedOutput, "--quiet");
        var result = await CliProcess.RunAsync("run", script, "--input", input, "--out", output, "--dead-letter", deadLetter);

        Assert.True(expected.ExitCode == 0, expected.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.NotEmpty(File.ReadAllLines(expectedOutput));
        Assert.Equal(File.ReadAllLines(expectedOutput), File.ReadAllLines(output));
        var dead = File.ReadAllLines(deadLetter).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(badLines.Select(b => (long)b.Line), dead.Select(d => d.GetProperty("line").GetInt64()));
        for (int i = 0; i < dead.Length; i++)
        {
            Assert.Equal(input, dead[i].GetProperty("file").GetString());
            Assert.Equal($"field 'price' is not a whole number: {badLines[i].Shown}", dead[i].GetProperty("reason").GetString());
            Assert.Contains($"{input}:{badLines[i].Line}: field 'price' is not a whole number", result.Error, StringComparison.Ordinal);
        }

        Assert.Contains($"{badLines.Length} malformed", result.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("jsonl", "aggregate")]
    [InlineData("csv", "select")]
    public async Task RunAsJob_WrongKindValues_AreMalformedLines_DeadLetteredAndSkipped(string format, string scriptName)
    {
        // The same with --checkpoints (the query runs as a QueryJob): results as without the bad lines, each bad line dead-lettered once.
        var (all, good, badLines) = Input(format);
        string input = _folder.Write("all." + format, all);
        string goodInput = _folder.Write("good." + format, good);
        string script = _folder.Write(scriptName + ".csx", s_scripts[scriptName]);
        string output = _folder.File("out.jsonl"), expectedOutput = _folder.File("expected.jsonl"), deadLetter = _folder.File("dead.jsonl");

        var expected = await CliProcess.RunAsync("run", script, "--input", goodInput, "--out", expectedOutput, "--quiet");
        var result = await CliProcess.RunAsync("run", script, "--input", input, "--out", output, "--dead-letter", deadLetter, "--checkpoints", _folder.File("checkpoints"));

        Assert.True(expected.ExitCode == 0, expected.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.NotEmpty(File.ReadAllLines(expectedOutput));
        Assert.Equal(File.ReadAllLines(expectedOutput), File.ReadAllLines(output));
        var dead = File.ReadAllLines(deadLetter).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(badLines.Select(b => (long)b.Line), dead.Select(d => d.GetProperty("line").GetInt64()));
        Assert.All(dead, d => Assert.StartsWith("field 'price' is not a whole number: ", d.GetProperty("reason").GetString(), StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("jsonl", "select")]
    [InlineData("jsonl", "aggregate")]
    [InlineData("csv", "where")]
    [InlineData("csv", "key")]
    public async Task Run_WrongKindValue_UnderStrict_StopsWithExit4NamingTheFirstBadLine(string format, string scriptName)
    {
        var (all, _, badLines) = Input(format);
        string input = _folder.Write("all." + format, all);
        string script = _folder.Write(scriptName + ".csx", s_scripts[scriptName]);

        var result = await CliProcess.RunAsync("run", script, "--input", input, "--strict", "--quiet");

        Assert.True(result.ExitCode == 4, result.ToString());
        Assert.Contains(
            $"Stopped at the first malformed line (--strict): {input}:{badLines[0].Line}: field 'price' is not a whole number: {badLines[0].Shown}",
            result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_OtherExceptionsAndMissingFields_StillStopTheQuery()
    {
        var (all, _, _) = Input("jsonl");
        string input = _folder.Write("all.jsonl", all);
        string divide = _folder.Write("divide.csx", "from r in input select 10 / (r.Long(\"auction\") - 1)");
        string missing = _folder.Write("missing.csx", "from r in input select r.Long(\"nope\")");

        var divided = await CliProcess.RunAsync("run", divide, "--input", input, "--quiet");
        var missed = await CliProcess.RunAsync("run", missing, "--input", input, "--quiet");

        Assert.True(divided.ExitCode == 1, divided.ToString());
        Assert.Contains("DivideByZeroException", divided.Error, StringComparison.Ordinal);
        Assert.True(missed.ExitCode == 3, missed.ToString());
        Assert.Contains("has no field 'nope'", missed.Error, StringComparison.Ordinal);
    }

    /// <summary>Good lines with wrong-kind prices between them; the same file without them; the bad lines' numbers and values as shown.</summary>
    private static (string All, string Good, (int Line, string Shown)[] Bad) Input(string format)
    {
        // (second, auction, price as written, shown in the reason or null for a good line)
        (int Second, int Auction, string Price, string? Shown)[] records = format == "jsonl"
            ? [(1, 1, "10", null), (2, 2, "1.5", "1.5"), (3, 1, "20", null), (4, 2, "1e400", "Infinity"), (5, 2, "30", null),
               (6, 1, "-2.5e-3", "-0.0025"), (12, 1, "40", null), (13, 2, "50", null)]
            : [(1, 1, "10", null), (2, 2, "1.5", "1.5"), (3, 1, "20", null), (4, 2, "NaN", "NaN"), (5, 2, "30", null),
               (6, 1, "Infinity", "Infinity"), (7, 2, "1e400", "Infinity"), (12, 1, "40", null), (13, 2, "50", null)];
        string Text((int Second, int Auction, string Price, string? Shown) r) => format == "jsonl"
            ? $"{{\"time\":\"2026-01-01T00:00:{r.Second:00}Z\",\"auction\":{r.Auction},\"price\":{r.Price}}}"
            : $"2026-01-01T00:00:{r.Second:00}Z,{r.Auction},{r.Price}";
        string header = format == "jsonl" ? "" : "time,auction,price\n";
        int first = format == "jsonl" ? 1 : 2;
        string all = header + string.Concat(records.Select(r => Text(r) + "\n"));
        string good = header + string.Concat(records.Where(r => r.Shown is null).Select(r => Text(r) + "\n"));
        var bad = records.Select((r, i) => (Line: first + i, r.Shown)).Where(b => b.Shown is not null).Select(b => (b.Line, b.Shown!)).ToArray();
        return (all, good, bad);
    }
}
