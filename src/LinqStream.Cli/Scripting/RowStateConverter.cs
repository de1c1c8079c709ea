using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace LinqStream.Cli.Scripting;

/// <summary>
/// A <see cref="Row"/> in a checkpoint: its time, line, schema and values, each value with its kind kept (a whole number stays a
/// <see cref="long"/>, a double stays a <see cref="double"/>, NaN and infinities included), so a restored job reads the rows its
/// reorder buffer, join or buffered window held exactly as the file gave them.
/// </summary>
/// <remarks>
/// Form: <c>{"t":UTC ticks,"l":line,"n":[names],"k":[kinds],"i":time index,"v":[values]}</c>, a double as <c>{"d":"1.5"}</c>
/// (round-trip text). Rows read back with one schema share one <see cref="RowSchema"/>, as the rows of one file do.
/// Results are written by <c>ResultJson</c>'s own converter (an object of the fields), which takes precedence over this one.
/// </remarks>
internal sealed class RowStateConverter : JsonConverter<Row>
{
    private static readonly ConcurrentDictionary<string, RowSchema> s_schemas = new(StringComparer.Ordinal);

    public override void Write(Utf8JsonWriter writer, Row value, JsonSerializerOptions options)
    {
        var schema = value.Schema;
        writer.WriteStartObject();
        writer.WriteNumber("t", value.Time.UtcTicks);
        writer.WriteNumber("l", value.Line);
        writer.WriteStartArray("n");
        foreach (string name in schema.Names)
        {
            writer.WriteStringValue(name);
        }

        writer.WriteEndArray();
        writer.WriteStartArray("k");
        foreach (var kind in schema.Kinds)
        {
            writer.WriteNumberValue((int)kind);
        }

        writer.WriteEndArray();
        writer.WriteNumber("i", schema.TimeIndex);
        writer.WriteStartArray("v");
        for (int i = 0; i < schema.Names.Count; i++)
        {
            switch (value.ValueAt(i))
            {
                case null:
                    writer.WriteNullValue();
                    break;
                case long l:
                    writer.WriteNumberValue(l);
                    break;
                case double d:
                    writer.WriteStartObject();
                    writer.WriteString("d", d.ToString("R", CultureInfo.InvariantCulture));
                    writer.WriteEndObject();
                    break;
                case string s:
                    writer.WriteStringValue(s);
                    break;
                case bool b:
                    writer.WriteBooleanValue(b);
                    break;
                case var other:
                    throw new JsonException($"Line {value.Line}: field '{schema.Names[i]}' holds a {other.GetType().Name}, which a checkpoint cannot keep.");
            }
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    public override Row Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        Expect(ref reader, JsonTokenType.StartObject);
        long ticks = 0, line = 0;
        int timeIndex = -1;
        List<string>? names = null;
        List<FieldKind>? kinds = null;
        List<object?>? values = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string property = reader.GetString()!;
            reader.Read();
            switch (property)
            {
                case "t":
                    ticks = reader.GetInt64();
                    break;
                case "l":
                    line = reader.GetInt64();
                    break;
                case "i":
                    timeIndex = reader.GetInt32();
                    break;
                case "n":
                    Expect(ref reader, JsonTokenType.StartArray);
                    names = [];
                    while (Next(ref reader))
                    {
                        names.Add(reader.GetString() ?? throw new JsonException("A row's field name is null."));
                    }

                    break;
                case "k":
                    Expect(ref reader, JsonTokenType.StartArray);
                    kinds = [];
                    while (Next(ref reader))
                    {
                        int kind = reader.GetInt32();
                        kinds.Add(Enum.IsDefined((FieldKind)kind) ? (FieldKind)kind : throw new JsonException($"A row's field kind {kind} is unknown."));
                    }

                    break;
                case "v":
                    Expect(ref reader, JsonTokenType.StartArray);
                    values = [];
                    while (Next(ref reader))
                    {
                        values.Add(ReadValue(ref reader));
                    }

                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        if (reader.TokenType != JsonTokenType.EndObject || names is null || kinds is null || values is null
            || names.Count != kinds.Count || names.Count != values.Count || timeIndex < 0 || timeIndex >= names.Count)
        {
            throw new JsonException("A row in the checkpoint is incomplete: it needs its names, kinds, time index and one value per field.");
        }

        return new Row(Schema(names, kinds, timeIndex), [.. values], new DateTimeOffset(ticks, TimeSpan.Zero), line);
    }

    private static object? ReadValue(ref Utf8JsonReader reader)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return null;
            case JsonTokenType.Number:
                return reader.GetInt64();
            case JsonTokenType.String:
                return reader.GetString();
            case JsonTokenType.True or JsonTokenType.False:
                return reader.GetBoolean();
            case JsonTokenType.StartObject:
                reader.Read();
                if (reader.TokenType != JsonTokenType.PropertyName || reader.GetString() != "d")
                {
                    throw new JsonException("A row's number is written as {\"d\":\"...\"}.");
                }

                reader.Read();
                double d = double.Parse(reader.GetString() ?? "", NumberStyles.Float, CultureInfo.InvariantCulture);
                Expect(ref reader, JsonTokenType.EndObject, advance: true);
                return d;
            default:
                throw new JsonException($"A row's value cannot start with {reader.TokenType}.");
        }
    }

    /// <summary>The shared schema of these names, kinds and time index (rows of one file share one).</summary>
    private static RowSchema Schema(List<string> names, List<FieldKind> kinds, int timeIndex)
    {
        string key = string.Join('\u0001', names) + '\u0002' + string.Join(',', kinds.Select(k => (int)k)) + '\u0002' + timeIndex.ToString(CultureInfo.InvariantCulture);
        return s_schemas.GetOrAdd(key, _ => new RowSchema([.. names], [.. kinds], timeIndex));
    }

    /// <summary>Moves to the next element of the array the reader is in (or at the start of); false at its end.</summary>
    private static bool Next(ref Utf8JsonReader reader)
    {
        if (!reader.Read())
        {
            throw new JsonException("A row in the checkpoint is cut short.");
        }

        return reader.TokenType != JsonTokenType.EndArray;
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type, bool advance = false)
    {
        if (advance)
        {
            reader.Read();
        }

        if (reader.TokenType != type)
        {
            throw new JsonException($"A row in the checkpoint has {reader.TokenType} where {type} was expected.");
        }
    }
}
