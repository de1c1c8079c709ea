using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using LinqStream.Cli.Scripting;

namespace LinqStream.Cli.Output;

/// <summary>How results are written as JSON: property names as declared, readable Unicode, a <see cref="Row"/> as an object of its fields.</summary>
internal static class ResultJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new RowConverter() },
    };

    private sealed class RowConverter : JsonConverter<Row>
    {
        public override Row Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            throw new NotSupportedException("Rows are written, not read, as JSON.");

        public override void Write(Utf8JsonWriter writer, Row value, JsonSerializerOptions options)
        {
            writer.WriteStartObject();
            for (int i = 0; i < value.Fields.Count; i++)
            {
                writer.WritePropertyName(value.Fields[i]);
                switch (value.ValueAt(i))
                {
                    case long l: writer.WriteNumberValue(l); break;
                    case double d: writer.WriteNumberValue(d); break;
                    case bool b: writer.WriteBooleanValue(b); break;
                    case null: writer.WriteNullValue(); break;
                    case var other: writer.WriteStringValue(other.ToString()); break;
                }
            }

            writer.WriteEndObject();
        }
    }
}
