using System.Globalization;

namespace LinqStream.Cli.Showcase;

/// <summary>Invariant-culture formatting for the tables and the throughput line.</summary>
internal static class Format
{
    public static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static string Seconds(TimeSpan value) => value.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s";

    public static string Time(DateTimeOffset value) => value.UtcDateTime.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture);

    public static string Clock(DateTimeOffset value) => value.UtcDateTime.ToString("HH:mm:ss", CultureInfo.InvariantCulture);

    public static string Time(DateTime value) => value.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture);

    public static string Rate(long events, TimeSpan elapsed) =>
        elapsed <= TimeSpan.Zero ? "n/a" : (events / elapsed.TotalSeconds).ToString("N0", CultureInfo.InvariantCulture);
}
