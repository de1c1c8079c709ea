using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
using LinqStream.Cli.Scripting;

namespace LinqStream.Cli.Input;

/// <summary>Reads JSON-lines records into <see cref="Row"/>s of a known schema.</summary>
internal sealed class JsonRowParser(RowSchema schema, long schemaLine) : IRecordParser<Row>
{
    public bool TryParse(string text, long line, [MaybeNullWhen(false)] out Row record, out DateTimeOffset time, out string reason)
    {
        record = null;
        time = default;
        if (!JsonText.TryParseObject(text, out var document, out reason))
        {
            return false;
        }

        using (document)
        {
            var root = document!.RootElement;
            var values = new object?[schema.Names.Count];
            for (int i = 0; i < values.Length; i++)
            {
                string name = schema.Names[i];
                if (!root.TryGetProperty(name, out var value))
                {
                    reason = $"missing field '{name}' (line {schemaLine} has it)";
                    return false;
                }

                if (!TryConvert(value, schema.Kinds[i], out values[i]))
                {
                    reason = $"field '{name}' is {JsonText.Describe(value.ValueKind)}, expected {RowSchema.Describe(schema.Kinds[i])} as on line {schemaLine}";
                    return false;
                }
            }

            if (!EventTimeParser.TryParse(values[schema.TimeIndex], out time, out string why))
            {
                reason = $"time field '{schema.Names[schema.TimeIndex]}': {why}";
                return false;
            }

            record = new Row(schema, values, time, line);
            return true;
        }
    }

    public static FieldKind KindOf(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Number => FieldKind.Number,
        JsonValueKind.True or JsonValueKind.False => FieldKind.Bool,
        JsonValueKind.Object or JsonValueKind.Array => FieldKind.Json,
        _ => FieldKind.String,
    };

    private static bool TryConvert(JsonElement value, FieldKind kind, out object? result)
    {
        result = null;
        switch (kind)
        {
            case FieldKind.Number when value.ValueKind == JsonValueKind.Number:
                // (object) on each branch: a conditional of long and double would be a double, and 2^53 + 1 would lose its last bit.
                result = value.TryGetInt64(out long l) ? (object)l : value.GetDouble();
                return true;
            case FieldKind.Bool when value.ValueKind is JsonValueKind.True or JsonValueKind.False:
                result = value.GetBoolean();
                return true;
            case FieldKind.String when value.ValueKind == JsonValueKind.String:
                result = value.GetString();
                return true;
            case FieldKind.String when value.ValueKind == JsonValueKind.Null:
                return true;
            case FieldKind.Json when value.ValueKind is JsonValueKind.Object or JsonValueKind.Array:
                result = value.GetRawText();
                return true;
            default:
                return false;
        }
    }
}

/// <summary>Reads CSV records into <see cref="Row"/>s of a known schema (the header's names, kinds from the first data line).</summary>
internal sealed class CsvRowParser(RowSchema schema, long schemaLine) : IRecordParser<Row>
{
    public bool TryParse(string text, long line, [MaybeNullWhen(false)] out Row record, out DateTimeOffset time, out string reason)
    {
        record = null;
        time = default;
        if (!CsvLine.TrySplit(text, out var fields, out reason))
        {
            return false;
        }

        if (fields.Length != schema.Names.Count)
        {
            reason = $"{fields.Length} fields, but the header has {schema.Names.Count}";
            return false;
        }

        var values = new object?[fields.Length];
        for (int i = 0; i < fields.Length; i++)
        {
            if (!TryConvert(fields[i], schema.Kinds[i], out values[i]))
            {
                reason = $"field '{schema.Names[i]}' is \"{fields[i]}\", expected {RowSchema.Describe(schema.Kinds[i])} as on line {schemaLine}";
                return false;
            }
        }

        if (!EventTimeParser.TryParse(values[schema.TimeIndex], out time, out string why))
        {
            reason = $"time field '{schema.Names[schema.TimeIndex]}': {why}";
            return false;
        }

        record = new Row(schema, values, time, line);
        return true;
    }

    public static FieldKind KindOf(string value) =>
        long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _) || double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _)
            ? FieldKind.Number
            : bool.TryParse(value, out _) ? FieldKind.Bool : FieldKind.String;

    private static bool TryConvert(string value, FieldKind kind, out object? result)
    {
        switch (kind)
        {
            case FieldKind.Number when long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out long l):
                result = l;
                return true;
            case FieldKind.Number when double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double d):
                result = d;
                return true;
            case FieldKind.Bool when bool.TryParse(value, out bool b):
                result = b;
                return true;
            case FieldKind.String:
                result = value;
                return true;
            default:
                result = null;
                return false;
        }
    }
}
