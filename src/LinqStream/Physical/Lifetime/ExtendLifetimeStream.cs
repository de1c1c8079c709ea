using System.Globalization;
using LinqStream.Runtime;

namespace LinqStream.Physical.Lifetime;

/// <summary>Moves every event's end by <c>deltaTicks</c> (<c>ExtendLifetime</c>); a negative delta shortens lifetimes.</summary>
/// <remarks>
/// Lifetime: <c>[Start, End + delta)</c>; an infinite end stays infinite and a finite end saturates at ±infinity. An event
/// whose lifetime becomes empty (<c>End ≤ Start</c>) is dropped. State: none. Order and watermarks: starts do not change,
/// so events and watermarks pass through unchanged and unbuffered.
/// </remarks>
internal sealed class ExtendLifetimeStream<T> : PhysicalStream<T>
{
    private readonly PhysicalStream<T> _source;

    public ExtendLifetimeStream(PhysicalStream<T> source, long deltaTicks)
    {
        ArgumentNullException.ThrowIfNull(source);
        _source = source;
        DeltaTicks = deltaTicks;
    }

    public long DeltaTicks { get; }

    public override string Name => "ExtendLifetime";

    public override string Detail => "delta: " + DeltaTicks.ToString(CultureInfo.InvariantCulture);

    public override IReadOnlyList<PhysicalNode> Inputs => [_source];

    public override void Connect(IStreamObserver<T> downstream, QueryContext context) =>
        context.Wire(_source, new LifetimeOperator<T, ExtendLifetimeKernel>(downstream, context, new ExtendLifetimeKernel(DeltaTicks)));
}
