using Microsoft.Extensions.Logging;

namespace LinqStream.Orleans;

/// <summary>
/// Runs one job on the silo where Orleans activated the grain. Every start takes a new epoch from the job's fence, so the activation
/// that ran before (on a silo declared dead, which may still be running: a zombie) can no longer write checkpoints, results or the
/// job's record. The query runs on the thread pool, outside the grain's turns; calls read its progress.
/// </summary>
internal sealed partial class StreamJobGrain(JobRegistry registry, ILocalSiloDetails silo, IServiceProvider services, TimeProvider time, ILogger<StreamJobGrain> logger)
    : Grain, IStreamJobGrain
{
    private JobActivation? _active;

    private string JobId => this.GetPrimaryKeyString();

    public async Task<JobStatus> SubmitAsync(JobSubmission submission)
    {
        ArgumentNullException.ThrowIfNull(submission);
        if (registry.Options.Find(submission.Definition) is null)
        {
            throw new ArgumentException(
                $"The cluster has no job definition named '{submission.Definition}'. The silos register: {string.Join(", ", registry.Options.Definitions.Order(StringComparer.Ordinal))}.",
                nameof(submission));
        }

        var existing = await registry.GetAsync(JobId);
        if (existing is not null && !existing.Status.IsFinished)
        {
            throw new InvalidOperationException($"A job with the id '{JobId}' is already {existing.Status.State} (epoch {existing.Status.Epoch} on {existing.Status.Silo}); cancel it first or use another id.");
        }

        var record = new JobRecord(submission, new JobStatus { JobId = JobId, Definition = submission.Definition, State = JobState.Submitted });
        await registry.PutAsync(record);
        return await StartAsync(record);
    }

    public async Task<JobStatus> EnsureRunningAsync()
    {
        if (_active is { Task.IsCompleted: false } active)
        {
            return active.Live();
        }

        var record = await registry.GetAsync(JobId) ?? throw new InvalidOperationException($"No job with the id '{JobId}' was submitted to this cluster.");
        return record.Status.State is JobState.Running or JobState.Submitted ? await StartAsync(record) : record.Status;
    }

    public async Task<JobStatus> GetStatusAsync()
    {
        if (_active is { Task.IsCompleted: false } active)
        {
            return active.Live();
        }

        var record = await registry.GetAsync(JobId) ?? throw new InvalidOperationException($"No job with the id '{JobId}' was submitted to this cluster.");
        return record.Status;
    }

    public async Task<JobStatus> CancelAsync()
    {
        var record = await registry.GetAsync(JobId) ?? throw new InvalidOperationException($"No job with the id '{JobId}' was submitted to this cluster.");
        if (record.Status.IsFinished)
        {
            return record.Status;
        }

        // A new epoch fences off every activation, this one's run and any zombie alike, before the record says Cancelled.
        var fence = await registry.TakeEpochAsync(JobId);
        var cancelled = record with { Status = record.Status with { State = JobState.Cancelled, Epoch = fence.Epoch } };
        await registry.UpdateAsync(cancelled, fence);
        if (_active is { } active)
        {
            await active.StopAsync();
        }

        return cancelled.Status;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_active is { Task.IsCompleted: false } active)
        {
            // The record still says Running: the supervisor re-activates the job (here or elsewhere) from its last checkpoint.
            LogDeactivated(logger, JobId, active.Fence.Epoch, reason);
            await active.StopAsync().WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
        }

        await base.OnDeactivateAsync(reason, cancellationToken);
    }

    private async Task<JobStatus> StartAsync(JobRecord record)
    {
        var fence = await registry.TakeEpochAsync(JobId);
        var status = record.Status with
        {
            State = JobState.Running,
            Epoch = fence.Epoch,
            Silo = silo.SiloAddress.ToString(),
            StartedAt = time.GetUtcNow(),
            Error = null,
            RestoredFrom = null,
            EventsIn = 0,
            EventsPerSecond = 0,
            Results = 0,
        };
        record = record with { Status = status };
        if (!await registry.UpdateAsync(record, fence))
        {
            throw new InvalidOperationException($"The job '{JobId}' was taken over while epoch {fence.Epoch} was starting on {status.Silo}.");
        }

        LogStarting(logger, JobId, fence.Epoch, status.Silo);
        var active = new JobActivation(record, fence, registry, services, time, logger);
        active.Start();
        _active = active;
        return active.Live();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} starts with epoch {Epoch} on {Silo}")]
    private static partial void LogStarting(ILogger logger, string jobId, long epoch, string silo);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} epoch {Epoch} stops: the grain is deactivated ({Reason})")]
    private static partial void LogDeactivated(ILogger logger, string jobId, long epoch, DeactivationReason reason);
}
