using LinqStream.Temporal;

using LinqStream.Physical.Lifetime;

namespace LinqStream.Physical.Windows.Tumbling;

/// <summary><c>Start = WindowStart(Start, size)</c>, <c>End = Start + size</c> (epoch-aligned); watermark <c>W</c> → <c>WindowStart(W, size)</c>.</summary>
internal readonly struct TumblingLifetimeKernel : ILifetimeKernel
{
    private readonly long _size;

    public TumblingLifetimeKernel(long size) => _size = size;

    public bool Apply(long[] start, long[] end, ulong[] absent, int count)
    {
        long size = _size;
        // Starts are sorted, so most events fall in the previous event's window: test that exactly (the unsigned
        // difference is below the step only when the start is inside it) and divide only on a new window.
        long windowStart = 0, windowEnd = 0;
        ulong step = (ulong)size;
        bool known = false;
        for (int i = 0; i < count; i++)
        {
            long t = start[i];
            if (!known || unchecked((ulong)(t - windowStart)) >= step)
            {
                windowStart = Ticks.WindowStart(t, size);
                windowEnd = Ticks.SaturatingAdd(windowStart, size);
                known = true;
            }

            start[i] = windowStart;
            end[i] = windowEnd;
        }

        return false;
    }

    // A later event starts at or after W, so its window starts at or after W's window.
    public long MapWatermark(long watermark) => LifetimeTime.WindowStartOfWatermark(watermark, _size);
}
