namespace LinqStream.Tests.Physical.Lifetime;

/// <summary>Epoch-aligned window arithmetic done the slow, obviously right way (128-bit floor division).</summary>
internal static class WindowOracle
{
    public const long Epoch = 621_355_968_000_000_000L;

    public static long Floor(long time, long size)
    {
        Int128 rel = (Int128)time - Epoch;
        Int128 q = rel / size;
        if (rel % size < 0)
        {
            q--;
        }

        return (long)(Epoch + (q * size));
    }

    public static long Add(long time, long delta) => (long)Int128.Min((Int128)time + delta, long.MaxValue);

    public static bool IsAligned(long time, long size) => ((Int128)time - Epoch) % size == 0;
}
