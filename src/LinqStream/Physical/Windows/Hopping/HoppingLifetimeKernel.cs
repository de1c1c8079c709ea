using LinqStream.Temporal;

using LinqStream.Physical.Lifetime;

namespace LinqStream.Physical.Windows.Hopping;

/// <summary><c>Start = WindowStart(Start, hop)</c>, <c>End = Start + size</c>; watermark <c>W</c> → <c>WindowStart(W, hop)</c>.</summary>
internal readonly struct HoppingLifetimeKernel : ILifetimeKernel
{
    private readonly long _size;
    private readonly long _hop;

    public HoppingLifetimeKernel(long size, long hop)
    {
        _size = size;
        _hop = hop;
    }

    public bool Apply(long[] start, long[] end, ulong[] absent, int count)
    {
        long size = _size, hop = _hop;
        // Starts are sorted, so most events fall in the previous event's window: test that exactly (the unsigned
        // difference is below the step only when the start is inside it) and divide only on a new window.
        long windowStart = 0, windowEnd = 0;
        ulong step = (ulong)hop;
        bool known = false;
        for (int i = 0; i < count; i++)
        {
            long t = start[i];
            if (!known || unchecked((ulong)(t - windowStart)) >= step)
            {
                windowStart = Ticks.WindowStart(t, hop);
                windowEnd = Ticks.SaturatingAdd(windowStart, size);
                known = true;
            }

            start[i] = windowStart;
            end[i] = windowEnd;
        }

        return false;
    }

    public long MapWatermark(long watermark) => LifetimeTime.WindowStartOfWatermark(watermark, _hop);
}
