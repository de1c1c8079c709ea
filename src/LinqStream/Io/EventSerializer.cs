using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using LinqStream.Io.Json;

namespace LinqStream;

/// <summary>Turns a connector's raw message bytes into events and results into bytes.</summary>
/// <typeparam name="T">The event or result type.</typeparam>
/// <remarks>
/// A serializer belongs to one source or sink and is called from one task at a time, so an implementation may keep buffers
/// between calls. <see cref="Deserialize"/> throws on a malformed record; the source turns the exception into a dead letter.
/// </remarks>
public abstract class EventSerializer<T>
{
    /// <summary>Reads one event.</summary>
    /// <param name="data">The message bytes.</param>
    /// <returns>The event.</returns>
    /// <exception cref="FormatException">The bytes are not a valid record (implementations may throw any exception; sources dead-letter it).</exception>
    public abstract T Deserialize(ReadOnlySpan<byte> data);

    /// <summary>Writes one result.</summary>
    /// <param name="value">The result.</param>
    /// <param name="output">Where to write its bytes.</param>
    public abstract void Serialize(T value, IBufferWriter<byte> output);

    /// <summary>Gets one sentence on how this serializer reads and writes, made when the serializer is made (for logs and diagnostics).</summary>
    /// <value>
    /// For the JSON serializers: whether LinqStream's record decoder reads <typeparamref name="T"/> (the default for records of
    /// primitives, strings, dates, enums and nested records) or System.Text.Json does, and why. The default is the type's name.
    /// </value>
    public virtual string Description => GetType().Name;

    /// <summary>Gets the serializer a source decodes with during one run of a query (a source calls it in <see cref="EventSource{T}.OpenAsync"/>).</summary>
    /// <param name="context">The run's context: <see cref="SourceContext.MembersRead"/> names the members the query reads.</param>
    /// <returns>
    /// This serializer; for a serializer of <see cref="Json(JsonTypeInfo{T})"/> or <see cref="Json(JsonSerializerOptions)"/> whose
    /// record decoder reads <typeparamref name="T"/>, one that reads only the members the query reads and skips the others' values
    /// (as <see cref="JsonReading"/> does), when the query does not read them all.
    /// </returns>
    /// <remarks>
    /// A skipped member's value is not decoded, so it is not validated either: the record must still be well-formed JSON (a syntax
    /// error is refused as before and dead-lettered), but a value of the wrong type in a member the query does not read (a string where
    /// a number belongs) is not an error, and the member keeps what the decoder gives a record without it. A serializer of
    /// <see cref="JsonReading"/> is used as it is: its members were named by hand.
    /// </remarks>
    public virtual EventSerializer<T> ForQuery(SourceContext context) => this;

