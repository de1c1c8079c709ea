namespace LinqStream.Orleans;

/// <summary>Lists the jobs recorded in the cluster's job registry (a stateless worker; any key).</summary>
[Alias("LinqStream.Orleans.IJobDirectoryGrain")]
public interface IJobDirectoryGrain : IGrainWithIntegerKey
{
    /// <summary>Lists every recorded job with its last recorded state (a running job's progress comes from its own grain).</summary>
    /// <returns>The jobs, by id.</returns>
    [Alias("List")]
    Task<IReadOnlyList<JobStatus>> ListAsync();
}
