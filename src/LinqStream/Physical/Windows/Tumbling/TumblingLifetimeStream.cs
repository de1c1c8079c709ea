using System.Globalization;
using LinqStream.Runtime;

using LinqStream.Physical.Lifetime;

namespace LinqStream.Physical.Windows.Tumbling;

/// <summary>Gives every event the lifetime of the tumbling window of <c>size</c> ticks that holds its start.</summary>
/// <remarks>
/// Lifetime: <c>[w, w + size)</c> with <c>w = WindowStart(Start, size)</c>, windows aligned to the Unix epoch (an end past
/// the largest time saturates at infinity). State: none. Order and watermarks: the window start is monotone in the start,
/// so order is kept; a watermark <c>W</c> becomes <c>WindowStart(W, size)</c>, since every later event maps to a start at
/// least that. Nothing is buffered.
/// </remarks>
internal sealed class TumblingLifetimeStream<T> : PhysicalStream<T>
{
    private readonly PhysicalStream<T> _source;

    public TumblingLifetimeStream(PhysicalStream<T> source, long size)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        _source = source;
        Size = size;
    }

    public long Size { get; }

    public override string Name => "TumblingLifetime";

    public override string Detail => "size: " + Size.ToString(CultureInfo.InvariantCulture);

    public override IReadOnlyList<PhysicalNode> Inputs => [_source];

    public override void Connect(IStreamObserver<T> downstream, QueryContext context) =>
        context.Wire(_source, new LifetimeOperator<T, TumblingLifetimeKernel>(downstream, context, new TumblingLifetimeKernel(Size)));
}
