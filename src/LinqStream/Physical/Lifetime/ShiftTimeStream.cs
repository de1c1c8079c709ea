using System.Globalization;
using LinqStream.Runtime;

namespace LinqStream.Physical.Lifetime;

/// <summary>Moves every event in time by <c>deltaTicks</c> (<c>ShiftTime</c>).</summary>
/// <remarks>
/// Lifetime: <c>[Start + delta, End + delta)</c>, saturating at ±infinity (an infinite end stays infinite); an event whose
/// lifetime collapses under saturation is dropped. State: none. Order and watermarks: the shift is monotone, so order is
/// kept and each watermark <c>W</c> becomes <c>W + delta</c> (±infinity unchanged).
/// </remarks>
internal sealed class ShiftTimeStream<T> : PhysicalStream<T>
{
    private readonly PhysicalStream<T> _source;

    public ShiftTimeStream(PhysicalStream<T> source, long deltaTicks)
    {
        ArgumentNullException.ThrowIfNull(source);
        _source = source;
        DeltaTicks = deltaTicks;
    }

    public long DeltaTicks { get; }

    public override string Name => "ShiftTime";

    public override string Detail => "delta: " + DeltaTicks.ToString(CultureInfo.InvariantCulture);

    public override IReadOnlyList<PhysicalNode> Inputs => [_source];

    public override void Connect(IStreamObserver<T> downstream, QueryContext context) =>
        context.Wire(_source, new LifetimeOperator<T, ShiftTimeKernel>(downstream, context, new ShiftTimeKernel(DeltaTicks)));
}
