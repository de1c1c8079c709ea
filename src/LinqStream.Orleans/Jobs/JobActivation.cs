using Microsoft.Extensions.Logging;

namespace LinqStream.Orleans;

/// <summary>
/// One activation's run of a job, on the thread pool (outside the grain's turns, so calls for its status are answered while it
/// runs). Everything it writes (checkpoints, results, the job's final record) is fenced by its epoch.
/// </summary>
internal sealed partial class JobActivation(JobRecord record, RedisFence fence, JobRegistry registry, IServiceProvider services, TimeProvider time, ILogger logger)
{
    private readonly JobRegistry _registry = registry;
    private readonly IServiceProvider _services = services;
    private readonly TimeProvider _time = time;
    private readonly ILogger _logger = logger;

    public JobRecord Record { get; } = record;

    public RedisFence Fence { get; } = fence;

    public CancellationTokenSource Cancel { get; } = new();

    public Task Task { get; set; } = Task.CompletedTask;

    public volatile ClusterJobRun? Run;

    public volatile JobMetrics? Metrics;

    /// <summary>Gets the refusal that stopped this activation because a newer epoch holds the job (it was a zombie), if any.</summary>
    public FencedWriteException? FencedBy { get; private set; }

    /// <summary>Gets whether the activation's final state was refused by the registry's fence.</summary>
    public bool FinalStateRefused { get; private set; }

    public JobStatus Live()
    {
        var status = Record.Status;
        if (Metrics is { } metrics)
        {
            var snapshot = metrics.Snapshot();
            status = status with
            {
                EventsIn = snapshot.EventsIn,
                EventsPerSecond = snapshot.EventsPerSecond,
                WatermarkLag = snapshot.WatermarkLag,
                LastCheckpointAge = snapshot.LastCheckpointAge,
            };
        }

        return Run is { } run ? status with { LastCheckpoint = run.LastCheckpointId } : status;
    }

    public async Task StopAsync()
    {
        await Cancel.CancelAsync().ConfigureAwait(false);
        await Task.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    public void Start() => Task = Task.Run(RunAsync);

    private async Task RunAsync()
    {
        var record = Record;
        var id = record.Status.JobId;
        using var store = new RedisCheckpointStore(_registry.Options.Redis, _registry.CheckpointPrefix(id), Fence);
        using var metrics = new JobMetrics(id, _time);
        Metrics = metrics;
        JobStatus? final = null;
        try
        {
            var definition = _registry.Options.Find(record.Submission.Definition)
                ?? throw new InvalidOperationException($"The silo {record.Status.Silo} has no job definition named '{record.Submission.Definition}': register it with AddJob on every silo.");
            await using var run = definition(new ClusterJobContext(id, record.Submission, Fence, _registry.Options.Redis, store, metrics, _services));
            Run = run;
            foreach (var warning in run.Warnings)
            {
                LogWarning(_logger, id, warning);
            }

            var result = await run.RunAsync(Cancel.Token).ConfigureAwait(false);
            if (!Cancel.IsCancellationRequested)
            {
                final = record.Status with
                {
                    State = JobState.Completed,
                    Results = result.Results,
                    RestoredFrom = result.RestoredFrom,
                    LastCheckpoint = run.LastCheckpointId,
                    EventsIn = metrics.Snapshot().EventsIn,
                };
            }
        }
        catch (Exception ex) when (Cancel.IsCancellationRequested && ex is OperationCanceledException)
        {
            // Stopped by a cancel or a deactivation: the record already says what happens next.
        }
        catch (Exception ex) when (Fenced(ex) is { } fenced)
        {
            // This activation was declared dead and a newer one runs the job: it must stop without writing anything, its record included.
            FencedBy = fenced;
            LogFenced(_logger, id, Fence.Epoch, fenced.Message);
        }
        catch (Exception ex)
        {
            LogFailed(_logger, id, Fence.Epoch, ex);
            final = record.Status with { State = JobState.Failed, Error = Describe(ex) };
        }

        if (final is not null)
        {
            try
            {
                if (!await _registry.UpdateAsync(record with { Status = final }, Fence).ConfigureAwait(false))
                {
                    FinalStateRefused = true;
                    LogFenced(_logger, id, Fence.Epoch, $"its final state {final.State} was not recorded: a newer epoch holds the job");
                }
            }
            catch (Exception ex) when (ex is StackExchange.Redis.RedisException or TimeoutException or ObjectDisposedException)
            {
                // The record still says Running: the supervisor starts the job again from its last checkpoint, which ends it again.
                LogFailed(_logger, id, Fence.Epoch, ex);
            }
        }
    }

    private static FencedWriteException? Fenced(Exception? error)
    {
        for (; error is not null; error = error.InnerException)
        {
            if (error is FencedWriteException fenced)
            {
                return fenced;
            }

            if (error is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions)
                {
                    if (Fenced(inner) is { } found)
                    {
                        return found;
                    }
                }
            }
        }

        return null;
    }

    private static string Describe(Exception error)
    {
        var parts = new List<string>();
        for (var e = error; e is not null; e = e.InnerException)
        {
            parts.Add($"{e.GetType().Name}: {e.Message}");
        }

        return string.Join(" ---> ", parts);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: {Warning}")]
    private static partial void LogWarning(ILogger logger, string jobId, string warning);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} epoch {Epoch} stops, fenced: {Reason}")]
    private static partial void LogFenced(ILogger logger, string jobId, long epoch, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId} epoch {Epoch} failed")]
    private static partial void LogFailed(ILogger logger, string jobId, long epoch, Exception error);
}
