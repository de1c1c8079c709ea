using System.Text.Json;

namespace LinqStream.Cli.Input;

/// <summary>Parses a line as one JSON object and words System.Text.Json's errors for a person reading a line of a file.</summary>
internal static class JsonText
{
    public static bool TryParseObject(string text, out JsonDocument? document, out string reason)
    {
        try
        {
            document = JsonDocument.Parse(text);
        }
        catch (JsonException ex)
        {
            document = null;
            reason = $"invalid JSON at column {(ex.BytePositionInLine ?? 0) + 1}: {Trim(ex.Message)}";
            return false;
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            reason = $"expected a JSON object, got {Describe(document.RootElement.ValueKind)}";
            document.Dispose();
            document = null;
            return false;
        }

        reason = "";
        return true;
    }

    /// <summary>Removes the " LineNumber: 0 | BytePositionInLine: 12." tail: the reader sees one line at a time, and the column is given separately.</summary>
    public static string Trim(string message)
    {
        int at = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (at < 0)
        {
            at = message.IndexOf(" | LineNumber:", StringComparison.Ordinal);
        }

        message = at < 0 ? message : message[..at].TrimEnd(' ', '|');
        return message.TrimEnd('.');
    }

    public static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };
}
