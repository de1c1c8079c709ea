using System.Diagnostics;
using System.Reflection;
using LinqStream.Cli.Commands;
using LinqStream.Cli.Input;
using LinqStream.Cli.Output;
using LinqStream.Cli.Scripting;
using LinqStream.Cli.Showcase;
using Spectre.Console;

namespace LinqStream.Cli.Operations;

/// <summary>What <c>run</c> told a job about its input and output.</summary>
/// <param name="OutPath"><c>--out</c>.</param>
/// <param name="DeadLetterPath"><c>--dead-letter</c>, when the job's dead-letter sink writes it (message sources).</param>
/// <param name="Strict"><c>--strict</c>.</param>
/// <param name="Quiet"><c>--quiet</c>.</param>
/// <param name="Events">Events read so far (for the summary line).</param>
/// <param name="Input">The input as the summary line names it.</param>
internal sealed record JobOutput(string? OutPath, string? DeadLetterPath, bool Strict, bool Quiet, Func<long> Events, string Input)
{
    /// <summary>
    /// Gets a value indicating whether the query's own dead-letter sink stays (a file's wrong-kind values go to its malformed lines,
    /// which own <c>--dead-letter</c>); the job then collects no dead letters of its own.
    /// </summary>
    public bool QueryKeepsDeadLetters { get; init; }
}

/// <summary>
/// <c>run</c> with <c>--checkpoints</c>, <c>--sink</c>, <c>--metrics</c> or <c>--dashboard</c>: runs the script's query as a
/// <see cref="QueryJob{T}"/>. It says which checkpoint it restores from, takes a final checkpoint on Ctrl+C (or the dashboard's Stop)
/// and exits 0, so the next run goes on where this one stopped.
/// </summary>
internal static class JobRunner
{
    /// <summary>How long a final checkpoint may take after Ctrl+C before the job is stopped without it.</summary>
    public static readonly TimeSpan FinalCheckpointTimeout = TimeSpan.FromMinutes(2);

    private static readonly MethodInfo s_run = typeof(JobRunner).GetMethod(nameof(RunTypedAsync), BindingFlags.NonPublic | BindingFlags.Static)!;

    public static async Task<int> RunAsync(QueryScript script, object query, JobSettings settings, JobOutput output, CancellationToken cancellationToken)
    {
        var type = QueryRunner.ResultType(query) ?? throw RunCommand.NotAQuery(script.Path, query);
        try
        {
            return await ((Task<int>)s_run.MakeGenericMethod(type).Invoke(null, [script, query, settings, output, cancellationToken])!).ConfigureAwait(false);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            return RunCommand.ReportFailure(script, ex.InnerException);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return RunCommand.ReportFailure(script, ex);
        }
    }

