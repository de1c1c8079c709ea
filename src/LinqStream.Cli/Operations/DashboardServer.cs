using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace LinqStream.Cli.Operations;

/// <summary>What the dashboard's buttons do to the running job.</summary>
internal interface IJobControl
{
    /// <summary>Gets a value indicating whether the job has a checkpoint store (<c>--checkpoints</c>); without one the button is disabled.</summary>
    bool CanCheckpoint { get; }

    /// <summary>Gets the job's delivery guarantee and its reason.</summary>
    string Guarantee { get; }

    /// <summary>Takes a checkpoint at the next batch boundary.</summary>
    Task<long> CheckpointAsync(CancellationToken cancellationToken);

    /// <summary>Stops the job as Ctrl+C does: a final checkpoint (with <c>--checkpoints</c>), then exit 0.</summary>
    void Stop();
}

/// <summary>
/// <c>run --dashboard HOST:PORT</c>: a Kestrel server with one page (<see cref="DashboardPage"/>, inline HTML and JavaScript, no build
/// step) that follows the job through server-sent events (<c>/api/events</c>, one <see cref="JobMetrics.Snapshot"/> every
/// <see cref="Interval"/>), and two actions (<c>POST /api/checkpoint</c>, <c>POST /api/stop</c>).
/// </summary>
internal sealed class DashboardServer : IAsyncDisposable
{
    /// <summary>How often the page gets a snapshot.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);

    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    private readonly WebApplication _app;

    private DashboardServer(WebApplication app, string url) => (_app, Url) = (app, url);

    /// <summary>Gets the page's address (with the real port when port 0 was asked for).</summary>
    public string Url { get; }

    public static async Task<DashboardServer> StartAsync(DashboardAddress address, JobMetrics metrics, IJobControl control, string plan, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders(); // the CLI's output is the results and its own messages
        builder.WebHost.UseUrls(address.Url);
        var app = builder.Build();
        var stopping = app.Lifetime.ApplicationStopping;

        app.MapGet("/", () => Results.Content(DashboardPage.Html, "text/html; charset=utf-8"));
        app.MapGet("/api/plan", () => Results.Json(new { job = metrics.Job, plan, control.CanCheckpoint, control.Guarantee }, s_json));
        app.MapGet("/api/snapshot", () => Results.Json(DashboardView.From(metrics.Snapshot()), s_json));
        app.MapGet("/api/events", async (HttpContext http) =>
        {
            http.Response.ContentType = "text/event-stream";
            http.Response.Headers.CacheControl = "no-cache";
            using var timer = new PeriodicTimer(Interval);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, stopping);
            try
            {
                do
                {
                    string json = JsonSerializer.Serialize(DashboardView.From(metrics.Snapshot()), s_json);
                    await http.Response.WriteAsync($"data: {json}\n\n", linked.Token).ConfigureAwait(false);
                    await http.Response.Body.FlushAsync(linked.Token).ConfigureAwait(false);
                }
                while (await timer.WaitForNextTickAsync(linked.Token).ConfigureAwait(false));
            }
            catch (OperationCanceledException)
            {
                // The page was closed, or the job ended.
            }
        });
        app.MapPost("/api/checkpoint", async (CancellationToken requestAborted) =>
        {
            if (!control.CanCheckpoint)
            {
                return Results.Json(new { error = "This job has no checkpoint store: run it with --checkpoints DIR." }, s_json, statusCode: StatusCodes.Status409Conflict);
            }

            try
            {
                long id = await control.CheckpointAsync(requestAborted).ConfigureAwait(false);
                return Results.Json(new { id }, s_json);
            }
            catch (InvalidOperationException ex)
            {
                return Results.Json(new { error = ex.Message }, s_json, statusCode: StatusCodes.Status409Conflict);
            }
        });
        app.MapPost("/api/stop", () =>
        {
            control.Stop();
            return Results.Accepted();
        });

        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        string url = app.Services.GetService(typeof(IServer)) is IServer server && server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() is { } bound
            ? bound.TrimEnd('/') + "/"
            : address.Url;
        return new DashboardServer(app, url);
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(timeout.Token).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>The snapshot as the page reads it: times as numbers (seconds, Unix milliseconds), so the charts need no parsing.</summary>
internal sealed record DashboardView(
    string Job,
    long Time,
    long EventsIn,
    long EventsOut,
    double EventsPerSecond,
    double ResultsPerSecond,
    long? Watermark,
    double? LagSeconds,
    long LateEvents,
    long DeadLetters,
    long StateBytes,
    double BlockedSeconds,
    double? LastCheckpointAgeSeconds,
    IReadOnlyList<DashboardView.Operator> Operators,
    IReadOnlyList<DashboardView.Checkpoint> Checkpoints,
    IReadOnlyList<DeadLetter> RecentDeadLetters)
{
    public static DashboardView From(JobMetricsSnapshot s) => new(
        s.Job,
        s.Time.ToUnixTimeMilliseconds(),
        s.EventsIn,
        s.EventsOut,
        s.EventsPerSecond,
        s.ResultsPerSecond,
        s.Watermark?.ToUnixTimeMilliseconds(),
        s.WatermarkLag?.TotalSeconds,
        s.LateEvents,
        s.DeadLetters,
        s.StateBytes,
        s.BackpressureBlocked.TotalSeconds,
        s.LastCheckpointAge?.TotalSeconds,
        [.. s.Operators.Select(o => new Operator(o.Id, o.Name, o.Detail, o.Inputs, o.EventsIn, o.EventsOut, o.EventsPerSecond, o.Watermark?.ToUnixTimeMilliseconds(), o.BackpressureBlocked.TotalSeconds))],
        [.. s.Checkpoints.Select(c => new Checkpoint(c.Id, c.Time.ToUnixTimeMilliseconds(), c.Duration.TotalSeconds, c.Bytes))],
        s.RecentDeadLetters);

    internal sealed record Operator(int Id, string Name, string Detail, IReadOnlyList<int> Inputs, long EventsIn, long EventsOut, double EventsPerSecond, long? Watermark, double BlockedSeconds);

    internal sealed record Checkpoint(long Id, long Time, double DurationSeconds, long Bytes);
}
