using System.Net.Http.Json;
using System.Text.Json;
using LinqStream.Connectors.Tests.Cli;

namespace LinqStream.Operations.Tests;

/// <summary><c>linqstream run --checkpoints</c> as a process: killed and restarted, interrupted with Ctrl+C, and its checkpoints listed.</summary>
[Trait("Category", "Slow")] // Slow (fast suite skips it): child processes, real servers or a headless browser
public sealed class DurableJobTests : IDisposable
{
    private readonly Workspace _workspace = new();

    [Fact]
    public async Task KilledJob_StartedAgain_WritesTheSameOutputStreamAsAnUninterruptedRun()
    {
        string input = await Workspace.ProduceAsync("60k");
        string reference = Workspace.NewStream("reference"), output = Workspace.NewStream("out");
        using (var uninterrupted = JobProcess.Start(Run(input, reference, _workspace.PathOf("reference-checkpoints"))))
        {
            Assert.True(await uninterrupted.WaitForExitAsync() == 0, uninterrupted.ToString());
        }

        string checkpoints = _workspace.PathOf("checkpoints");
        using (var crashing = JobProcess.Start(Run(input, output, checkpoints)))
        {
            // Killed once two checkpoints are stored: the restart must restore state and positions, and cut nothing twice.
            await crashing.WaitUntilAsync(() => Directory.Exists(checkpoints) && Directory.GetFiles(checkpoints, "*.lsqc").Length >= 2, "two checkpoints were stored");
            crashing.Kill();
        }

        var expected = await Workspace.ReadStreamAsync(reference);
        var beforeRestart = await Workspace.ReadStreamAsync(output);
        Assert.InRange(beforeRestart.Length, 1, expected.Length - 1); // the kill landed in the middle of the output

        using var restarted = JobProcess.Start(Run(input, output, checkpoints));
        int exit = await restarted.WaitForExitAsync();

        Assert.True(exit == 0, restarted.ToString());
        Assert.Matches(@"run: restoring from checkpoint \d+ \(.*\): part 1: EventSource: [\d,]+ events read, at Redis entry \d+-\d+\.", restarted.Error);
        Assert.Equal(expected, await Workspace.ReadStreamAsync(output));
    }

    [Fact]
    public async Task Interrupted_TakesAFinalCheckpointAndExitsZero_AndTheNextRunGoesOnFromIt()
    {
        string input = await Workspace.ProduceAsync("20k");
        string reference = _workspace.PathOf("reference.jsonl"), output = _workspace.PathOf("out.jsonl"), checkpoints = _workspace.PathOf("checkpoints");
        var uninterrupted = await CliProcess.RunAsync("run", _workspace.Script, "--source", input, "--time", "dateTime", "--out", reference, "--quiet");
        Assert.True(uninterrupted.ExitCode == 0, uninterrupted.ToString());

        string finalCheckpoint;
        using (var following = JobProcess.Start(
            "run", _workspace.Script, "--source", input, "--follow", "--time", "dateTime", "--out", output, "--checkpoints", checkpoints, "--checkpoint-every", "1h",
            "--dashboard", "127.0.0.1:0"))
        {
            // Wait until the job has read the whole stream (the dashboard's snapshot says so), then press Ctrl+C.
            string dashboard = (await following.WaitForErrorAsync(@"run: dashboard at (http://\S+)")).Groups[1].Value;
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            long eventsIn = 0;
            await following.WaitUntilAsync(
                () =>
                {
                    eventsIn = http.GetFromJsonAsync<JsonElement>(new Uri(new Uri(dashboard), "api/snapshot")).GetAwaiter().GetResult().GetProperty("eventsIn").GetInt64();
                    return eventsIn == 20_000;
                },
                "every event was read");
            following.Interrupt();

            Assert.True(await following.WaitForExitAsync() == 0, following.ToString());
            finalCheckpoint = (await following.WaitForErrorAsync(@"run: stopped; final checkpoint (\d+) in ")).Groups[1].Value;
        }

        var listing = await CliProcess.RunAsync("checkpoints", checkpoints);
        Assert.True(listing.ExitCode == 0, listing.ToString());
        Assert.Matches($@"(?m)^\s+{finalCheckpoint}\s+\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{{3}} UTC\s+[\d.]+ (B|kB|MB)\s+query [0-9A-F]{{12}}$", listing.Output);
        Assert.Contains($"part 1: EventSource: 20,000 events read, at Redis entry {await Workspace.LastEntryIdAsync(input)}", listing.Output, StringComparison.Ordinal);

        using var resumed = JobProcess.Start("run", _workspace.Script, "--source", input, "--time", "dateTime", "--out", output, "--checkpoints", checkpoints);
        Assert.True(await resumed.WaitForExitAsync() == 0, resumed.ToString());
        Assert.Contains($"run: restoring from checkpoint {finalCheckpoint} ", resumed.Error, StringComparison.Ordinal);
        Assert.Equal(await File.ReadAllTextAsync(reference), await File.ReadAllTextAsync(output));
    }

    [Fact]
    public async Task Checkpoints_EmptyDirectory_SaysThereAreNone()
    {
        Directory.CreateDirectory(_workspace.PathOf("none"));

        var listing = await CliProcess.RunAsync("checkpoints", _workspace.PathOf("none"));

        Assert.Equal(0, listing.ExitCode);
        Assert.Contains("No checkpoints in ", listing.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckpointEvery_WithoutCheckpoints_IsAUsageError()
    {
        var result = await CliProcess.RunAsync("run", _workspace.Script, "--source", "redis://127.0.0.1:1/x", "--checkpoint-every", "10s");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--checkpoint-every needs --checkpoints DIR", result.Error + result.Output, StringComparison.Ordinal);
    }

    public void Dispose() => _workspace.Dispose();

    private string[] Run(string input, string sink, string checkpoints) =>
        ["run", _workspace.Script, "--source", input, "--time", "dateTime", "--sink", sink, "--checkpoints", checkpoints, "--checkpoint-every", "10k", "--quiet"];
}
