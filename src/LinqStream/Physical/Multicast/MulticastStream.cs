using LinqStream.Runtime;

namespace LinqStream.Physical.Multicast;

/// <summary>A sub-plan used by several consumers, computed once per run (<c>Publish</c>, a query used twice).</summary>
/// <remarks>
/// Lifetime: unchanged. State: none; each batch is handed to every consumer (a pooled copy for all but one, since
/// consumers may rewrite the batch they own). Order and watermarks: every consumer sees the source's batches, watermarks,
/// completion and error as they come.
/// </remarks>
internal sealed class MulticastStream<T> : PhysicalStream<T>
{
    private readonly PhysicalStream<T> _source;

    public MulticastStream(PhysicalStream<T> source)
    {
        ArgumentNullException.ThrowIfNull(source);
        _source = source;
    }

    /// <summary>Gets the shared sub-plan.</summary>
    public PhysicalStream<T> Source => _source;

    public override string Name => "Multicast";

    public override IReadOnlyList<PhysicalNode> Inputs => [_source];

    /// <summary>The first call in a run wires the source into a new fan-out; later calls only add consumers to it.</summary>
    public override void Connect(IStreamObserver<T> downstream, QueryContext context)
    {
        var fanOut = context.GetOrAdd(this, () => new MulticastOperator<T>(context));
        bool first = fanOut.ConsumerCount == 0;
        fanOut.AddConsumer(downstream);
        if (first)
        {
            context.Wire(_source, fanOut);
        }
    }
}
