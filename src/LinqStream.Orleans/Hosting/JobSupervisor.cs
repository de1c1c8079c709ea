using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LinqStream.Orleans;

/// <summary>
/// Runs on every silo: each <see cref="LinqStreamSiloOptions.SuperviseInterval"/> it reads the job registry and calls
/// <see cref="IStreamJobGrain.EnsureRunningAsync"/> on every job recorded as running. Orleans activates a grain only on a call, so
/// this call is what brings a job back after its silo died: once the membership declares the silo dead, the call activates the
/// grain on a live silo, which restores the job from its last checkpoint under a new epoch.
/// </summary>
internal sealed partial class JobSupervisor(JobRegistry registry, IGrainFactory grains, TimeProvider time, ILogger<JobSupervisor> logger) : BackgroundService
{
    private readonly Dictionary<string, Task> _inFlight = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(registry.Options.SuperviseInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                await SuperviseOnceAsync().ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The silo stops.
        }
    }

    private async Task SuperviseOnceAsync()
    {
        IReadOnlyList<JobRecord> jobs;
        try
        {
            jobs = await registry.ListAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is StackExchange.Redis.RedisException or TimeoutException or InvalidDataException)
        {
            LogRegistryUnreadable(logger, ex);
            return;
        }

        // Forget the calls that ended (their jobs may have finished or been removed), so the map holds only calls in flight.
        foreach (var (id, call) in _inFlight.Where(e => e.Value.IsCompleted).ToList())
        {
            _inFlight.Remove(id);
        }

        foreach (var job in jobs)
        {
            var id = job.Status.JobId;
            if (job.Status.IsFinished || (_inFlight.TryGetValue(id, out var pending) && !pending.IsCompleted))
            {
                continue;
            }

            // Not awaited: a call to a grain on a silo that just died waits until the membership notices; other jobs must not wait for it.
            _inFlight[id] = EnsureAsync(id);
        }
    }

    private async Task EnsureAsync(string id)
    {
        try
        {
            await grains.GetGrain<IStreamJobGrain>(id).EnsureRunningAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Expected while a dead silo is not yet declared dead; the next round tries again.
            LogEnsureFailed(logger, id, ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The job registry could not be read")]
    private static partial void LogRegistryUnreadable(ILogger logger, Exception error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Job {JobId} could not be reached yet: {Reason}")]
    private static partial void LogEnsureFailed(ILogger logger, string jobId, string reason);
}
