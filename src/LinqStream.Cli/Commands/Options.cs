using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace LinqStream.Cli.Commands;

/// <summary>Option factories shared by the commands.</summary>
internal static class Options
{
    /// <summary>A <c>long</c> option that accepts 1 to <paramref name="max"/>; anything else is a usage error (exit code 2).</summary>
    public static Option<long> PositiveLong(string name, string? alias, string description, long defaultValue, long max)
    {
        var option = alias is null ? new Option<long>(name) : new Option<long>(name, alias);
        option.Description = description;
        option.DefaultValueFactory = _ => defaultValue;
        option.CustomParser = result => Parse(result, name, max);
        return option;
    }

    private static long Parse(ArgumentResult result, string name, long max)
    {
        string text = result.Tokens.Count == 1 ? result.Tokens[0].Value : string.Empty;
        if (TryParseCount(text, out long value) && value >= 1 && value <= max)
        {
            return value;
        }

        result.AddError($"{name} must be a whole number from 1 to {max.ToString("N0", CultureInfo.InvariantCulture)} (500k, 10M and 1_000_000 are accepted); got '{text}'.");
        return 0;
    }

    /// <summary>Reads a count written <c>1000000</c>, <c>1,000,000</c>, <c>1_000_000</c>, <c>500k</c>, <c>10M</c>, <c>2.5M</c> or <c>1G</c>.</summary>
    public static bool TryParseCount(string text, out long value)
    {
        value = 0;
        text = text.Replace("_", string.Empty, StringComparison.Ordinal).Trim();
        long multiplier = text.Length == 0 ? 1 : char.ToUpperInvariant(text[^1]) switch
        {
            'K' => 1_000,
            'M' => 1_000_000,
            'G' or 'B' => 1_000_000_000,
            _ => 1,
        };
        if (multiplier == 1)
        {
            return long.TryParse(text, NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out value);
        }

        if (!decimal.TryParse(text[..^1], NumberStyles.AllowDecimalPoint | NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out decimal amount))
        {
            return false;
        }

        decimal scaled = amount * multiplier;
        if (scaled != decimal.Truncate(scaled) || scaled > long.MaxValue)
        {
            return false;
        }

        value = (long)scaled;
        return true;
    }
}
