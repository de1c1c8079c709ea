using LinqStream.Runtime;

namespace LinqStream.Physical.Lifetime;

/// <summary>Turns every event into a point event (<c>ToPointEvents</c>).</summary>
/// <remarks>
/// Lifetime: <c>[Start, Start + 1)</c>. State: none. Order and watermarks: starts do not change, so events and watermarks
/// pass through unchanged and unbuffered.
/// </remarks>
internal sealed class PointEventsStream<T> : PhysicalStream<T>
{
    private readonly PhysicalStream<T> _source;

    public PointEventsStream(PhysicalStream<T> source)
    {
        ArgumentNullException.ThrowIfNull(source);
        _source = source;
    }

    public override string Name => "ToPointEvents";

    public override IReadOnlyList<PhysicalNode> Inputs => [_source];

    public override void Connect(IStreamObserver<T> downstream, QueryContext context) =>
        context.Wire(_source, new LifetimeOperator<T, PointEventsKernel>(downstream, context, default));
}
