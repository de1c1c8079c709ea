using System.Diagnostics;
using LinqStream.Connectors.Tests.Cli;

namespace LinqStream.Operations.Tests;

/// <summary><c>run --dashboard</c> in a real headless Chromium: the page loads, its charts move while the query runs, and its button takes a checkpoint.</summary>
[Trait("Category", "Slow")] // Slow (fast suite skips it): child processes, real servers or a headless browser
public sealed class DashboardBrowserTests : IDisposable
{
    private readonly Workspace _workspace = new();

    [Fact]
    public async Task Dashboard_InHeadlessChromium_ChartsUpdateLiveAndTheCheckpointButtonTakesACheckpoint()
    {
        // Events keep arriving while the page is open (3,000 a second), so the charts have something to draw.
        string input = Workspace.NewStream("bids");
        await Workspace.AppendAsync(input, "{not json", "[1, 2]");
        using var producer = ProducerProcess.Start(input);
        string checkpoints = _workspace.PathOf("checkpoints");
        using var job = JobProcess.Start(
            "run", _workspace.Script, "--source", input, "--follow", "--time", "dateTime", "--out", _workspace.PathOf("out.jsonl"),
            "--checkpoints", checkpoints, "--checkpoint-every", "1h", "--dashboard", "127.0.0.1:0", "--job-name", "hot-items", "--max-delay", "2s");
        string url = (await job.WaitForErrorAsync(@"run: dashboard at (http://\S+)")).Groups[1].Value;

        await using var browser = await DevToolsBrowser.StartAsync(1400, 900);
        await browser.NavigateAsync(url);
        await browser.WaitForAsync("window.lsq && window.lsq.updates >= 6", "six server-sent updates");
        await browser.WaitForAsync("window.lsq.throughput.some(v => v > 0) && window.lsq.last.eventsIn > 2000", "events flowing");
        long before = (await browser.EvaluateAsync("window.lsq.updates"))!.GetValue<long>();
        await browser.WaitForAsync($"window.lsq.updates >= {before + 4}", "more updates while the query runs");

        Assert.Equal("hot-items", (await browser.EvaluateAsync("document.getElementById('job').textContent"))!.GetValue<string>());
        Assert.Equal(3, (await browser.EvaluateAsync("document.querySelectorAll('#plan g[data-operator]').length"))!.GetValue<int>());
        Assert.Equal(2, (await browser.EvaluateAsync("document.querySelectorAll('#plan path.edge').length"))!.GetValue<int>());
        Assert.True((await browser.EvaluateAsync("window.lsq.throughput.length"))!.GetValue<int>() >= 10);

        Assert.Empty(Directory.Exists(checkpoints) ? Directory.GetFiles(checkpoints, "*.lsqc") : []);
        await browser.EvaluateAsync("document.getElementById('checkpoint').click()");
        await browser.WaitForAsync("window.lsq.checkpointsTaken.length === 1", "the checkpoint button's reply");
        long id = (await browser.EvaluateAsync("window.lsq.checkpointsTaken[0]"))!.GetValue<long>();
        Assert.True(File.Exists(Path.Combine(checkpoints, $"{id:D12}.lsqc")), $"checkpoint {id} is not in {checkpoints}");
        await browser.WaitForAsync($"document.getElementById('checkpoints').textContent.includes('{id}')", "the checkpoint in the table");
        await browser.WaitForAsync("document.getElementById('deadLetters').textContent.includes('invalid JSON')", "the malformed message in the dead letters");
        Assert.Equal(2, (await browser.EvaluateAsync("window.lsq.last.deadLetters"))!.GetValue<int>());
        string? screenshot = Environment.GetEnvironmentVariable("LINQSTREAM_DASHBOARD_SCREENSHOT");
        int points = string.IsNullOrEmpty(screenshot) ? 12 : 60; // a fuller chart for docs/dashboard.png
        await browser.WaitForAsync($"window.lsq.lag.length >= {points}", $"{points} points in the charts");

        byte[] png = await browser.ScreenshotAsync();
        Assert.True(png.Length > 10_000 && png[1] == 'P' && png[2] == 'N' && png[3] == 'G', $"a {png.Length}-byte screenshot");
        if (!string.IsNullOrEmpty(screenshot))
        {
            await File.WriteAllBytesAsync(screenshot, png); // docs/dashboard.png is made this way
        }

        job.Interrupt();
        Assert.True(await job.WaitForExitAsync() == 0, job.ToString());
    }

    public void Dispose() => _workspace.Dispose();

    /// <summary><c>linqstream produce</c> writing bids at a steady rate; killed when the test ends.</summary>
    private sealed class ProducerProcess(Process process) : IDisposable
    {
        public static ProducerProcess Start(string target)
        {
            var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var arg in new[] { CliProcess.CliPath, "produce", "--target", target, "--events", "300k", "--rate", "3000", "--quiet" })
            {
                start.ArgumentList.Add(arg);
            }

            var process = Process.Start(start)!;
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return new ProducerProcess(process);
        }

        public void Dispose()
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
            }

            process.Dispose();
        }
    }
}
