using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace LinqStream.Cli.Tests.EndToEnd;

/// <summary><c>--parallelism N</c> on <c>run</c> and <c>nexmark</c>: the same results, in the same order, as on one task.</summary>
[Trait("Category", "Slow")] // Slow (fast suite skips it): runs the linqstream CLI in child processes
public sealed class ParallelismTests : IDisposable
{
    private const string BidsPerAuction = """
        from r in input.TumblingWindow(TimeSpan.FromSeconds(10))
        group r by r.Long("auction") into g
        select new { Auction = g.Key, Bids = g.Count(), Total = g.Sum(r => r.Long("price")), g.Window.End }
        """;

    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Run_Parallelism3_WritesTheSameFileAsParallelism1()
    {
        var text = new StringBuilder();
        var start = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        for (int i = 0; i < 3000; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"{{\"time\":\"{start.AddSeconds(i / 7):yyyy-MM-ddTHH:mm:ssZ}\",\"auction\":{i * 7919 % 101},\"price\":{100 + i}}}\n");
        }

        string input = _folder.Write("bids.jsonl", text.ToString());
        string script = _folder.Write("hot.csx", BidsPerAuction);
        string one = _folder.File("one.jsonl"), three = _folder.File("three.jsonl");

        var first = await CliProcess.RunAsync("run", script, "--input", input, "--out", one, "--quiet");
        var second = await CliProcess.RunAsync("run", script, "--input", input, "--out", three, "--quiet", "--parallelism", "3");

        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.True(File.ReadAllLines(one).Length > 100);
        Assert.Equal(File.ReadAllBytes(one), File.ReadAllBytes(three));
    }

    [Fact]
    public async Task Nexmark_Q5Parallelism2_GivesAsManyResultsAsParallelism1()
    {
        var one = await CliProcess.RunAsync("nexmark", "--query", "q5", "--events", "100k", "--quiet");
        var two = await CliProcess.RunAsync("nexmark", "--query", "q5", "--events", "100k", "--quiet", "--parallelism", "2");

        Assert.True(one.ExitCode == 0, one.ToString());
        Assert.True(two.ExitCode == 0, two.ToString());
        static string Results(string output) => Regex.Match(output, @"([\d,]+) results").Groups[1].Value;
        Assert.NotEqual(string.Empty, Results(one.Output));
        Assert.Equal(Results(one.Output), Results(two.Output));
    }

    [Fact]
    public async Task Nexmark_ParallelismZero_ExitsTwo()
    {
        var result = await CliProcess.RunAsync("nexmark", "--query", "q5", "--parallelism", "0");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("--parallelism must be between 1 and 1024", result.Error + result.Output, StringComparison.Ordinal);
    }
}
