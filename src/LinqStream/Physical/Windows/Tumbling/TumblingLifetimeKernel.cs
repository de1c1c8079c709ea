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
        ulong step = (ulong)size;
        int firstPresent = Runtime.PresentIndices.First(absent, count);
        if (firstPresent >= 0)
        {
            // The present events' starts are sorted, so when the first and the last of them are in one window, every present event
            // is (a replayed batch of a 10 s window is, but for the one batch a window ends in): two vector fills instead of a loop
            // that writes each event (an absent event's lifetime is read by nobody; it gets the window's too).
            long first = start[firstPresent], last = start[Runtime.PresentIndices.Last(absent, count)];
            long firstWindow = Ticks.WindowStart(first, size);
            if (last >= first && unchecked((ulong)(last - firstWindow)) < step)
            {
                start.AsSpan(0, count).Fill(firstWindow);
                end.AsSpan(0, count).Fill(Ticks.SaturatingAdd(firstWindow, size));
                return false;
            }
        }

        // Otherwise most events fall in the previous event's window: test that exactly (the unsigned difference is below the
        // step only when the start is inside it) and divide only on a new window.
        long windowStart = 0, windowEnd = 0;
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
