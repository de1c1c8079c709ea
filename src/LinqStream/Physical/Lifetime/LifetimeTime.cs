using LinqStream.Temporal;

namespace LinqStream.Physical.Lifetime;

/// <summary>Time arithmetic shared by the lifetime kernels: infinities stay infinite, finite times saturate.</summary>
internal static class LifetimeTime
{
    /// <summary><paramref name="time"/> + <paramref name="delta"/>, where ±infinity stays as it is and a finite sum saturates.</summary>
    public static long Add(long time, long delta) =>
        time == Ticks.Infinity || time == Ticks.MinusInfinity ? time : Ticks.SaturatingAdd(time, delta);

    /// <summary>
    /// The start of the epoch-aligned window of size <paramref name="size"/> holding the watermark <paramref name="watermark"/>;
    /// infinities stay infinite, and a watermark too far below the epoch to compute its window maps to minus infinity
    /// (always a safe lower bound).
    /// </summary>
    public static long WindowStartOfWatermark(long watermark, long size)
    {
        if (watermark == Ticks.Infinity)
        {
            return Ticks.Infinity;
        }

        // Ticks.WindowStart computes time - UnixEpoch and subtracts up to size - 1: keep both inside long.
        if (watermark < long.MinValue + Ticks.UnixEpoch + size)
        {
            return Ticks.MinusInfinity;
        }

        return Ticks.WindowStart(watermark, size);
    }
}
