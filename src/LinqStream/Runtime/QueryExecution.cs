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
    public static QueryExecution Create<T>(PhysicalStream<T> root, Func<QueryContext, IStreamObserver<T>> sink, QueryOptions? options = null, JobMetrics? metrics = null)
    {
        var context = new QueryContext(options) { Metrics = metrics };
        context.Wire(root, sink(context));
        metrics?.Attach(context, root);
        return new QueryExecution(context);
    }

    /// <summary>Runs to the end on the calling thread (every source must be a replay source).</summary>
    public void Run() => _runner.Run();

    public Task RunAsync(CancellationToken cancellationToken) => _runner.RunAsync(cancellationToken);

    public void Stop() => _runner.Stop();
}
