using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

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

    /// <summary>Gets a System.Text.Json serializer for a source-generated type (trimming- and AOT-safe).</summary>
    /// <param name="typeInfo">The type's metadata from a <see cref="System.Text.Json.Serialization.JsonSerializerContext"/>.</param>
    /// <returns>The serializer.</returns>
    /// <remarks>
    /// For a type with many <c>init</c>-only properties (a record like NEXMark's <c>Bid</c>), the source-generated metadata builds
    /// objects beyond the event on every read: measured 399 B and 1.8× the time of a hand-written <see cref="Utf8JsonReader"/> loop per
    /// bid, against 247 B and 1.3× for the reflection-based <see cref="Json(JsonSerializerOptions?)"/> (benchmarks/RESULTS.md,
    /// "Client CPU per event"). For a hot event type, settable properties or a serializer of its own decode faster.
    /// </remarks>
    public static EventSerializer<T> Json(JsonTypeInfo<T> typeInfo)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        return new JsonEventSerializer<T>(typeInfo);
    }

    /// <summary>Gets a System.Text.Json serializer that uses reflection with <paramref name="options"/>.</summary>
    /// <param name="options">The options; <see langword="null"/> means <see cref="JsonSerializerOptions.Web"/> (camelCase names, case-insensitive reads).</param>
    /// <returns>The serializer.</returns>
    [RequiresUnreferencedCode("Reflection-based JSON serialization; use the JsonTypeInfo<T> overload for trimmed or AOT applications.")]
    [RequiresDynamicCode("Reflection-based JSON serialization; use the JsonTypeInfo<T> overload for trimmed or AOT applications.")]
    public static EventSerializer<T> Json(JsonSerializerOptions? options = null)
    {
        options ??= JsonSerializerOptions.Web;
        options.MakeReadOnly(populateMissingResolver: true);
        return new JsonEventSerializer<T>((JsonTypeInfo<T>)options.GetTypeInfo(typeof(T)));
    }
}

/// <summary>System.Text.Json over a <see cref="JsonTypeInfo{T}"/>; one reusable writer.</summary>
#pragma warning disable CA1001 // The writer only wraps the caller's IBufferWriter: it holds no pooled or unmanaged memory to dispose.
internal sealed class JsonEventSerializer<T> : EventSerializer<T>
{
    private readonly JsonTypeInfo<T> _typeInfo;
    private Utf8JsonWriter? _writer;

    public JsonEventSerializer(JsonTypeInfo<T> typeInfo) => _typeInfo = typeInfo;

    public override T Deserialize(ReadOnlySpan<byte> data) =>
        JsonSerializer.Deserialize(data, _typeInfo) ?? throw new JsonException($"The record is JSON 'null', not a {typeof(T).Name}.");

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
}
#pragma warning restore CA1001
