using System.Linq.Expressions;
using LinqStream.Physical.Kernels;
using LinqStream.Runtime;
using LinqStream.Runtime.Ingress;

namespace LinqStream.Physical.Ingress;

/// <summary>The physical node of a source: which data, how its times are read, and its disorder policy.</summary>
internal sealed class IngressStream<T> : PhysicalStream<T>, Diagnostics.ISourceNode, ICompilesKernels, IIngressNode, Parallel.IRangeSplittable<T>
{
    private readonly object _source;
    private readonly LambdaExpression _start;
    private readonly LambdaExpression? _end;
    private readonly KernelCompiler? _compiler;
    private EventTime<T>? _time;
    private bool _deferTime;
    private readonly IngressPolicy _policy;

    public IngressStream(object source, EventTime<T> time, IngressPolicy policy, string sourceName)
    {
        _source = source;
        _time = time;
        _start = time.StartSelector;
        _end = time.EndSelector;
        _policy = policy;
        SourceName = sourceName;
    }

    /// <summary>Initializes an ingress whose event-time kernels are compiled by <see cref="CompileKernels"/> (the compiler's last stage).</summary>
    public IngressStream(object source, LambdaExpression start, LambdaExpression? end, IngressPolicy policy, string sourceName, KernelCompiler kernels)
    {
        _source = source;
        _start = start;
        _end = end;
        _compiler = kernels;
        _policy = policy;
        SourceName = sourceName;
    }

    public string SourceName { get; }

    /// <summary>Gets the members of <typeparamref name="T"/> the query reads, or null for every member (<see cref="SourceContext.MembersRead"/>).</summary>
    public IReadOnlyList<string>? MembersRead { get; init; }

    /// <summary>Gets a value indicating whether this source is a partition of an idle-timeout group (<c>QStream.From(partitions, ..., idleTimeout)</c>).</summary>
    public bool HasIdleGroup => _source is PartitionSource<T>;

    /// <summary>Gets what the source declares about its partitioning by key (<c>QStream.FromKeyPartitioned</c>), or null.</summary>
    public KeyPartitioning? KeyPartitioning => _source switch
    {
        KeyPartitionedSource<T> source => source.Partitioning,
        ArrayChunks<T> array => array.Partitioning,
        _ => null,
    };

    /// <summary>Gets a value indicating whether the source is replayed on the thread that steps it (an array or sequence), not read on a pool thread.</summary>
    public bool IsReplayed => _source is IEnumerable<T>;

    /// <summary>Gets the type of the events the source reads.</summary>
    public Type EventType => typeof(T);

    /// <summary>Gets a value indicating whether the source is an array replayed as fast as the CPU allows.</summary>
    public bool IsReplayedArray => _source is T[];

    /// <summary>
    /// Gets the event-time selector (returning ticks) when a filter/projection chain right after this ingress (or every chain after
    /// a multicast of it) may read the source array itself, with the time in the same pass (<see cref="IFusedIngress{T}"/>): a
    /// replayed array or list (<see cref="IReadOnlyList{T}"/>, whose slices are copied into one array first) of point events (no
    /// end selector) with an in-order policy (a reorder buffer holds events back, so it never fuses); otherwise null.
    /// </summary>
    public LambdaExpression? FusableStart => _source is IReadOnlyList<T> && _end is null && _policy.Kind != IngressPolicyKind.Reorder ? EventTimeKernel.ForKernel(_start) : null;

    public override string Name => "From";

    public override string Detail => $"{SourceName}, time: {_start}{(_end is null ? string.Empty : ", end: " + _end)}, policy: {_policy}";

    public override IReadOnlyList<PhysicalNode> Inputs => [];

    /// <remarks>
    /// When the consumer reads the replayed array itself, times included (<see cref="DeferTimeKernels"/>), the event-time kernels are
    /// deferred: compiled when a slice falls back to the ordinary path, or at wiring when the consumer does not fuse after all.
    /// </remarks>
    public void CompileKernels() => _time ??= _deferTime ? EventTimeKernel.Defer<T>(_start, _end, _compiler ?? KernelCompiler.Shared) : EventTimeKernel.Compile<T>(_start, _end, _compiler);

    /// <summary>
    /// Called by the chain right after this ingress when it compiles its fused kernel (<see cref="Pipeline.IngressPipelineKernel"/>):
    /// that kernel computes the times, so this ingress's own time kernels are compiled only if a slice falls back. No effect once
    /// the kernels are compiled.
    /// </summary>
    public void DeferTimeKernels() => _deferTime = true;

    /// <summary>
    /// An array in start order as <paramref name="count"/> parts, each its own ingress with this policy: the array cut into
    /// chunks of about <paramref name="chunk"/> events between two different start times, dealt out to the parts in turn (so
    /// the parts move through event time together, and no two parts have an event on the same tick: their union is the
    /// array's order, and no event is out of order in a part); null when the source is not an array, it has fewer than two
    /// chunks per part, or it is not in start order.
    /// </summary>
    public IReadOnlyList<PhysicalStream<T>>? SplitIntoRanges(int count, int chunk)
    {
        if (_source is not T[] array || count < 2 || array.Length / count < 2 * chunk)
        {
            return null;
        }

        CompileKernels();
        if (_time!.ChunksInStartOrder(array, chunk) is not { } bounds || bounds.Count < count)
        {
            return null;
        }

        return [.. ArrayChunks<T>.Deal(array, bounds, count).Select(part => new IngressStream<T>(part, _time, _policy, SourceName))];
    }

    public override void Connect(IStreamObserver<T> downstream, QueryContext context)
    {
        CompileKernels(); // a no-op after the compiler's last stage
        var time = _time!;
        var fused = FusableStart is null ? null : downstream as IFusedIngress<T>;
        if (fused is not { CanFuse: true })
        {
            time.Compile(); // deferred, but the consumer reads batches after all (fusion off, metrics): compiled now, not mid-run
        }

        var orderer = new IngressOrderer<T>(downstream, context, _policy, SourceName);
        SourceDriver driver = _source switch
        {
            IEnumerable<T> enumerable => new EnumerableSource<T>(enumerable, time, orderer, context, SourceName, fused),
            IAsyncEnumerable<T> asyncEnumerable => new AsyncEnumerableSource<T>(asyncEnumerable, time, orderer, context, SourceName),
            IObservable<T> observable => new ObservableSource<T>(observable, time, orderer, context, SourceName),
            EventSource<T> eventSource => new EventSourceDriver<T>(eventSource, time, orderer, context, SourceName) { MembersRead = MembersRead },
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

    bool IsReplayedArray { get; }

    bool IsReplayed { get; }

    string SourceName { get; }

    KeyPartitioning? KeyPartitioning { get; }

    Type EventType { get; }
}
