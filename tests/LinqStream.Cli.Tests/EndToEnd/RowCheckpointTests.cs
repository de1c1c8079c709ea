namespace LinqStream.Cli.Tests.EndToEnd;

/// <summary>
/// <c>linqstream run --checkpoints</c> over a file read as <c>Row</c>s restores a checkpoint taken while its reorder buffer held rows
/// (out-of-order input under <c>--max-delay</c>), and the file it writes ends as an uninterrupted run's.
/// </summary>
[Trait("Category", "Slow")] // Slow (fast suite skips it): runs the linqstream CLI in child processes
public sealed class RowCheckpointTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Theory]
    [InlineData("jsonl")]
    [InlineData("csv")]
    public async Task Restore_OfACheckpointHoldingRows_WritesWhatAnUninterruptedRunWrites(string format)
    {
        string input = _folder.Write("in." + format, Input(format, 60_000, seed: 7));
        string script = _folder.Write("q.csx", """
            from r in input.TumblingWindow(TimeSpan.FromSeconds(1))
            group r by r.Long("key") into g
            select new { g.Key, N = g.Count(), S = g.Sum(x => x.Double("v")), Names = g.Max(x => x.String("name")), g.Window.End }
            """);
        string expected = _folder.File("expected.jsonl"), output = _folder.File("out.jsonl"), checkpoints = _folder.File("checkpoints");
        string[] job = ["run", script, "--input", input, "--out", output, "--max-delay", "1s", "--checkpoints", checkpoints, "--checkpoint-every", "10k", "--quiet"];

        var uninterrupted = await CliProcess.RunAsync("run", script, "--input", input, "--out", expected, "--max-delay", "1s", "--quiet");
        var first = await CliProcess.RunAsync(job);
        // The first run left its last periodic checkpoint (mid-file, rows in the reorder buffer); the same command goes on from it,
        // cutting the output back to the checkpoint's length and writing the rest again.
        var second = await CliProcess.RunAsync(job);

        Assert.True(uninterrupted.ExitCode == 0, uninterrupted.ToString());
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Contains("restoring from checkpoint", second.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("failed", second.Error, StringComparison.Ordinal);
        Assert.NotEmpty(File.ReadAllLines(expected));
        Assert.Equal(File.ReadAllLines(expected), File.ReadAllLines(output));
    }

    /// <summary>Events up to 500 ms out of order, keys 0..49, a double, a string with a comma-free name.</summary>
    private static string Input(string format, int count, int seed)
    {
        var random = new Random(seed);
        var lines = new List<string>(count + 1);
        if (format == "csv")
        {
            lines.Add("time,key,v,name");
        }

        for (int i = 0; i < count; i++)
        {
            long time = 1_700_000_000_000 + (i * 10L) - random.Next(0, 500);
            int key = random.Next(0, 50);
            string v = (random.NextDouble() * 100).ToString("R", System.Globalization.CultureInfo.InvariantCulture);
            string name = "n" + random.Next(0, 1000).ToString(System.Globalization.CultureInfo.InvariantCulture);
            lines.Add(format == "csv" ? $"{time},{key},{v},{name}" : $$"""{"time":{{time}},"key":{{key}},"v":{{v}},"name":"{{name}}"}""");
        }

        return string.Join('\n', lines) + "\n";
    }
}
