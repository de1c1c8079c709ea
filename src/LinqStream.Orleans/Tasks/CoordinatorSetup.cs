using LinqStream.Orleans.Channels;
using Orleans.Runtime.Placement;

namespace LinqStream.Orleans.Tasks;

/// <summary>
/// One epoch of a job spread over silos as its coordinator lays it out: the keys of its task grains and the silo each is placed
/// on (the source task and the keyed tasks dealt out over the active silos in turn; the merge on the coordinator's own silo).
/// </summary>
internal sealed class CoordinatorSetup
{
    public CoordinatorSetup(string jobId, long epoch, JobSubmission submission, int parallelism, IReadOnlyList<SiloAddress> silos, SiloAddress local, IGrainFactory grains, ChannelHub hub, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(parallelism, 1);
        if (silos.Count == 0)
        {
            throw new InvalidOperationException($"Job '{jobId}' cannot spread its tasks: the membership lists no active silo.");
        }

        JobId = jobId;
        Epoch = epoch;
        Submission = submission;
        Parallelism = parallelism;
        Local = local;
        Grains = grains;
        Hub = hub;
        Time = time;
        string prefix = $"{jobId}/{epoch}/";
        SourceKey = prefix + "source";
        MergeKey = prefix + "merge";
        TaskKeys = [.. Enumerable.Range(0, parallelism).Select(t => prefix + TaskSpec.TaskName(t))];
        // The source task goes to the silo after the coordinator's (it reads and hashes every event); the keyed tasks are dealt
        // out over all silos in turn, starting with the one after the source's.
        int first = Math.Max(0, IndexOf(silos, local));
        SourceSilo = silos[(first + 1) % silos.Count];
        TaskSilos = [.. Enumerable.Range(0, parallelism).Select(t => silos[(first + 2 + t) % silos.Count])];
    }

    public string JobId { get; }

    /// <summary>Gets what the job's activation logs as warnings once the plan is built (a payload type that crosses silos as JSON, and why).</summary>
    public List<string> Warnings { get; } = [];

    public long Epoch { get; }

    public JobSubmission Submission { get; }

    public int Parallelism { get; }

    public SiloAddress Local { get; }

    public IGrainFactory Grains { get; }

    public ChannelHub Hub { get; }

    public TimeProvider Time { get; }

    public string SourceKey { get; }

    public string MergeKey { get; }

    public IReadOnlyList<string> TaskKeys { get; }

    public SiloAddress SourceSilo { get; }

    public IReadOnlyList<SiloAddress> TaskSilos { get; }

    /// <summary>The spec of task <paramref name="index"/> (<see cref="TaskSpec.SourceTask"/> for the source task).</summary>
    public TaskSpec Spec(int index, byte[]? aggregate, byte[][]? sources) => new()
    {
        JobId = JobId,
        Epoch = Epoch,
        Submission = Submission,
        Parallelism = Parallelism,
        Index = index,
        SourceKey = SourceKey,
        TaskKeys = [.. TaskKeys],
        MergeKey = MergeKey,
        AggregateState = index == TaskSpec.SourceTask ? null : aggregate,
        SourceState = index == TaskSpec.SourceTask ? sources : null,
    };

    /// <summary>Makes a call that activates a grain, asking Orleans to place the new activation on <paramref name="silo"/>.</summary>
    /// <remarks>Orleans' placement directors take the hint when the silo is compatible and active; a grain already active stays where it is.</remarks>
    public static Task<TResult> OnSilo<TResult>(SiloAddress silo, Func<Task<TResult>> call)
    {
        RequestContext.Set(IPlacementDirector.PlacementHintKey, silo);
        try
        {
            return call(); // the request context is captured when the call is sent, before this returns
        }
        finally
        {
            RequestContext.Remove(IPlacementDirector.PlacementHintKey);
        }
    }

    private static int IndexOf(IReadOnlyList<SiloAddress> silos, SiloAddress silo)
    {
        for (int i = 0; i < silos.Count; i++)
        {
            if (silos[i].Equals(silo))
            {
                return i;
            }
        }

        return -1;
    }
}
