using System.Globalization;

namespace LinqStream.Cli.Scripting;

/// <summary>Reads an event time from a field value: ISO 8601 text (UTC unless it has an offset) or a whole number of Unix milliseconds.</summary>
internal static class EventTimeParser
{
    /// <summary>A DateTime as an event time: UTC and unspecified kinds are taken as UTC, local times are converted.</summary>
    public static DateTimeOffset FromDateTime(DateTime value) => value.Kind switch
    {
        DateTimeKind.Local => new DateTimeOffset(value.ToUniversalTime(), TimeSpan.Zero),
        _ => new DateTimeOffset(DateTime.SpecifyKind(value, DateTimeKind.Utc), TimeSpan.Zero),
    };

    public static bool TryParse(object? value, out DateTimeOffset time, out string reason)
    {
        reason = "";
        switch (value)
        {
            case long ms when ms >= -62_135_596_800_000L && ms <= 253_402_300_799_999L:
                time = DateTimeOffset.FromUnixTimeMilliseconds(ms);
                return true;
            case double d when Math.Floor(d) == d && d >= -62_135_596_800_000d && d <= 253_402_300_799_999d:
                time = DateTimeOffset.FromUnixTimeMilliseconds((long)d);
                return true;
            case string s when long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long ms):
                return TryParse(ms, out time, out reason);
            case string s when DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time):
                return true;
            default:
                time = default;
                reason = value is string text
                    ? $"\"{text}\" is not a time (write ISO 8601, such as 2026-01-01T00:00:05Z, or Unix milliseconds)"
                    : $"{Convert.ToString(value, CultureInfo.InvariantCulture) ?? "null"} is not a time (write ISO 8601 text or whole Unix milliseconds)";
                return false;
        }
    }
}
