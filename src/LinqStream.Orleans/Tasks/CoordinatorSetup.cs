using LinqStream.Orleans.Channels;
using Orleans.Runtime.Placement;

namespace LinqStream.Orleans.Tasks;

/// <summary>
/// One epoch of a job spread over silos as its coordinator lays it out: the keys of its task grains and the silo each is placed
/// on (the source tasks and the keyed tasks dealt out over the active silos in turn; the merge on the coordinator's own silo).
/// </summary>
internal sealed class CoordinatorSetup
{
    private readonly string _prefix;
    private readonly SiloAddress[] _silos;
    private readonly int _first;

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
        _prefix = $"{jobId}/{epoch}/";
        _silos = [.. silos];
        MergeKey = _prefix + "merge";
        TaskKeys = [.. Enumerable.Range(0, parallelism).Select(t => _prefix + TaskSpec.TaskName(t))];
        // The source tasks go to the silos after the coordinator's (they read and hash every event); the keyed tasks are dealt
        // out over all silos in turn, starting with the one after the first source task's.
        _first = Math.Max(0, IndexOf(silos, local));
        TaskSilos = [.. Enumerable.Range(0, parallelism).Select(t => silos[(_first + 2 + t) % silos.Count])];
    }

    public string JobId { get; }

    /// <summary>Gets what the job's activation logs as warnings once the plan is built (a payload type that crosses silos as JSON, and why).</summary>
    public List<string> Warnings { get; } = [];

    /// <summary>Gets or sets what of each event crosses from the source tasks to the keyed tasks (the projection below the exchange, or whole events and why), once the plan is built.</summary>
    public string? Crossing { get; set; }

    public long Epoch { get; }

    public JobSubmission Submission { get; }

    public int Parallelism { get; }

    public SiloAddress Local { get; }

    public IGrainFactory Grains { get; }

    public ChannelHub Hub { get; }

    public TimeProvider Time { get; }

    public string MergeKey { get; }

    public IReadOnlyList<string> TaskKeys { get; }

    public IReadOnlyList<SiloAddress> TaskSilos { get; }

    /// <summary>Gets source task <paramref name="index"/>'s grain key, of <paramref name="count"/> source tasks.</summary>
    public string SourceKey(int index, int count) => _prefix + TaskSpec.SourceName(index, count);

    /// <summary>Gets the silo source task <paramref name="index"/> is placed on: the silos after the coordinator's, in turn.</summary>
    public SiloAddress SourceSilo(int index) => _silos[(_first + 1 + index) % _silos.Length];

    /// <summary>The spec of keyed task <paramref name="index"/>, restoring <paramref name="aggregate"/> (and its union's <paramref name="unionWatermark"/>) or starting empty.</summary>
    public TaskSpec KeyedSpec(int index, int sourceCount, byte[]? aggregate, long? unionWatermark) => new()
    {
        JobId = JobId,
        Epoch = Epoch,
        Submission = Submission,
        Parallelism = Parallelism,
        Index = index,
        SourceCount = sourceCount,
        TaskKeys = [.. TaskKeys],
        MergeKey = MergeKey,
        AggregateState = aggregate,
        UnionWatermark = unionWatermark,
    };

    /// <summary>The spec of source task <paramref name="index"/> of <paramref name="count"/>, restoring its share <paramref name="parts"/> or starting at the beginning.</summary>
    public TaskSpec SourceSpec(int index, int count, byte[][]? parts) => new()
    {
        JobId = JobId,
        Epoch = Epoch,
        Submission = Submission,
        Parallelism = Parallelism,
        Index = TaskSpec.SourceTask,
        SourceIndex = index,
        SourceCount = count,
        TaskKeys = [.. TaskKeys],
        MergeKey = MergeKey,
        SourceState = parts,
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
