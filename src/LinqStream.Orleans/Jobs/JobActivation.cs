using Microsoft.Extensions.DependencyInjection;
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

    /// <summary>How many rollbacks in a row an activation makes before it records the job as failed.</summary>
    internal const int MaxRollbacks = 10;

    /// <summary>The wait before a rollback's new epoch starts: the membership needs a moment to declare a dead silo dead.</summary>
    internal static readonly TimeSpan RollbackDelay = TimeSpan.FromSeconds(1);

    public JobRecord Record { get; private set; } = record;

    /// <summary>Gets the activation's current fence: its epoch moves on with every rollback of a job spread over silos.</summary>
    public RedisFence Fence { get; private set; } = fence;

    /// <summary>Gets the number of whole-job rollbacks this activation made (a task of a job spread over silos was lost).</summary>
    public int Rollbacks { get; private set; }

    /// <summary>Gets the silos the current epoch's tasks were started on (source tasks first), for a job spread over silos.</summary>
    public IReadOnlyList<SiloAddress> Placement => (_host?.Coordinator as Tasks.IPlacedRun)?.Placement ?? [];

    private volatile Tasks.ClusterParallelHost? _host;

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
        // A job spread over silos rolls back as a whole when one of its tasks is lost: a new epoch (which fences every task and
        // channel of the old one), then every task again from the last complete checkpoint. Any job rolls back so when a checkpoint
        // write times out (TimedCheckpointStore). Otherwise a job in one grain runs once here; if its silo dies, another silo's
        // supervisor starts it again (Milestone 1).
        while (await RunEpochAsync().ConfigureAwait(false) is { } lost)
        {
            var id = Record.Status.JobId;
            if (Cancel.IsCancellationRequested)
            {
                return;
            }

            if (++Rollbacks > MaxRollbacks)
            {
                await RecordFinalAsync(Record.Status with { State = JobState.Failed, Error = $"The job rolled back {MaxRollbacks} times in a row; the last time: {Describe(lost)}" }).ConfigureAwait(false);
                return;
            }

            LogRollback(_logger, id, Fence.Epoch, lost.Message);
            try
            {
                await Task.Delay(RollbackDelay, _time, Cancel.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            var next = await _registry.TakeNextEpochAsync(Fence).ConfigureAwait(false);
            if (next is null)
            {
                // A newer coordinator took the job over while this one ran: it is a zombie and stops without writing.
                FencedBy = new FencedWriteException($"Job '{id}' epoch {Fence.Epoch} does not roll back: a newer epoch holds the job.", Fence.Epoch, null, null);
                LogFenced(_logger, id, Fence.Epoch, FencedBy.Message);
                return;
            }

            Fence = next;
            Record = Record with { Status = Record.Status with { Epoch = next.Epoch, Error = null, RestoredFrom = null, EventsIn = 0, EventsPerSecond = 0, Results = 0 } };
            if (!await _registry.UpdateAsync(Record, Fence).ConfigureAwait(false))
            {
                FencedBy = new FencedWriteException($"Job '{id}' epoch {Fence.Epoch} was taken over while it rolled back.", Fence.Epoch, null, null);
                LogFenced(_logger, id, Fence.Epoch, FencedBy.Message);
                return;
            }
        }
    }

    /// <summary>Runs the job under the current epoch; returns the reason to roll back when a task of a job spread over silos was lost or a checkpoint write timed out.</summary>
    private async Task<Exception?> RunEpochAsync()
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
            var setup = record.Submission.Parallelism is int parallelism ? Setup(id, parallelism) : null;
            var host = setup is null ? null : Tasks.ClusterParallelHost.ForCoordinator(setup);
            _host = host;
            // Each checkpoint write is timed: one that does not finish rolls the job back instead of failing it (issue #17).
            var below = _registry.Options.CheckpointStoreBelowLimit?.Invoke(id, store) ?? store;
            var limit = record.Submission.CheckpointWriteTimeout > TimeSpan.Zero ? record.Submission.CheckpointWriteTimeout : TimeSpan.FromSeconds(30);
            var timed = new TimedCheckpointStore(below, limit, _time);
            await using var run = definition(new ClusterJobContext(id, record.Submission, Fence, _registry.Options.Redis, store, metrics, _services, host, writeThrough: timed));
            Run = run;
            foreach (var warning in run.Warnings)
            {
                LogWarning(_logger, id, warning);
            }

            if (host is { Coordinator: null })
            {
                LogWarning(_logger, id, "The job's query has no keyed window aggregate to spread over the silos: it runs in this grain (JobSubmission.Parallelism has no effect).");
            }

            foreach (var warning in setup?.Warnings ?? [])
            {
                LogWarning(_logger, id, warning); // for example a payload type that crosses silos as JSON, and why
            }

            if (setup?.Crossing is { } crossing)
            {
                LogCrossing(_logger, id, crossing); // the projection below the exchange: which members of each event cross
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
        catch (Exception ex) when (Fenced(ex) is { } fenced)
        {
            // This activation was declared dead and a newer one runs the job: it must stop without writing anything, its record included.
            FencedBy = fenced;
            LogFenced(_logger, id, Fence.Epoch, fenced.Message);
        }
        catch (Exception ex) when (Cancel.IsCancellationRequested)
        {
            // Stopped by a cancel or a deactivation: the record already says what happens next (Cancelled, or Running for a
            // supervisor to start the job again from its last checkpoint). Whatever the run threw while it stopped is not the job's
            // end: when a silo dies, Orleans deactivates the grains whose directory registration it held, and a job spread over
            // silos then also loses its tasks there; recording that loss as Failed ended the job for good (issue #17, seen in the
            // spread demo at load 45-57: "Job q5 epoch 1 stops: the grain is deactivated (DirectoryFailure ...)", then Failed).
            if (ex is not OperationCanceledException)
            {
                LogStoppedWith(_logger, id, Fence.Epoch, Describe(ex));
            }
        }
        catch (Exception ex) when (Lost(ex) is { } lost && !Cancel.IsCancellationRequested)
        {
            return lost;
        }
        catch (Exception ex)
        {
            LogFailed(_logger, id, Fence.Epoch, ex);
            final = record.Status with { State = JobState.Failed, Error = Describe(ex) };
        }

        if (final is not null)
        {
            await RecordFinalAsync(final).ConfigureAwait(false);
        }

        return null;
    }

    private async Task RecordFinalAsync(JobStatus final)
    {
        var id = final.JobId;
        try
        {
            if (!await _registry.UpdateAsync(Record with { Status = final }, Fence).ConfigureAwait(false))
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

    /// <summary>Lays out the current epoch of a job spread over silos: the active silos, this one for the coordinator.</summary>
    private Tasks.CoordinatorSetup Setup(string id, int parallelism)
    {
        var membership = _services.GetRequiredService<IClusterMembershipService>();
        var silos = membership.CurrentSnapshot.Members.Values
            .Where(m => m.Status == SiloStatus.Active)
            .Select(m => m.SiloAddress)
            .OrderBy(a => a.ToParsableString(), StringComparer.Ordinal)
            .ToArray();
        var local = _services.GetRequiredService<ILocalSiloDetails>().SiloAddress;
        return new Tasks.CoordinatorSetup(id, Fence.Epoch, Record.Submission, parallelism, silos, local, _services.GetRequiredService<IGrainFactory>(), _services.GetRequiredService<Channels.ChannelHub>(), _time);
    }

    /// <summary>A reason to roll back, anywhere in an error's chain (the job wraps what the merge forwarded): the loss of a task of a job
    /// spread over silos, or a checkpoint write that timed out (either kind of job).</summary>
    private static Exception? Lost(Exception? error)
    {
        for (; error is not null; error = error.InnerException)
        {
            if (error is Tasks.ClusterTaskLostException or Channels.ChannelException or CheckpointWriteTimeoutException)
            {
                return error;
            }

            if (error is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions)
                {
                    if (Lost(inner) is { } found)
                    {
                        return found;
                    }
                }
            }
        }

        return null;
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: from the source tasks to the keyed tasks each event carries {Crossing}")]
    private static partial void LogCrossing(ILogger logger, string jobId, string crossing);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} epoch {Epoch} stops, fenced: {Reason}")]
    private static partial void LogFenced(ILogger logger, string jobId, long epoch, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} epoch {Epoch} rolls back to its last checkpoint: {Reason}")]
    private static partial void LogRollback(ILogger logger, string jobId, long epoch, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} epoch {Epoch} stopped (cancelled or deactivated) while it failed; its record is left as it is: {Reason}")]
    private static partial void LogStoppedWith(ILogger logger, string jobId, long epoch, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId} epoch {Epoch} failed")]
    private static partial void LogFailed(ILogger logger, string jobId, long epoch, Exception error);
}
