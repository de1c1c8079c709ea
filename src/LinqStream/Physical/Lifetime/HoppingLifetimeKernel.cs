using LinqStream.Temporal;

namespace LinqStream.Physical.Lifetime;

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
        for (int i = 0; i < count; i++)
        {
            long s = Ticks.WindowStart(start[i], hop);
            start[i] = s;
            end[i] = Ticks.SaturatingAdd(s, size);
        }

        return false;
    }

    public long MapWatermark(long watermark) => LifetimeTime.WindowStartOfWatermark(watermark, _hop);
}
