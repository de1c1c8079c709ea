namespace LinqStream.Temporal;

/// <summary>Conversions between the API's time types and the engine's ticks, done once, at the edge.</summary>
internal static class Ticks
{
    /// <summary>Ticks of 1970-01-01T00:00:00Z, the origin windows are aligned to (as in Flink).</summary>
    public const long UnixEpoch = 621_355_968_000_000_000L;

    /// <summary>A watermark or end that no event time can reach.</summary>
    public const long Infinity = long.MaxValue;

    /// <summary>A watermark below every event time.</summary>
    public const long MinusInfinity = long.MinValue;

    public static long From(DateTimeOffset time) => time.UtcTicks;

    public static long From(DateTime time) => time.Kind == DateTimeKind.Local ? time.ToUniversalTime().Ticks : time.Ticks;

    public static DateTimeOffset ToDateTimeOffset(long ticks) =>
        ticks <= DateTimeOffset.MinValue.UtcTicks ? DateTimeOffset.MinValue
        : ticks >= DateTimeOffset.MaxValue.UtcTicks ? DateTimeOffset.MaxValue
        : new DateTimeOffset(ticks, TimeSpan.Zero);

    /// <summary>
    /// An instant as text, exactly: ISO 8601 (<c>O</c>) inside <see cref="DateTimeOffset"/>'s range, otherwise the tick count
    /// (<c>"9223372036854775807 ticks"</c>), so that dead letters and messages name events and windows beyond year 9999 (or
    /// before year 1) without clamping two of them to one text.
    /// </summary>
    public static string Format(long ticks) =>
        ticks >= DateTimeOffset.MinValue.UtcTicks && ticks <= DateTimeOffset.MaxValue.UtcTicks
            ? new DateTimeOffset(ticks, TimeSpan.Zero).ToString("O", System.Globalization.CultureInfo.InvariantCulture)
            : ticks.ToString(System.Globalization.CultureInfo.InvariantCulture) + " ticks";

    /// <summary>
    /// A watermark taken from event times, kept below <see cref="Infinity"/>: an event may sit at <c>long.MaxValue</c> ticks, and more
    /// events at that same instant may follow it, so only the end of the stream may promise +infinity.
    /// </summary>
    public static long BeforeEnd(long watermark) => watermark == Infinity ? Infinity - 1 : watermark;

    /// <summary>Adds without overflowing: infinities stay infinite.</summary>
    public static long SaturatingAdd(long time, long delta)
    {
        long sum = unchecked(time + delta);
        if (((time ^ sum) & (delta ^ sum)) < 0)
        {
            return delta > 0 ? Infinity : MinusInfinity;
        }

        return sum;
    }

    /// <summary>The start of the window of size <paramref name="size"/> (aligned to the Unix epoch) that holds <paramref name="time"/>.</summary>
    public static long WindowStart(long time, long size)
    {
        // Floor division relative to the epoch, correct for times before 1970 and for any size > 0.
        long rel = unchecked(time - UnixEpoch);
        if (time < 0 && rel > 0)
        {
            // time - epoch underflowed (about 8.6e18 ticks before the epoch): do it in 128 bits and saturate.
            Int128 wide = (Int128)time - UnixEpoch;
            Int128 wideRem = wide % size;
            if (wideRem < 0)
            {
                wideRem += size;
            }

            Int128 start = (Int128)time - wideRem;
            return start < long.MinValue ? long.MinValue : (long)start;
        }

        long rem = rel % size;
        if (rem < 0)
        {
            rem += size;
        }

        return time - rem;
    }
}
