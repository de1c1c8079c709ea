namespace LinqStream.Orleans;

/// <summary>A job submitted to the cluster: its status and progress, a wait for its end, and cancel.</summary>
public sealed class ClusterJobHandle
{
    private readonly IStreamJobGrain _grain;

    internal ClusterJobHandle(IGrainFactory cluster, string jobId)
    {
        JobId = jobId;
        _grain = cluster.GetGrain<IStreamJobGrain>(jobId);
    }

    /// <summary>Gets the job's id.</summary>
    public string JobId { get; }

    /// <summary>Gets the job's state and progress (events/s, watermark lag, last checkpoint).</summary>
    /// <returns>The status.</returns>
    public Task<JobStatus> GetStatusAsync() => _grain.GetStatusAsync();

    /// <summary>Stops the job; it is not restarted.</summary>
    /// <returns>The status after the stop.</returns>
    public Task<JobStatus> CancelAsync() => _grain.CancelAsync();

    /// <summary>Polls the status until <paramref name="until"/> holds (by default, until the job finished).</summary>
    /// <param name="pollInterval">The time between two polls.</param>
    /// <param name="until">The condition; <see langword="null"/> for <see cref="JobStatus.IsFinished"/>.</param>
    /// <param name="timeProvider">The clock of the waits; <see langword="null"/> for <see cref="TimeProvider.System"/>.</param>
    /// <param name="cancellationToken">Stops waiting (not the job).</param>
    /// <returns>The first status that satisfies the condition.</returns>
    /// <remarks>A poll that fails (the job's silo just died and the grain is not yet re-activated) is retried at the next interval.</remarks>
    public async Task<JobStatus> WaitAsync(TimeSpan pollInterval, Func<JobStatus, bool>? until = null, TimeProvider? timeProvider = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(pollInterval, TimeSpan.Zero);
        until ??= static s => s.IsFinished;
        var clock = timeProvider ?? TimeProvider.System;
        while (true)
        {
            try
            {
                var status = await GetStatusAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
                if (until(status))
                {
                    return status;
                }
            }
            catch (Exception ex) when (ex is OrleansException or TimeoutException or SiloUnavailableException)
            {
                // The grain's silo died; the supervisor brings the job back elsewhere.
            }

            await Task.Delay(pollInterval, clock, cancellationToken).ConfigureAwait(false);
        }
    }
}
