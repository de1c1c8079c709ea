using System.Text.RegularExpressions;

namespace LinqStream.Operations.Tests;

/// <summary><c>run --metrics prometheus:HOST:PORT</c>: the endpoint serves every metric docs/operations.md documents, with live values.</summary>
[Trait("Category", "Slow")] // Slow (fast suite skips it): child processes, real servers or a headless browser
public sealed class PrometheusTests : IDisposable
{
    private readonly Workspace _workspace = new();

    [Fact]
    public async Task PrometheusEndpoint_WhileAQueryRuns_ServesEveryDocumentedMetric()
    {
        string input = await Workspace.ProduceAsync("20k");
        int port = Workspace.FreePort();
        using var job = JobProcess.Start(
            "run", _workspace.Script, "--source", input, "--follow", "--time", "dateTime", "--out", _workspace.PathOf("out.jsonl"),
            "--checkpoints", _workspace.PathOf("checkpoints"), "--checkpoint-every", "5k", "--metrics", $"prometheus:127.0.0.1:{port}");
        await job.WaitForErrorAsync($@"run: Prometheus metrics at http://127\.0\.0\.1:{port}/metrics");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var endpoint = new Uri($"http://127.0.0.1:{port}/metrics");

        string scrape = "";
        await job.WaitUntilAsync(
            () =>
            {
                scrape = http.GetStringAsync(endpoint).GetAwaiter().GetResult();
                return Value(scrape, "linqstream_job_events_in_total") == 20_000 && Value(scrape, "linqstream_job_checkpoints_total") >= 3;
            },
            "the scrape showed every event read and three checkpoints");

        var documented = DocumentedNames();
        Assert.True(documented.Count >= 20, $"docs/operations.md documents {documented.Count} Prometheus names.");
        var missing = documented.Where(name => !Regex.IsMatch(scrape, $@"(?m)^{name}(_bucket|_sum|_count)?\{{")).ToArray();
        Assert.True(missing.Length == 0, $"Not served: {string.Join(", ", missing)}\n{scrape}");
        Assert.Equal(3, Regex.Count(scrape, @"(?m)^linqstream_operator_events_out_total\{")); // From, Where, HoppingWindowAggregate
        Assert.Equal(Value(scrape, "linqstream_job_events_out_total"), Value(scrape, "linqstream_operator_events_out_total", "0 HoppingWindowAggregate"));
        Assert.True(Value(scrape, "linqstream_job_state_size_bytes") > 0, scrape);

        job.Interrupt();
        Assert.True(await job.WaitForExitAsync() == 0, job.ToString());
    }

    public void Dispose() => _workspace.Dispose();

    /// <summary>The Prometheus names in the metrics table of docs/operations.md (the second column, in backticks).</summary>
    private static List<string> DocumentedNames()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "docs", "operations.md")))
        {
            directory = directory.Parent;
        }

        Assert.NotNull(directory);
        string docs = File.ReadAllText(Path.Combine(directory.FullName, "docs", "operations.md"));
        return [.. Regex.Matches(docs, @"(?m)^\| `linqstream\.[a-z_.]+` \| `(linqstream_[a-z_]+)` \|").Select(m => m.Groups[1].Value).Distinct()];
    }

    private static double Value(string scrape, string name, string? operatorLabel = null)
    {
        string label = operatorLabel is null ? "" : $@"[^}}]*operator=""{Regex.Escape(operatorLabel)}""";
        var match = Regex.Match(scrape, $@"(?m)^{name}\{{{label}[^}}]*\}} ([0-9.eE+-]+)");
        return match.Success ? double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : double.NaN;
    }
}