    private static async Task<int> RunTypedAsync<T>(QueryScript script, IQStream<T> query, JobSettings settings, JobOutput output, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        var log = Console.Error;
        using var metrics = settings.Metrics.Count > 0 || settings.Dashboard is not null ? new JobMetrics(settings.JobName) : null;
        using var exporter = MetricsExport.Start(settings.Metrics);
        var store = settings.CheckpointDirectory is null ? null : new DirectoryCheckpointStore(settings.CheckpointDirectory);
        if (store is not null)
        {
            var (newest, skipped) = await CheckpointText.NewestValidAsync(store, cancellationToken).ConfigureAwait(false);
            foreach (string reason in skipped)
            {
                await log.WriteLineAsync($"run: skipping a damaged checkpoint: {reason}").ConfigureAwait(false);
            }

            await log.WriteLineAsync(newest is null
                ? $"run: no checkpoint in {store.Directory}; starting from the beginning."
                : $"run: restoring from checkpoint {newest.Id} ({store.Describe(newest.Id)}, taken {newest.TakenAt:yyyy-MM-dd HH:mm:ss} UTC): {CheckpointText.Sources(newest)}.").ConfigureAwait(false);
        }

        using var table = output.OutPath is null && settings.Sink is null ? new TableSink(AnsiConsole.Console) : null;
        EventSink<T> sink = settings.Sink is { } uri ? StreamSink<T>(uri)
            : output.OutPath is { } path ? new JsonLinesFileSink<T>(path, ResultJson.Options)
            : new TableEventSink<T>(table!);
        var deadLetters = new JobDeadLetterSink(log, output.DeadLetterPath, output.Strict);
        await using var job = query.ToJob(sink, new JobOptions
        {
            Checkpoints = store,
            CheckpointInterval = store is null ? null : settings.CheckpointInterval,
            CheckpointEveryEvents = store is null ? null : settings.CheckpointEveryEvents,
            DeadLetters = output.QueryKeepsDeadLetters ? null : deadLetters,
            Metrics = metrics,
            State = settings.State,
        });
        if (store is not null && !output.Quiet)
        {
            await log.WriteLineAsync($"run: {job.Guarantee}: {job.GuaranteeReason}").ConfigureAwait(false);
        }

        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var interrupt = cancellationToken.Register(() => stop.TrySetResult());
        await using var dashboard = settings.Dashboard is { } address
            ? await DashboardServer.StartAsync(address, metrics!, new Control<T>(job, store is not null, stop), job.Explain(), cancellationToken).ConfigureAwait(false)
            : null;
        if (dashboard is not null)
        {
            await log.WriteLineAsync($"run: dashboard at {dashboard.Url}").ConfigureAwait(false);
        }

        foreach (var target in settings.Metrics)
        {
            await log.WriteLineAsync(target.Kind == "prometheus"
                ? $"run: Prometheus metrics at {target.Address}metrics"
                : $"run: OTLP metrics to {target.Address}").ConfigureAwait(false);
        }

        using var cancelJob = new CancellationTokenSource();
        var run = job.RunAsync(cancelJob.Token);
        await Task.WhenAny(run, stop.Task).ConfigureAwait(false);
        bool stopped = false;
        Exception? finalCheckpointError = null;
        if (!run.IsCompleted)
        {
            stopped = true;
            if (store is not null)
            {
                try
                {
                    long id = await job.CheckpointAsync(CancellationToken.None).WaitAsync(FinalCheckpointTimeout, CancellationToken.None).ConfigureAwait(false);
                    await log.WriteLineAsync($"run: stopped; final checkpoint {id} in {store.Describe(id)}. Run the same command again to go on from it.").ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not InvalidOperationException)
                {
                    // InvalidOperationException: the job ended meanwhile (its result says how). Anything else is reported after the job stops.
                    finalCheckpointError = ex;
                }
                catch (InvalidOperationException)
                {
                }
            }

            await cancelJob.CancelAsync().ConfigureAwait(false);
        }

        JobResult? result = null;
        try
        {
            result = await run.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stopped)
        {
            // Stopped on purpose: the sink is left open at the last checkpoint, as after a crash.
        }

        if (finalCheckpointError is not null)
        {
            await log.WriteLineAsync($"run: the final checkpoint failed: {finalCheckpointError.Message}").ConfigureAwait(false);
            return ExitCodes.Failure;
        }

        foreach (string warning in result?.Warnings ?? [])
        {
            await log.WriteLineAsync($"run: {warning}").ConfigureAwait(false);
        }

        if (!output.Quiet)
        {
            var snapshot = metrics?.Snapshot();
            long results = result?.Results ?? snapshot?.EventsOut ?? 0;
            string dead = deadLetters.Count == 0 ? "" : $", {Format.Count(deadLetters.Count)} dead letters" + (output.DeadLetterPath is null ? "" : $" (in {output.DeadLetterPath})");
            string where = settings.Sink is { } s ? $" (written to {s.Text})" : output.OutPath is { } o ? $" (written to {o})" : "";
            string restored = result?.RestoredFrom is { } from ? $", restored from checkpoint {from}" : "";
            string checkpoints = store is null ? "" : $", {Format.Count(result?.Checkpoints ?? job.LastCheckpointId)} checkpoints{restored}";
            await Console.Out.WriteLineAsync(
                $"run: {Format.Count(output.Events())} events from {output.Input}{dead}, {Format.Count(results)} results{where}{checkpoints} in {Format.Seconds(stopwatch.Elapsed)}"
                + (stopped ? " (stopped)" : "")).ConfigureAwait(false);
        }

        return ExitCodes.Ok;
    }

    private static EventSink<T> StreamSink<T>(SourceUri uri) => uri.Scheme == "redis"
        ? new RedisStreamSink<T>(uri.Address, uri.Name, EventSerializer<T>.Json(ResultJson.Options))
        : new NatsJetStreamSink<T>(uri.Address, uri.Name, EventSerializer<T>.Json(ResultJson.Options));

    private sealed class Control<T>(QueryJob<T> job, bool canCheckpoint, TaskCompletionSource stop) : IJobControl
    {
        public bool CanCheckpoint => canCheckpoint;

        public string Guarantee => $"{job.Guarantee}: {job.GuaranteeReason}";

        public Task<long> CheckpointAsync(CancellationToken cancellationToken) => job.CheckpointAsync(cancellationToken);

        public void Stop() => stop.TrySetResult();
    }
}
