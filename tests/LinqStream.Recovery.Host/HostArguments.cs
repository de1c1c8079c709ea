using System.Globalization;

namespace LinqStream.Recovery.Host;

/// <summary>The <c>--name value</c> pairs after the mode.</summary>
internal sealed class HostArguments
{
    private readonly Dictionary<string, string> _values;

    private HostArguments(Dictionary<string, string> values) => _values = values;

    public static HostArguments Parse(ReadOnlySpan<string> args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                throw new ArgumentException($"Expected '--name value' at argument '{args[i]}'.");
            }

            values[args[i][2..]] = args[i + 1];
        }

        return new HostArguments(values);
    }

    public bool Has(string name) => _values.ContainsKey(name);

    public string Text(string name) =>
        _values.TryGetValue(name, out var value) ? value : throw new ArgumentException($"--{name} is required.");

    public long Number(string name, long? fallback = null)
    {
        if (!_values.TryGetValue(name, out var value))
        {
            return fallback ?? throw new ArgumentException($"--{name} is required.");
        }

        return long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out long number)
            ? number
            : throw new ArgumentException($"--{name} must be a whole number, not '{value}'.");
    }
}
