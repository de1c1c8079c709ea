using Orleans.Concurrency;

namespace LinqStream.Orleans;

/// <summary>Reads the job registry for clients (which do not reach Redis themselves).</summary>
[StatelessWorker]
internal sealed class JobDirectoryGrain(JobRegistry registry) : Grain, IJobDirectoryGrain
{
    public async Task<IReadOnlyList<JobStatus>> ListAsync()
    {
        var records = await registry.ListAsync();
        var statuses = new List<JobStatus>(records.Count);
        foreach (var record in records)
        {
            statuses.Add(record.Status);
        }

        return statuses;
    }
}
