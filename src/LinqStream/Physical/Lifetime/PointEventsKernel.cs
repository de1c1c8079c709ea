using LinqStream.Temporal;

namespace LinqStream.Physical.Lifetime;

/// <summary><c>End = Start + 1</c> (an event starting at infinity keeps an infinite end, as at ingress).</summary>
internal readonly struct PointEventsKernel : ILifetimeKernel
{
    public bool Apply(long[] start, long[] end, ulong[] absent, int count)
    {
        for (int i = 0; i < count; i++)
        {
            long s = start[i];
            end[i] = s == Ticks.Infinity ? Ticks.Infinity : s + 1;
        }

        return false;
    }

    public long MapWatermark(long watermark) => watermark;
}
