using LinqStream.Temporal;

namespace LinqStream.Physical.Lifetime;

/// <summary><c>End += delta</c>: an infinite end stays infinite, a finite end saturates; a lifetime left empty is dropped.</summary>
internal readonly struct ExtendLifetimeKernel : ILifetimeKernel
{
    private readonly long _delta;

    public ExtendLifetimeKernel(long delta) => _delta = delta;

    public bool Apply(long[] start, long[] end, ulong[] absent, int count)
    {
        long delta = _delta;
        if (delta >= 0)
        {
            for (int i = 0; i < count; i++)
            {
                // Adding a non-negative delta overflows exactly when the sum wraps below the end; an infinite end
                // (long.MaxValue) wraps for any delta > 0, so it stays infinite too. Ends are never minus infinity.
                long e = end[i];
                long sum = unchecked(e + delta);
                end[i] = sum < e ? Ticks.Infinity : sum;
            }

            return false;
        }

        bool dropped = false;
        for (int i = 0; i < count; i++)
        {
            long e = end[i];
            if (e == Ticks.Infinity)
            {
                continue;
            }

            // A negative delta overflows exactly when the sum wraps above the end.
            long sum = unchecked(e + delta);
            e = sum > e ? Ticks.MinusInfinity : sum;
            end[i] = e;
            if (e <= start[i])
            {
                absent[i >> 6] |= 1UL << i;
                dropped = true;
            }
        }

        return dropped;
    }

    // Starts do not move, so neither does the watermark.
    public long MapWatermark(long watermark) => watermark;
}
