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
        if (long.TryParse(text.Replace("_", string.Empty, StringComparison.Ordinal), NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out long value)
            && value >= 1 && value <= max)
        {
            return value;
        }

        result.AddError($"{name} must be a whole number from 1 to {max.ToString("N0", CultureInfo.InvariantCulture)}; got '{text}'.");
        return 0;
    }
}
