namespace LinqStream.Orleans;

/// <summary>Submits and finds LinqStream jobs on an Orleans cluster (from a client or a silo).</summary>
public static class ClusterClientExtensions
{
    /// <summary>Submits a job: the grain <paramref name="jobId"/> records it and starts it on its silo.</summary>
    /// <param name="cluster">The cluster client (or any grain factory).</param>
    /// <param name="jobId">The job's id, unique in the cluster (a finished job's id can be used again).</param>
    /// <param name="submission">The job definition's name and parameters.</param>
    /// <returns>The job's handle.</returns>
    /// <exception cref="ArgumentException">No silo has the definition.</exception>
    /// <exception cref="InvalidOperationException">A job with this id runs.</exception>
    public static async Task<ClusterJobHandle> SubmitAsync(this IGrainFactory cluster, string jobId, JobSubmission submission)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentException.ThrowIfNullOrWhiteSpace(jobId);
        ArgumentNullException.ThrowIfNull(submission);
        var handle = new ClusterJobHandle(cluster, jobId);
        await cluster.GetGrain<IStreamJobGrain>(jobId).SubmitAsync(submission).ConfigureAwait(false);
        return handle;
    }

    /// <summary>Gets the handle of a submitted job.</summary>
    /// <param name="cluster">The cluster client.</param>
    /// <param name="jobId">The job's id.</param>
    /// <returns>The handle (calls on it fail when no such job was submitted).</returns>
    public static ClusterJobHandle GetJob(this IGrainFactory cluster, string jobId)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentException.ThrowIfNullOrWhiteSpace(jobId);
        return new ClusterJobHandle(cluster, jobId);
    }

    /// <summary>Lists the cluster's jobs with their recorded state.</summary>
    /// <param name="cluster">The cluster client.</param>
    /// <returns>The jobs, by id.</returns>
    public static Task<IReadOnlyList<JobStatus>> ListJobsAsync(this IGrainFactory cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        return cluster.GetGrain<IJobDirectoryGrain>(0).ListAsync();
    }
}