    /// <summary>Gets a System.Text.Json serializer for a source-generated type (trimming- and AOT-safe).</summary>
    /// <param name="typeInfo">The type's metadata from a <see cref="System.Text.Json.Serialization.JsonSerializerContext"/>.</param>
    /// <returns>The serializer.</returns>
    /// <remarks>
    /// <para>Records are read by LinqStream's record decoder, built once per type from this metadata: a <see cref="Utf8JsonReader"/>
    /// loop that matches property names on their UTF-8 bytes and makes the record with a compiled constructor, allocating nothing
    /// beyond the event and its strings (System.Text.Json's source-generated metadata builds objects beyond the event for a record
    /// with <c>init</c>-only properties: 399 B per NEXMark bid, against 247 B). A record the decoder does not read the usual way
    /// (malformed, a number written as a string, a duplicate property) is read by System.Text.Json, so the answer and the error are
    /// System.Text.Json's. A type the decoder cannot read at all (collections, converters of its own, polymorphism; see
    /// docs/connectors.md) is read by System.Text.Json throughout, and <see cref="Description"/> says why.</para>
    /// </remarks>
    public static EventSerializer<T> Json(JsonTypeInfo<T> typeInfo)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        return new JsonEventSerializer<T>(typeInfo);
    }

    /// <summary>
    /// Gets a System.Text.Json serializer for a source-generated type that reads only the named members of each record (a projection:
    /// the query reads nothing else), and skips the others' values.
    /// </summary>
    /// <param name="typeInfo">The type's metadata from a <see cref="System.Text.Json.Serialization.JsonSerializerContext"/>.</param>
    /// <param name="members">The members to read, by C# name (<c>nameof(Bid.Auction)</c>) or JSON name, ignoring case.</param>
    /// <returns>The serializer.</returns>
    /// <exception cref="ArgumentException">A name is not a property of the type's metadata.</exception>
    /// <remarks>
    /// <para>A member not named gets what System.Text.Json gives it when the JSON does not have it: a constructor parameter its default
    /// value, an <c>init</c>-only member of source-generated metadata its type's default (<see langword="null"/> for a string), any other
    /// member its initializer's value. Its value in the JSON is skipped, not decoded: a string that is not read is
    /// not validated, transcoded or allocated, which is most of the cost of decoding a record whose long strings the query never
    /// reads (NEXMark q5 reads a bid's auction and time, not its URL or channel; docs/connectors.md, "Decoding").</para>
    /// <para>Everything else is as with <see cref="Json(JsonTypeInfo{T})"/>: malformed JSON and a missing required member are still
    /// refused, nested records are read whole, and a record the record decoder refuses is read by System.Text.Json in full (so its
    /// skipped members then hold their values). Writing is unchanged: every member is written.</para>
    /// </remarks>
    public static EventSerializer<T> JsonReading(JsonTypeInfo<T> typeInfo, IEnumerable<string> members)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        ArgumentNullException.ThrowIfNull(members);
        string[] names = [.. members];
        foreach (var name in names)
        {
            if (name is null || !typeInfo.Properties.Any(p => RecordJsonDecoders.IsNamed(p, [name])))
            {
                throw new ArgumentException($"'{name}' is not a property of '{typeof(T).Name}' in its JSON metadata.", nameof(members));
            }
        }

        return new JsonEventSerializer<T>(typeInfo, names);
    }

    /// <summary>Gets a System.Text.Json serializer that uses reflection with <paramref name="options"/>.</summary>
    /// <param name="options">The options; <see langword="null"/> means <see cref="JsonSerializerOptions.Web"/> (camelCase names, case-insensitive reads).</param>
    /// <returns>The serializer.</returns>
    /// <remarks>Records are read by LinqStream's record decoder, as with <see cref="Json(JsonTypeInfo{T})"/>.</remarks>
    [RequiresUnreferencedCode("Reflection-based JSON serialization; use the JsonTypeInfo<T> overload for trimmed or AOT applications.")]
    [RequiresDynamicCode("Reflection-based JSON serialization; use the JsonTypeInfo<T> overload for trimmed or AOT applications.")]
    public static EventSerializer<T> Json(JsonSerializerOptions? options = null)
    {
        options ??= JsonSerializerOptions.Web;
        options.MakeReadOnly(populateMissingResolver: true);
        return new JsonEventSerializer<T>((JsonTypeInfo<T>)options.GetTypeInfo(typeof(T)));
    }
}

/// <summary>
/// JSON over a <see cref="JsonTypeInfo{T}"/>: reads with the record decoder when the type allows (System.Text.Json for the records it
/// refuses, and for every record of a type it cannot read), writes with System.Text.Json through one reusable writer.
/// </summary>
#pragma warning disable CA1001 // The writer only wraps the caller's IBufferWriter: it holds no pooled or unmanaged memory to dispose.
internal sealed class JsonEventSerializer<T> : EventSerializer<T>
{
    /// <summary>
    /// After this many records in a row that the record decoder refused and System.Text.Json read, System.Text.Json reads every
    /// record: the input is written in a way the decoder does not read (numbers as strings, say), and a refusal costs an exception.
    /// </summary>
    internal const int RefusalsBeforeGivingUp = 64;

    private readonly JsonTypeInfo<T> _typeInfo;
    private readonly string[]? _reading;
    private RecordJsonDecoder<T>? _decoder;
    private bool _decoderChosen;
    private Utf8JsonWriter? _writer;
    private long _readBySystemTextJson;
    private int _refusalsInARow;
    private string _description = "";
    private readonly Dictionary<string, JsonEventSerializer<T>> _projections = new(StringComparer.Ordinal);

    /// <summary>Initializes a new instance of the <see cref="JsonEventSerializer{T}"/> class.</summary>
    /// <param name="typeInfo">The type's metadata.</param>
    /// <param name="reading">The members the record decoder reads (the others are skipped), or <see langword="null"/> for all.</param>
    public JsonEventSerializer(JsonTypeInfo<T> typeInfo, string[]? reading = null)
    {
        _typeInfo = typeInfo;
        _reading = reading;
    }

