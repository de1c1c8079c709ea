using System.Diagnostics;
using Xunit.Abstractions;

namespace LinqStream.Orleans.Tests;

[Trait("Category", "Slow")] // Slow (fast suite skips it): starts redis-server, 3 silo processes and the CLI several times (minutes each).
public sealed class ClusterDemoScriptTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ClusterDemo_SiloKilledWithSigkill_OutputStreamEqualsTheSingleProcessRun()
    {
        var text = await RunDemoAsync("300000");

        Assert.Contains("cluster-demo: identical:", text, StringComparison.Ordinal);
        Assert.Contains("cluster-demo: recovery time", text, StringComparison.Ordinal);
        Assert.Contains("restored from checkpoint", text, StringComparison.Ordinal);
    }

    // The original flake is fixed (a task's start compiled the script inside the grain call on the silo's scheduler: 30-40 s at load
    // 25-45, start timeouts and rollbacks before the job ran; the test then passed 3 times in a row at load 22-55). With the script
    // compiled once per silo the killed run is fast (100,000 bids in about 1.4 s at load 31) and the SIGKILL can come after the killed
    // silo's tasks finished: the job completes in epoch 1 without a rollback. After the merge of main (load 17-31) the next 3 runs failed:
    // twice on the script's own races (fixed since: the kill follows the checkpoint index in Redis, the next epoch's log line is waited
    // for) and once on this one. Needs an input held until the kill, or a larger one (docs/cluster.md).
    [Fact(Skip = "Races the end of the input on warm silos (issue #17, 2026-12-04 22:50): the SIGKILL after checkpoint 2 can come after the killed silo's tasks ended, so no rollback happens. By hand: scripts/cluster-demo.sh 100000 6")]
    public async Task ClusterDemo_SixTasksOverThreeSilos_TaskSiloKilledWithSigkill_RollsBackAndOutputStreamEqualsTheSingleProcessRun()
    {
        var text = await RunDemoAsync("100000", "6");

        Assert.Contains("the job is spread over 6 keyed tasks", text, StringComparison.Ordinal);
        Assert.Contains("3 silos with 6 keyed tasks", text, StringComparison.Ordinal); // the uninterrupted run, timed
        Assert.Contains("rolled back: epoch ", text, StringComparison.Ordinal); // the coordinator stayed
        Assert.Contains("the whole job rolled back", text, StringComparison.Ordinal);
        Assert.Contains("restored from checkpoint", text, StringComparison.Ordinal);
        Assert.Equal(2, text.Split("cluster-demo: identical:").Length - 1); // the uninterrupted run's output and the killed one's
    }

    private async Task<string> RunDemoAsync(params string[] arguments)
    {
        var root = RepositoryRoot();
        var cli = Path.Combine(root, "artifacts", "bin", "LinqStream.Cli", "release", "LinqStream.Cli.dll");
        Assert.True(File.Exists(cli), $"{cli} is missing: build the CLI first (dotnet build src/LinqStream.Cli -c Release).");
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = root };
        info.ArgumentList.Add(Path.Combine(root, "scripts", "cluster-demo.sh"));
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        await process.WaitForExitAsync(timeout.Token);
        var text = await stdout;
        output.WriteLine(text);
        output.WriteLine(await stderr);

        Assert.Equal(0, process.ExitCode);
        return text;
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "LinqStream.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No LinqStream.sln above {AppContext.BaseDirectory}.");
    }
}
