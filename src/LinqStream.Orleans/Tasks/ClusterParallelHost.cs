using LinqStream.Orleans.Channels;
using LinqStream.Parallel;
using LinqStream.Runtime;

namespace LinqStream.Orleans.Tasks;

/// <summary>
/// Hands a job's split keyed aggregate to the cluster instead of this process's threads. Every silo builds the job's query from
/// its definition; the host decides what this silo runs of it: on the coordinator's silo, a <see cref="CoordinatorRun{T, TKey, TResult}"/>
/// stands where the parallel run would be; on a task's silo, only that task's part is built (<see cref="SourceTaskRun{T, TKey}"/>,
/// <see cref="KeyedTaskRun{T, TResult}"/>) and the rest of the plan is never run.
/// </summary>
internal sealed class ClusterParallelHost : IParallelRunHost
{
    private readonly CoordinatorSetup? _coordinator;
    private readonly TaskSpec? _task;
    private readonly string _self = "";
    private readonly IGrainFactory _grains;
    private readonly ChannelHub _hub;
    private readonly TimeProvider _time;

    private ClusterParallelHost(CoordinatorSetup? coordinator, TaskSpec? task, string self, IGrainFactory grains, ChannelHub hub, TimeProvider time)
    {
        _coordinator = coordinator;
        _task = task;
        _self = self;
        _grains = grains;
        _hub = hub;
        _time = time;
    }

    /// <summary>Gets the coordinator's run once the job's plan is built (null when the query has no keyed aggregate to spread).</summary>
    public IParallelRun? Coordinator { get; private set; }

    /// <summary>Gets this task's part once the job's plan is built.</summary>
    public ITaskRun? Task { get; private set; }

    /// <summary>
    /// Why a job spread over silos keeps its keyed state on the heap (docs/cluster.md, Limits): a store of another backend (RocksDB)
    /// keeps its files on the disk of the silo its task ran on, while a rollback or take-over starts the tasks wherever Orleans places
    /// them; each task's job would open the backend's one directory (a run clears its <c>live/</c>); and the coordinator, which saves
    /// the checkpoints, does not tell the tasks' stores which of them the store still lists (their shared files would go by the
    /// snapshot-count rule).
    /// </summary>
    internal static string KeyedStateOffHeap(string job) =>
        $"Job '{job}' is spread over silos (JobSubmission.Parallelism) with a state backend other than the heap; the keyed tasks of a job spread "
        + "over silos keep their state on the heap only. A RocksDB store's files stay on the disk of the silo that ran its task, and after a "
        + "rollback or a take-over the task may start on another silo, where a restore would not find them (docs/cluster.md, Limits). "
        + "Keep its keyed state on the heap, or run it on one machine (ToJob with JobOptions.State and JobOptions.Parallelism).";

    public static ClusterParallelHost ForCoordinator(CoordinatorSetup setup) =>
        new(setup, null, setup.MergeKey, setup.Grains, setup.Hub, setup.Time);

    public static ClusterParallelHost ForTask(TaskSpec spec, string self, IGrainFactory grains, ChannelHub hub, TimeProvider time) =>
        new(null, spec, self, grains, hub, time);

    public void Connect<T, TKey, TResult>(
        IReadOnlyList<PhysicalStream<T>> inputs,
        bool partitioned,
        Action<T[], ulong[]?, TKey[], int> keyKernel,
        Func<IStreamObserver<TResult>, QueryContext, IStreamObserver<T>> createOperator,
        ExchangeProjection crossing,
        IStreamObserver<TResult> downstream,
        QueryContext context)
    {
        string job = _coordinator?.JobId ?? _task!.JobId;
        if (Coordinator is not null || Task is not null)
        {
            throw new NotSupportedException($"Job '{job}' has more than one keyed aggregate that runs on several tasks; a job spread over silos splits exactly one.");
        }

        if (context.KeyedState is not null)
        {
            throw new NotSupportedException(KeyedStateOffHeap(job));
        }

        // A union of partitions under the aggregate is read by S = min(partitions, P) source tasks, each a contiguous group of
        // them (as KeyedParallelRun does in one process); otherwise one source task reads the whole input.
        if (_coordinator is { } setup)
        {
            Coordinator = new CoordinatorRun<T, TKey, TResult>(inputs, partitioned, keyKernel, createOperator, crossing, downstream, context, setup);
        }
        else if (_task!.Index == TaskSpec.SourceTask)
        {
            Task = new SourceTaskRun<T, TKey>(inputs, partitioned, keyKernel, crossing, context, _task, _grains, _time);
        }
        else
        {
            Task = new KeyedTaskRun<T, TResult>(createOperator, crossing, context, _task, _self, _grains, _hub, _time);
        }
    }
}
