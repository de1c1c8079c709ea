using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace LinqStream.Cli.Scripting;

/// <summary>
/// A <see cref="Row"/> in a checkpoint (the engine writes the user's payloads as JSON, for example the rows an ingress reorder buffer
/// holds) and back: its schema (names, kinds, time field), its values with their kinds, its time and its line, so a restored row
/// answers every accessor as the row that was written. Results are written by <c>ResultJson</c>'s own converter (fields only).
/// </summary>
/// <remarks>
/// <c>{"names":[..],"kinds":[..],"time":i,"values":[..],"at":ticks,"offset":minutes,"line":n}</c>; a value is <c>null</c>,
/// <c>true</c>/<c>false</c>, a string, a whole number (a <see cref="long"/>) or <c>{"double":"R text"}</c> (so 2.0 stays a double,
/// and infinities survive). Each restored row gets its own schema object; rows are compared by their values, never by schema identity.
/// </remarks>
internal sealed class RowStateJsonConverter : JsonConverter<Row>
{
    public override Row Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        Expect(ref reader, JsonTokenType.StartObject);
        var names = new List<string>();
        var kinds = new List<FieldKind>();
        var values = new List<object?>();
        int timeIndex = -1;
        long ticks = 0;
        int offsetMinutes = 0;
        long line = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            string property = reader.GetString()!;
            reader.Read();
            switch (property)
            {
                case "names":
                    ReadArray(ref reader, (ref Utf8JsonReader r) => names.Add(r.GetString() ?? throw Bad("a field name is null")));
                    break;
                case "kinds":
                    ReadArray(ref reader, (ref Utf8JsonReader r) => kinds.Add((FieldKind)r.GetInt32()));
                    break;
                case "values":
                    ReadArray(ref reader, (ref Utf8JsonReader r) => values.Add(ReadValue(ref r)));
                    break;
                case "time":
                    timeIndex = reader.GetInt32();
                    break;
                case "at":
                    ticks = reader.GetInt64();
                    break;
                case "offset":
                    offsetMinutes = reader.GetInt32();
                    break;
                case "line":
                    line = reader.GetInt64();
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        if (names.Count == 0 || names.Count != kinds.Count || names.Count != values.Count || timeIndex < 0 || timeIndex >= names.Count)
        {
            throw Bad($"it needs as many names, kinds and values ({names.Count}, {kinds.Count}, {values.Count}) and a time field among them ({timeIndex})");
        }

        var schema = new RowSchema(names, kinds, timeIndex);
        return new Row(schema, [.. values], new DateTimeOffset(ticks, TimeSpan.FromMinutes(offsetMinutes)), line);
    }

    public override void Write(Utf8JsonWriter writer, Row value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteStartArray("names");
        foreach (string name in value.Fields)
        {
            writer.WriteStringValue(name);
        }

        writer.WriteEndArray();
        writer.WriteStartArray("kinds");
        foreach (var kind in value.Schema.Kinds)
        {
            writer.WriteNumberValue((int)kind);
        }

        writer.WriteEndArray();
        writer.WriteNumber("time", value.Schema.TimeIndex);
        writer.WriteStartArray("values");
        for (int i = 0; i < value.Fields.Count; i++)
        {
            switch (value.ValueAt(i))
            {
                case null: writer.WriteNullValue(); break;
                case bool b: writer.WriteBooleanValue(b); break;
                case long l: writer.WriteNumberValue(l); break;
                case double d:
                    writer.WriteStartObject();
                    writer.WriteString("double", d.ToString("R", CultureInfo.InvariantCulture));
                    writer.WriteEndObject();
                    break;
                case string s: writer.WriteStringValue(s); break;
                case var other: throw new JsonException($"Row field '{value.Fields[i]}' on line {value.Line} holds a {other.GetType().Name}, which a checkpoint cannot keep.");
            }
        }

        writer.WriteEndArray();
        writer.WriteNumber("at", value.Time.Ticks);
        writer.WriteNumber("offset", (int)value.Time.Offset.TotalMinutes);
        writer.WriteNumber("line", value.Line);
        writer.WriteEndObject();
    }

    private delegate void ElementReader(ref Utf8JsonReader reader);

    private static void ReadArray(ref Utf8JsonReader reader, ElementReader element)
    {
        Expect(ref reader, JsonTokenType.StartArray);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            element(ref reader);
        }
    }

    private static object? ReadValue(ref Utf8JsonReader reader)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null: return null;
            case JsonTokenType.True: return true;
            case JsonTokenType.False: return false;
            case JsonTokenType.String: return reader.GetString();
            case JsonTokenType.Number: return reader.GetInt64();
            case JsonTokenType.StartObject:
                reader.Read();
                if (reader.TokenType != JsonTokenType.PropertyName || reader.GetString() != "double" || !reader.Read()
                    || !double.TryParse(reader.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out double d) || !reader.Read() || reader.TokenType != JsonTokenType.EndObject)
                {
                    throw Bad("a number value is not {\"double\": \"text\"}");
                }

                return d;
            default:
                throw Bad($"a value is a {reader.TokenType}");
        }
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type)
    {
        if (reader.TokenType != type)
        {
            throw Bad($"expected {type}, found {reader.TokenType}");
        }
    }

    private static JsonException Bad(string reason) => new($"A row in the checkpoint cannot be read: {reason}.");
}
