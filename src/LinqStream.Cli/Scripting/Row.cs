using System.Globalization;
using System.Text.Json.Serialization;

namespace LinqStream.Cli.Scripting;

/// <summary>One record of a <c>linqstream run</c> input file whose schema was inferred from the file: typed accessors by field name.</summary>
/// <remarks>
/// Field names match case-insensitively. Every row of a file has the fields of the file's first valid record, with the same kind
/// (number, string, boolean); rows that do not are written to the dead-letter file before the query sees them, so the accessors
/// below fail only when the query names a field the file does not have or asks for the wrong kind.
/// </remarks>
[JsonConverter(typeof(RowStateConverter))] // how a checkpoint keeps a row (reorder buffers, join and buffered-window state); results use ResultJson's own
public sealed class Row
{
    private readonly RowSchema _schema;
    private readonly object?[] _values;

    internal Row(RowSchema schema, object?[] values, DateTimeOffset time, long line)
    {
        _schema = schema;
        _values = values;
        Time = time;
        Line = line;
    }

    /// <summary>Gets the event time: the value of the time field (<c>--time</c>), in UTC.</summary>
    public DateTimeOffset Time { get; }

    /// <summary>Gets the 1-based line number of the record in the input file.</summary>
    public long Line { get; }

    /// <summary>Gets the field names, in file order.</summary>
    public IReadOnlyList<string> Fields => _schema.Names;

    /// <summary>Gets whether the record has a field named <paramref name="name"/>.</summary>
    /// <param name="name">The field name.</param>
    /// <returns>True when the schema has the field.</returns>
    public bool Has(string name) => _schema.TryGetIndex(name, out _);

    /// <summary>Gets a whole-number field.</summary>
    /// <param name="name">The field name.</param>
    /// <returns>The value.</returns>
    /// <exception cref="InvalidOperationException">The field does not exist, or does not hold a whole number.</exception>
    public long Long(string name) => Get(name) switch
    {
        long l => l,
        double d when Math.Floor(d) == d && d >= long.MinValue && d <= long.MaxValue => (long)d,
        var other => throw WrongKind(name, "a whole number", other),
    };

    /// <summary>Gets a numeric field as a <see cref="double"/>.</summary>
    /// <param name="name">The field name.</param>
    /// <returns>The value.</returns>
    /// <exception cref="InvalidOperationException">The field does not exist, or is not a number.</exception>
    public double Double(string name) => Get(name) switch
    {
        long l => l,
        double d => d,
        var other => throw WrongKind(name, "a number", other),
    };

    /// <summary>Gets a numeric field as a <see cref="decimal"/>.</summary>
    /// <param name="name">The field name.</param>
    /// <returns>The value.</returns>
    /// <exception cref="InvalidOperationException">The field does not exist, or is not a number.</exception>
    public decimal Decimal(string name) => Get(name) switch
    {
        long l => l,
        // The shortest text that reads back as the same double (as written for numbers a double holds), not (decimal)d's 15 digits.
        double d when decimal.TryParse(d.ToString("R", CultureInfo.InvariantCulture), NumberStyles.Float, CultureInfo.InvariantCulture, out decimal m) => m,
        var other => throw WrongKind(name, "a number", other),
    };

    /// <summary>Gets a field as text: a string field as it is, a number or boolean in invariant culture.</summary>
    /// <param name="name">The field name.</param>
    /// <returns>The value.</returns>
    /// <exception cref="InvalidOperationException">The field does not exist.</exception>
    public string String(string name) => Get(name) switch
    {
        string s => s,
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        var other => other?.ToString() ?? "",
    };

    /// <summary>Gets a boolean field.</summary>
    /// <param name="name">The field name.</param>
    /// <returns>The value.</returns>
    /// <exception cref="InvalidOperationException">The field does not exist, or is not a boolean.</exception>
    public bool Bool(string name) => Get(name) is bool b ? b : throw WrongKind(name, "a boolean", Get(name));

    /// <summary>Gets a field holding a time (ISO 8601 text, or a whole number of Unix milliseconds) as a UTC <see cref="DateTimeOffset"/>.</summary>
    /// <param name="name">The field name.</param>
    /// <returns>The value.</returns>
    /// <exception cref="InvalidOperationException">The field does not exist, or does not hold a time.</exception>
    public DateTimeOffset DateTime(string name)
    {
        var value = Get(name);
        return EventTimeParser.TryParse(value, out var time, out _) ? time : throw WrongKind(name, "a time", value);
    }

    /// <summary>Gets the value of a field as read: a <see cref="long"/>, <see cref="double"/>, <see cref="string"/> or <see cref="bool"/>.</summary>
    /// <param name="name">The field name.</param>
    /// <returns>The value.</returns>
    /// <exception cref="InvalidOperationException">The field does not exist.</exception>
    public object? Get(string name) =>
        _schema.TryGetIndex(name, out int index)
            ? _values[index]
            : throw new RowFieldException($"Line {Line} has no field '{name}'. The fields are: {string.Join(", ", _schema.Names)}.");

    /// <summary>Returns the record as <c>{ name = value, ... }</c>.</summary>
    /// <returns>The text.</returns>
    public override string ToString() =>
        "{ " + string.Join(", ", _schema.Names.Select((n, i) => $"{n} = {String(n)}")) + " }";

    internal object? ValueAt(int index) => _values[index];

    /// <summary>Gets the schema the row was read with (its checkpoint form writes it).</summary>
    internal RowSchema Schema => _schema;

    private RowValueException WrongKind(string name, string expected, object? value)
    {
        string shown = value is string s ? $"\"{s}\"" : Convert.ToString(value, CultureInfo.InvariantCulture) ?? "null";
        var error = new RowValueException(
            this, $"field '{name}' is not {expected}: {shown}", $"Field '{name}' on line {Line} is not {expected}: {shown}.");
        RowValueException.Last = error;
        return error;
    }
}

/// <summary>A query asked a <see cref="Row"/> for a field it does not have: a mistake in the query (exit code 3).</summary>
internal class RowFieldException(string message) : InvalidOperationException(message);

/// <summary>
/// A query read a field as a kind its value is not (<c>r.Long("price")</c> of 1.5, NaN, 1e400): the input line is malformed. Where the
/// query can skip the event (Where/Select chains, SelectMany, window keys and aggregate inputs) the line is reported, dead-lettered and
/// skipped (fatal under <c>--strict</c>); elsewhere the query stops as for a <see cref="RowFieldException"/>.
/// </summary>
internal sealed class RowValueException(Row row, string reason, string message) : RowFieldException(message)
{
    /// <summary>The last one thrown on this thread: the engine's dead letter carries only its message, the row is found here.</summary>
    [ThreadStatic]
    internal static RowValueException? Last;

    public Row Row { get; } = row;

    /// <summary>Gets the reason as a malformed line's: <c>field 'price' is not a whole number: 1.5</c>.</summary>
    public string Reason { get; } = reason;
}
