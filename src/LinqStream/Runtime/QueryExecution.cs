namespace LinqStream.Runtime;

/// <summary>Wires a physical plan to a sink and runs it: inline for replay sources, on a task when a source is live.</summary>
internal sealed class QueryExecution
{
    private readonly QueryRunner _runner;

    private QueryExecution(QueryContext context)
    {
        Context = context;
        _runner = new QueryRunner(context);
    }

    public QueryContext Context { get; }

    public bool IsLive => _runner.HasLiveSources;

    /// <summary>Builds the operators of <paramref name="root"/> in a new context, with <paramref name="sink"/> at the end. Nothing runs yet.</summary>
    /// <param name="root">The physical plan.</param>
    /// <param name="sink">Makes the end of the query in the run's context.</param>
    /// <param name="options">The query's settings.</param>
    /// <param name="metrics">The job's instruments, counted per batch on the plan's edges; null measures nothing.</param>
    /// <param name="parallel">Which nodes run on several tasks; null runs the whole query on one task.</param>
    /// <param name="keyedState">Where keyed operators keep state off the heap; null keeps it on the heap.</param>
    /// <param name="parallelHost">Runs the split aggregate's tasks elsewhere (a cluster); null runs them on this process's threads.</param>
    /// <param name="outputPerTask">Whether the split aggregate (the plan's root) sends each task's output to a sink of its own instead of a merge.</param>
    public static QueryExecution Create<T>(PhysicalStream<T> root, Func<QueryContext, IStreamObserver<T>> sink, QueryOptions? options = null, JobMetrics? metrics = null, Parallel.ParallelPlan? parallel = null, State.IKeyedStateStoreFactory? keyedState = null, Parallel.IParallelRunHost? parallelHost = null, bool outputPerTask = false)
    {
        var context = new QueryContext(options) { Metrics = metrics, ParallelNodes = parallel?.Nodes, SourceSplitNodes = parallel?.SourceSplitNodes, ForwardNodes = parallel?.ForwardNodes, SplitArrays = parallel?.SplitArrays ?? false, TaskSteps = parallel?.TaskSteps, BroadcastJoins = parallel?.BroadcastJoins, KeyedState = keyedState, ParallelHost = parallelHost, OutputPerTask = outputPerTask };
        context.Wire(root, sink(context));
        metrics?.Attach(context, root);
        return new QueryExecution(context);
    }

    /// <summary>Runs to the end on the calling thread (every source must be a replay source).</summary>
    public void Run() => _runner.Run();

    public Task RunAsync(CancellationToken cancellationToken) => _runner.RunAsync(cancellationToken);

    public void Stop() => _runner.Stop();

    /// <summary>Waits for the threads of the query's parallel parts to end (after <see cref="Stop"/>): a stop reaches a task between two of its batches, not at once.</summary>
    /// <returns>False when a thread is still running after <paramref name="timeout"/>.</returns>
    public bool Join(TimeSpan timeout)
    {
        foreach (var run in Context.Operators.OfType<Parallel.IParallelRun>())
        {
            if (!run.Join(timeout))
            {
                return false;
            }
        }

        return true;
    }
}
