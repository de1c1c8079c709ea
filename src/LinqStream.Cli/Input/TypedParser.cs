using System.Diagnostics.CodeAnalysis;
using System.Linq.Expressions;
using System.Reflection;
using System.Text;
using System.Text.Json;
using LinqStream.Cli.Scripting;

namespace LinqStream.Cli.Input;

/// <summary>Reads records into the script's own type <typeparamref name="T"/> with System.Text.Json (a CSV line is first turned into a JSON object by the header).</summary>
/// <remarks>
/// Web defaults: property names match case-insensitively, and numbers may be written as strings (which is how CSV cells arrive).
/// A constructor parameter (a positional record's member) that a line lacks makes the line malformed.
/// </remarks>
internal sealed class TypedParser<T> : IRecordParser<T>
{
    private static readonly JsonSerializerOptions s_options = new(JsonSerializerDefaults.Web) { RespectRequiredConstructorParameters = true };

    private readonly string[]? _header;
    private readonly bool[]? _isBool;
    private readonly Func<T, DateTimeOffset> _time;

    public TypedParser(string[]? header, Func<T, DateTimeOffset> time)
    {
        _header = header;
        _time = time;
        if (header is not null)
        {
            _isBool = [.. header.Select(h => PropertyType(h) is { } t && (Nullable.GetUnderlyingType(t) ?? t) == typeof(bool))];
        }
    }

    public bool TryParse(string text, long line, [MaybeNullWhen(false)] out T record, out DateTimeOffset time, out string reason)
    {
        record = default;
        time = default;
        string json = text;
        if (_header is not null)
        {
            if (!CsvLine.TrySplit(text, out var fields, out reason))
            {
                return false;
            }

            if (fields.Length != _header.Length)
            {
                reason = $"{fields.Length} fields, but the header has {_header.Length}";
                return false;
            }

            json = ToJson(fields);
        }

        try
        {
            record = JsonSerializer.Deserialize<T>(json, s_options);
        }
        catch (JsonException ex)
        {
            reason = Reason(ex);
            return false;
        }

        if (record is null)
        {
            reason = $"cannot read a {typeof(T).Name} from 'null'";
            return false;
        }

        try
        {
            time = _time(record);
        }
        catch (ArgumentOutOfRangeException ex)
        {
            reason = $"the event time is out of range: {ex.Message}";
            return false;
        }

        reason = "";
        return true;
    }

    /// <summary>Builds the event-time selector over <typeparamref name="T"/>'s property named <paramref name="field"/>: a DateTime (UTC), a DateTimeOffset, or a long of Unix milliseconds.</summary>
    public static Expression<Func<T, DateTimeOffset>> TimeSelector(string field)
    {
        var property = typeof(T).GetProperty(field, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase)
            ?? throw new ScriptContractException(
                $"The record '{typeof(T).Name}' has no property '{field}' to take the event time from. Pass --time with the name of a DateTime, DateTimeOffset or long (Unix milliseconds) property, "
                + $"or add one. Its properties are: {string.Join(", ", typeof(T).GetProperties().Select(p => p.Name))}.");
        var parameter = Expression.Parameter(typeof(T), "r");
        Expression value = Expression.Property(parameter, property);
        value = property.PropertyType == typeof(DateTimeOffset) ? value
            : property.PropertyType == typeof(DateTime) ? Expression.Call(typeof(EventTimeParser).GetMethod(nameof(EventTimeParser.FromDateTime))!, value)
            : property.PropertyType == typeof(long) ? Expression.Call(typeof(DateTimeOffset).GetMethod(nameof(DateTimeOffset.FromUnixTimeMilliseconds))!, value)
            : throw new ScriptContractException(
                $"The property '{typeof(T).Name}.{property.Name}' is a {property.PropertyType.Name}; the event time must be a DateTime, a DateTimeOffset or a long (Unix milliseconds).");
        return Expression.Lambda<Func<T, DateTimeOffset>>(value, parameter);
    }

    /// <summary>Names the field and the property it did not fit, rather than System.Text.Json's "could not be converted to Submission#0+Bid".</summary>
    private static string Reason(JsonException ex)
    {
        string? field = ex.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : null;
        if (field is not null && ex.Message.StartsWith("The JSON value could not be converted", StringComparison.Ordinal)
            && typeof(T).GetProperty(field, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase) is { } property)
        {
            return $"field '{field}' cannot be read as {property.PropertyType.Name} ({typeof(T).Name}.{property.Name})";
        }

        return $"cannot read a {typeof(T).Name}: {JsonText.Trim(ex.Message).Replace(typeof(T).FullName ?? typeof(T).Name, typeof(T).Name, StringComparison.Ordinal)}";
    }

    private static Type? PropertyType(string name) =>
        typeof(T).GetProperty(name, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase)?.PropertyType;

    private string ToJson(string[] fields)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            for (int i = 0; i < fields.Length; i++)
            {
                if (_isBool![i] && bool.TryParse(fields[i], out bool b))
                {
                    writer.WriteBoolean(_header![i], b);
                }
                else
                {
                    writer.WriteString(_header![i], fields[i]);
                }
            }

            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
