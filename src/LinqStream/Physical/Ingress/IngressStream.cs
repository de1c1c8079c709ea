using LinqStream.Runtime;
using LinqStream.Runtime.Ingress;

namespace LinqStream.Physical.Ingress;

/// <summary>The physical node of a source: which data, how its times are read, and its disorder policy.</summary>
internal sealed class IngressStream<T> : PhysicalStream<T>, Diagnostics.ISourceNode, IIngressNode
{
    private readonly object _source;
    private readonly EventTime<T> _time;
    private readonly IngressPolicy _policy;

    public IngressStream(object source, EventTime<T> time, IngressPolicy policy, string sourceName)
    {
        _source = source;
        _time = time;
        _policy = policy;
        SourceName = sourceName;
    }

    public string SourceName { get; }

    /// <summary>Gets a value indicating whether this source is a partition of an idle-timeout group (<c>QStream.From(partitions, ..., idleTimeout)</c>).</summary>
    public bool HasIdleGroup => _source is PartitionSource<T>;

    public override string Name => "From";

    public override string Detail => $"{SourceName}, time: {_time.StartSelector}{(_time.EndSelector is null ? string.Empty : ", end: " + _time.EndSelector)}, policy: {_policy}";

    public override IReadOnlyList<PhysicalNode> Inputs => [];

    public override void Connect(IStreamObserver<T> downstream, QueryContext context)
    {
        var orderer = new IngressOrderer<T>(downstream, context, _policy, SourceName);
        SourceDriver driver = _source switch
        {
            IEnumerable<T> enumerable => new EnumerableSource<T>(enumerable, _time, orderer, context, SourceName),
            IAsyncEnumerable<T> asyncEnumerable => new AsyncEnumerableSource<T>(asyncEnumerable, _time, orderer, context, SourceName),
            IObservable<T> observable => new ObservableSource<T>(observable, _time, orderer, context, SourceName),
            EventSource<T> eventSource => new EventSourceDriver<T>(eventSource, _time, orderer, context, SourceName),
            _ => throw new InvalidOperationException($"Source '{SourceName}' of type {_source.GetType()} is not an IEnumerable, IAsyncEnumerable or IObservable of {typeof(T).Name}."),
        };
        context.Sources.Add(driver);
        context.Checkpointed.Add(driver);
    }
}

/// <summary>A source node, as the parallel planner sees it.</summary>
internal interface IIngressNode
{
    bool HasIdleGroup { get; }
}
