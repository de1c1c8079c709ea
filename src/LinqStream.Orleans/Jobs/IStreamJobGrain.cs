namespace LinqStream.Orleans;

/// <summary>One job on the cluster; the key is the job's id. Clients use <see cref="ClusterJobHandle"/> instead of calling it.</summary>
[Alias("LinqStream.Orleans.IStreamJobGrain")]
public interface IStreamJobGrain : IGrainWithStringKey
{
    /// <summary>Records the job and starts it on this grain's silo.</summary>
    /// <param name="submission">What to run.</param>
    /// <returns>The status after the start.</returns>
    /// <exception cref="InvalidOperationException">A job with this id exists and has not finished.</exception>
    [Alias("Submit")]
    Task<JobStatus> SubmitAsync(JobSubmission submission);

    /// <summary>Starts the job here from its last checkpoint when it is recorded as running but runs nowhere (its silo died); the supervisor calls it.</summary>
    /// <returns>The status.</returns>
    [Alias("EnsureRunning")]
    Task<JobStatus> EnsureRunningAsync();

    /// <summary>Gets the job's status and progress.</summary>
    /// <returns>The status.</returns>
    [Alias("GetStatus")]
    Task<JobStatus> GetStatusAsync();

    /// <summary>Stops the job; it is not restarted.</summary>
    /// <returns>The status after the stop.</returns>
    [Alias("Cancel")]
    Task<JobStatus> CancelAsync();
}
