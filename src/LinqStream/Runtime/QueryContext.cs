namespace LinqStream.Runtime;

/// <summary>Everything one running query shares: batch pools, its sources, settings and diagnostics.</summary>
/// <remarks>A query runs on one thread at a time; nothing here is locked.</remarks>
internal sealed class QueryContext
{
    private readonly Dictionary<Type, IBatchPool> _pools = [];
    private readonly Dictionary<object, object> _shared = new(ReferenceEqualityComparer.Instance);

    public QueryContext(QueryOptions? options = null)
    {
        Options = options ?? QueryOptions.Default;
    }

    public QueryOptions Options { get; }

    /// <summary>Gets the job's metrics, or <see langword="null"/> when nothing is measured (then wiring adds nothing between operators).</summary>
    public JobMetrics? Metrics { get; init; }

    public int BatchSize => Options.BatchSize;

    public TimeProvider TimeProvider => Options.TimeProvider;

    public List<SourceDriver> Sources { get; } = [];

    /// <summary>Gets the physical nodes this run executes on several tasks (see docs/parallelism.md); null when the whole query runs on one task.</summary>
    public IReadOnlySet<PhysicalNode>? ParallelNodes { get; init; }

    /// <summary>Gets the split aggregates whose union of inputs is read by several source tasks (docs/parallelism.md, "Source tasks").</summary>
    public IReadOnlySet<PhysicalNode>? SourceSplitNodes { get; init; }

    /// <summary>Gets the split aggregates that run with a forward exchange (their partitions are partitioned by their key), or null.</summary>
    public IReadOnlyDictionary<PhysicalNode, Parallel.ForwardPlan>? ForwardNodes { get; init; }

    /// <summary>Gets a value indicating whether a split aggregate over a replayed array in start order reads it on several source tasks, in chunks dealt out in turn (not in a job).</summary>
    public bool SplitArrays { get; init; }

    /// <summary>Gets, per split aggregate, the step over its results that also runs on each of its tasks before the merge (docs/parallelism.md), or null.</summary>
    public IReadOnlyDictionary<PhysicalNode, Parallel.ITaskLocalStep>? TaskSteps { get; init; }

    /// <summary>Gets the window joins that run on the tasks of their left input's split aggregate, behind a broadcast exchange (null: none).</summary>
    public IReadOnlyDictionary<PhysicalNode, Parallel.BroadcastShape>? BroadcastJoins { get; init; }

    /// <summary>
    /// Gets a value indicating whether the split keyed aggregate's tasks each send their output to a sink of their own (a keyed
    /// <c>ToParallelSinkJob</c>): the run then has no order-restoring merge, and nothing of the plan follows the aggregate.
    /// </summary>
    public bool OutputPerTask { get; init; }

    /// <summary>Gets what runs the split keyed aggregate's tasks elsewhere (a cluster, <c>LinqStream.Orleans</c>); null runs them on this process's threads.</summary>
    public Parallel.IParallelRunHost? ParallelHost { get; init; }

    /// <summary>Gets where keyed operators of this run keep state off the heap (the job's <c>JobOptions.State</c>); null keeps it on the heap.</summary>
    public State.IKeyedStateStoreFactory? KeyedState { get; init; }

    /// <summary>Gets the late events of this run (dropped, adjusted or thrown on), counted for progress reports and job results.</summary>
    public Ingress.LateEventCounts LateEvents { get; } = new();

    /// <summary>Gets every operator built for this run, in the order they were wired (diagnostics, state inspection, checkpoints).</summary>
    public List<object> Operators { get; } = [];

    /// <summary>Gets every part with state (operators and sources), in the order they were wired: what a checkpoint writes.</summary>
    public List<Checkpoints.ICheckpointed> Checkpointed { get; } = [];

    /// <summary>Gets where records the query rejects go (malformed input, events skipped by <see cref="QueryOptions.OnError"/>).</summary>
    public IDeadLetterSink DeadLetters => Options.DeadLetters ?? FailingDeadLetters.Instance;

    /// <summary>Gets a value indicating whether the query was asked to stop (unsubscribed, cancelled or failed).</summary>
    public bool IsStopped { get; private set; }

    /// <summary>Stops every source; operators see no more input.</summary>
    public void Stop()
    {
        if (IsStopped)
        {
            return;
        }

        IsStopped = true;
        // By index: the runner may be sorting the list on its own thread.
        for (int i = 0; i < Sources.Count; i++)
        {
            StoppedEarly |= !Sources[i].IsCompleted;
        }

        for (int i = 0; i < Sources.Count; i++)
        {
            Sources[i].Dispose();
        }
    }

    /// <summary>Gets a value indicating whether <see cref="Stop"/> came while a source still had events to give (so the query did not run to its end).</summary>
    public bool StoppedEarly { get; private set; }

    /// <summary>Wires <paramref name="input"/> to push into <paramref name="consumer"/>; with metrics, through a per-batch counter of what <paramref name="input"/> sends.</summary>
    public void Wire<T>(PhysicalStream<T> input, IStreamObserver<T> consumer) =>
        input.Connect(Metrics is { } metrics ? new Diagnostics.MeteredObserver<T>(metrics.CountersOf(input), consumer) : consumer, this);

    public BatchPool<T> Pool<T>()
    {
        if (_pools.TryGetValue(typeof(T), out var pool))
        {
            return (BatchPool<T>)pool;
        }

        var created = new BatchPool<T>(Options.BatchSize);
        _pools.Add(typeof(T), created);
        return created;
    }

    /// <summary>Drops the free batches a burst left in every pool (<see cref="BatchPool{T}.TrimExcess"/>); operators call it after their state shrank.</summary>
    public void TrimPools()
    {
        foreach (var pool in _pools.Values)
        {
            pool.TrimExcess();
        }
    }

    /// <summary>
    /// At the end of a run, on its thread: every pool whose batches all came back gives its free ones to <see cref="SharedBatches{T}"/>
    /// for the next run in the process (a parallel run's tasks and source tasks, whose contexts are made for one run).
    /// </summary>
    public void GiveBackPools()
    {
        foreach (var pool in _pools.Values)
        {
            pool.GiveBackToShared();
        }
    }

    /// <summary>The number of batches rented and not yet returned, over all payload types.</summary>
    public int OutstandingBatches()
    {
        int total = 0;
        foreach (var pool in _pools.Values)
        {
            total += pool.Outstanding;
        }

        return total;
    }

    /// <summary>Gets the one instance made for <paramref name="owner"/> in this run (a shared sub-plan is wired once).</summary>
    public TState GetOrAdd<TState>(object owner, Func<TState> create)
        where TState : class
    {
        if (_shared.TryGetValue(owner, out var existing))
        {
            return (TState)existing;
        }

        var state = create();
        _shared.Add(owner, state);
        return state;
    }
}
