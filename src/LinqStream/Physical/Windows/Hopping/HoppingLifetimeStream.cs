using System.Globalization;
using LinqStream.Runtime;

using LinqStream.Physical.Lifetime;

namespace LinqStream.Physical.Windows.Hopping;

/// <summary>Gives every event the hopping-window lifetime <c>[WindowStart(Start, hop), WindowStart(Start, hop) + size)</c>.</summary>
/// <remarks>
/// Lifetime: as in DESIGN.md §1 (epoch-aligned; an end past the largest time saturates at infinity). When <c>size</c> is a
/// multiple of <c>hop</c>, the events alive at a hop boundary <c>T</c> are exactly the events of the window
/// <c>[T + hop - size, T + hop)</c>, so a snapshot aggregate sees each event once in every window that contains it.
/// State: none. Order and watermarks: the hop-aligned start is monotone, so order is kept; a watermark <c>W</c> becomes
/// <c>WindowStart(W, hop)</c>. Nothing is buffered.
/// </remarks>
internal sealed class HoppingLifetimeStream<T> : PhysicalStream<T>
{
    private readonly PhysicalStream<T> _source;

    public HoppingLifetimeStream(PhysicalStream<T> source, long size, long hop)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hop);
        _source = source;
        Size = size;
        Hop = hop;
    }

    public long Size { get; }

    public long Hop { get; }

    public override string Name => "HoppingLifetime";

    public override string Detail => "size: " + Size.ToString(CultureInfo.InvariantCulture) + ", hop: " + Hop.ToString(CultureInfo.InvariantCulture);

    public override IReadOnlyList<PhysicalNode> Inputs => [_source];

    public override void Connect(IStreamObserver<T> downstream, QueryContext context) =>
        context.Wire(_source, new LifetimeOperator<T, HoppingLifetimeKernel>(downstream, context, new HoppingLifetimeKernel(Size, Hop)));
}
