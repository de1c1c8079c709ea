using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.RegularExpressions;

namespace LinqStream.Cli.Commands;

/// <summary>Parses durations written <c>500ms</c>, <c>5s</c>, <c>2m</c>, <c>1h</c> or <c>hh:mm:ss</c>.</summary>
internal static partial class Durations
{
    public static TimeSpan Parse(ArgumentResult result, string name)
    {
        string text = result.Tokens.Count == 1 ? result.Tokens[0].Value : string.Empty;
        if (TryParse(text, out var value))
        {
            return value;
        }

        result.AddError($"{name} must be a duration such as 500ms, 5s, 2m or 00:00:05; got '{text}'.");
        return TimeSpan.Zero;
    }

    public static bool TryParse(string text, out TimeSpan value)
    {
        var match = Unit().Match(text.Trim());
        if (match.Success && double.TryParse(match.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double amount) && amount >= 0)
        {
            value = match.Groups[2].Value.ToLowerInvariant() switch
            {
                "ms" => TimeSpan.FromMilliseconds(amount),
                "s" => TimeSpan.FromSeconds(amount),
                "m" => TimeSpan.FromMinutes(amount),
                _ => TimeSpan.FromHours(amount),
            };
            return true;
        }

        return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out value) && value >= TimeSpan.Zero;
    }

    [GeneratedRegex(@"^([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Unit();
}
