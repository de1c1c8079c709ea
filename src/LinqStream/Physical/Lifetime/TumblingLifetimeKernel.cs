using LinqStream.Temporal;

namespace LinqStream.Physical.Lifetime;

/// <summary><c>Start = WindowStart(Start, size)</c>, <c>End = Start + size</c> (epoch-aligned); watermark <c>W</c> → <c>WindowStart(W, size)</c>.</summary>
internal readonly struct TumblingLifetimeKernel : ILifetimeKernel
{
    private readonly long _size;

    public TumblingLifetimeKernel(long size) => _size = size;

    public bool Apply(long[] start, long[] end, ulong[] absent, int count)
    {
        long size = _size;
        for (int i = 0; i < count; i++)
        {
            long s = Ticks.WindowStart(start[i], size);
            start[i] = s;
            end[i] = Ticks.SaturatingAdd(s, size);
        }

        return false;
    }

    // A later event starts at or after W, so its window starts at or after W's window.
    public long MapWatermark(long watermark) => LifetimeTime.WindowStartOfWatermark(watermark, _size);
}
