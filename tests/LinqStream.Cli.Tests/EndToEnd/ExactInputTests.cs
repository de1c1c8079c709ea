using System.Text;
using System.Text.Json;

namespace LinqStream.Cli.Tests.EndToEnd;

/// <summary>The CLI's input rows: numbers exact as written; invalid UTF-8 and over-long lines are malformed lines with their own reason.</summary>
[Trait("Category", "Slow")] // Slow (fast suite skips it): runs the linqstream CLI in child processes
public sealed class ExactInputTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Run_BadBytesAndOverLongLines_AreMalformedWithTheirOwnReason_AndNumbersStayExact()
    {
        var text = new MemoryStream();
        void Line(string s) => text.Write(Encoding.UTF8.GetBytes(s + "\n"));
        text.Write([0xEF, 0xBB, 0xBF]);                                                  // a byte order mark: not part of line 1
        Line("{\"time\":\"2026-01-01T00:00:01Z\",\"v\":9007199254740993,\"s\":\"a\"}");   // line 1
        text.Write(Encoding.UTF8.GetBytes("{\"time\":\"2026-01-01T00:00:02Z\",\"v\":1,\"s\":\""));
        text.Write([0xC3, 0x28]);                                                        // line 2: invalid UTF-8
        Line("\"}");
        Line("{\"time\":\"2026-01-01T00:00:03Z\",\"v\":9223372036854775807,\"s\":\"" + new string('x', 400) + "\"}"); // line 3: too long
        Line("{\"time\":\"2026-01-01T00:00:04Z\",\"v\":9223372036854775807,\"s\":\"b\"}"); // line 4
        string input = _folder.Write("rows.jsonl", string.Empty);
        await File.WriteAllBytesAsync(input, text.ToArray());
        string script = _folder.Write("exact.csx", "from r in input select new { r.Line, L = r.Long(\"v\"), D = r.Decimal(\"v\"), S = r.String(\"v\"), Kind = r.Get(\"v\")!.GetType().Name }");
        string output = _folder.File("out.jsonl");
        string deadLetter = _folder.File("dead.jsonl");

        var result = await CliProcess.RunAsync("run", script, "--input", input, "--out", output, "--dead-letter", deadLetter, "--max-line-length", "300");

        Assert.True(result.ExitCode == 0, result.ToString());
        var rows = File.ReadAllLines(output).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal([1L, 4L], rows.Select(r => r.GetProperty("Line").GetInt64()));
        Assert.Equal([9007199254740993L, long.MaxValue], rows.Select(r => r.GetProperty("L").GetInt64()));
        Assert.Equal([9007199254740993m, long.MaxValue], rows.Select(r => r.GetProperty("D").GetDecimal()));
        Assert.Equal(["9007199254740993", "9223372036854775807"], rows.Select(r => r.GetProperty("S").GetString()));
        Assert.All(rows, r => Assert.Equal("Int64", r.GetProperty("Kind").GetString()));
        var dead = File.ReadAllLines(deadLetter).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal([2L, 3L], dead.Select(d => d.GetProperty("line").GetInt64()));
        Assert.Contains("not valid UTF-8", dead[0].GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Contains("longer than 300 bytes", dead[1].GetProperty("reason").GetString(), StringComparison.Ordinal);
    }
}
