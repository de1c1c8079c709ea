namespace LinqStream.Physical.Lifetime;

/// <summary><c>Start += delta</c>, <c>End += delta</c> and the watermark with them; an event saturated to an empty lifetime is dropped.</summary>
internal readonly struct ShiftTimeKernel : ILifetimeKernel
{
    private readonly long _delta;

    public ShiftTimeKernel(long delta) => _delta = delta;

    public bool Apply(long[] start, long[] end, ulong[] absent, int count)
    {
        long delta = _delta;
        bool dropped = false;
        for (int i = 0; i < count; i++)
        {
            long s = LifetimeTime.Add(start[i], delta);
            long e = LifetimeTime.Add(end[i], delta);
            start[i] = s;
            end[i] = e;

            // Only saturation can collapse a lifetime (both ends pinned at the same infinity).
            if (e <= s)
            {
                absent[i >> 6] |= 1UL << i;
                dropped = true;
            }
        }

        return dropped;
    }

    public long MapWatermark(long watermark) => LifetimeTime.Add(watermark, _delta);
}