    /// <inheritdoc/>
    /// <remarks>The decoder is chosen (and built, once per type) by the first read or by this property, so a serializer that only writes builds none.</remarks>
    public override string Description
    {
        get
        {
            ChooseDecoder();
            return _description;
        }
    }

    /// <summary>Gets a value indicating whether the record decoder reads this type (tests and benchmarks).</summary>
    internal bool UsesRecordDecoder
    {
        get
        {
            ChooseDecoder();
            return _decoder is not null;
        }
    }

    /// <summary>Gets how many records the record decoder refused and System.Text.Json read (or failed on) since the serializer was made.</summary>
    internal long ReadBySystemTextJson => Volatile.Read(ref _readBySystemTextJson);

    /// <inheritdoc/>
    public override EventSerializer<T> ForQuery(SourceContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (_reading is not null || context.MembersRead is not { } members || !UsesRecordDecoder)
        {
            return this;
        }

        // The JSON names of the properties read (a C# name, or a JSON name, that is no property of the metadata is not read from JSON).
        string[] names = [.. _typeInfo.Properties.Where(p => RecordJsonDecoders.IsNamed(p, members)).Select(p => p.Name)];
        if (names.Length == _typeInfo.Properties.Count)
        {
            return this;
        }

        lock (_projections)
        {
            string key = string.Join('\n', names);
            if (!_projections.TryGetValue(key, out var projection))
            {
                projection = new JsonEventSerializer<T>(_typeInfo, names);
                _projections[key] = projection;
            }

            return projection;
        }
    }

    public override T Deserialize(ReadOnlySpan<byte> data)
    {
        if (!Volatile.Read(ref _decoderChosen))
        {
            ChooseDecoder();
        }

        var decoder = _decoder;
        if (decoder is null)
        {
            return ReadWithSystemTextJson(data);
        }

        try
        {
            var value = decoder.Decode(data);
            _refusalsInARow = 0;
            return value;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException or ArgumentException)
        {
            // Malformed, or an encoding the decoder does not read (a number as a string, a duplicate property): System.Text.Json
            // reads it below, so the record gets System.Text.Json's answer, or its error for the dead letter.
            Interlocked.Increment(ref _readBySystemTextJson);
        }

        var read = ReadWithSystemTextJson(data);
        if (++_refusalsInARow >= RefusalsBeforeGivingUp)
        {
            _decoder = null;
            _description = $"JSON: System.Text.Json reads '{typeof(T).Name}', because the record decoder refused {RefusalsBeforeGivingUp} records in a row that System.Text.Json read (numbers written as strings, or properties given twice).";
        }

        return read;
    }

    public override void Serialize(T value, IBufferWriter<byte> output)
    {
        if (_writer is null)
        {
            _writer = new Utf8JsonWriter(output, new JsonWriterOptions { SkipValidation = true });
        }
        else
        {
            _writer.Reset(output);
        }

        JsonSerializer.Serialize(_writer, value, _typeInfo);
        _writer.Flush();
    }

    private void ChooseDecoder()
    {
        if (Volatile.Read(ref _decoderChosen))
        {
            return;
        }

        // Two threads may both build: the decoder is cached per type, so both get the same one (a projection's is built per
        // serializer: both then get equal ones, and one is kept).
        var decoder = _reading is null ? RecordJsonDecoders.TryGet(_typeInfo, out string reason) : RecordJsonDecoders.TryBuild(_typeInfo, _reading, out reason);
        _description = decoder is null
            ? $"JSON: System.Text.Json reads '{typeof(T).Name}', because {reason}."
            : _reading is null
                ? $"JSON: LinqStream's record decoder reads '{typeof(T).Name}' ({decoder.Members.Count} properties)."
                : $"JSON: LinqStream's record decoder reads {Read(decoder)} of the {decoder.Members.Count} properties of '{typeof(T).Name}' and skips the others.";
        _decoder = decoder;
        Volatile.Write(ref _decoderChosen, true);
    }

    private static string Read(RecordJsonDecoder decoder) =>
        string.Join(", ", decoder.Members.Where(m => m.Kind != RecordMemberKind.Ignored).Select(m => m.Name)) is { Length: > 0 } names ? names : "none";

    private T ReadWithSystemTextJson(ReadOnlySpan<byte> data) =>
        JsonSerializer.Deserialize(data, _typeInfo) ?? throw new JsonException($"The record is JSON 'null', not a {typeof(T).Name}.");
}
#pragma warning restore CA1001
