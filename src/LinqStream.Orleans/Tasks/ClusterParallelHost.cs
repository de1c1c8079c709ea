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
