using LinqStream.Runtime.Checkpoints;

namespace LinqStream.Orleans.Channels;

/// <summary>
/// A column of any payload type (records, classes, strings) written value by value with the checkpoints' codec
/// (<see cref="StateCodec"/>: numbers and times in binary, user types as UTF-8 JSON). Slower than <see cref="BlittableColumnCodec{T}"/>,
/// which unmanaged payloads get; it is what a job spread over silos uses for the rest (docs/cluster.md, limits).
/// </summary>
/// <typeparam name="T">The payload type.</typeparam>
/// <remarks>
/// <see cref="GetByteCount"/> writes the column into a buffer that <see cref="Write"/> then copies, so a column is serialized once.
/// One instance per channel end: it is not thread-safe.
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "A MemoryStream and its BinaryWriter hold only managed memory; the codec lives as long as its channel end.")]
internal sealed class StateColumnCodec<T> : IColumnCodec<T>
{
    private readonly MemoryStream _buffer = new();
    private readonly BinaryWriter _writer;
    private int _written = -1;

    public StateColumnCodec() => _writer = new BinaryWriter(_buffer);

    /// <inheritdoc/>
    public int GetByteCount(ReadOnlySpan<T> values)
    {
        _buffer.SetLength(0);
        for (int i = 0; i < values.Length; i++)
        {
            StateCodec.Write(_writer, values[i], typeof(T));
        }

        _writer.Flush();
        _written = values.Length;
        return checked((int)_buffer.Length);
    }

    /// <inheritdoc/>
    public void Write(ReadOnlySpan<T> values, Span<byte> destination)
    {
        if (_written != values.Length)
        {
            GetByteCount(values);
        }

        _buffer.GetBuffer().AsSpan(0, (int)_buffer.Length).CopyTo(destination);
        _written = -1;
    }

    /// <inheritdoc/>
    public void Read(ReadOnlySpan<byte> source, Span<T> destination)
    {
        using var reader = new BinaryReader(new MemoryStream(source.ToArray(), writable: false));
        try
        {
            for (int i = 0; i < destination.Length; i++)
            {
                destination[i] = (T)StateCodec.Read(reader, typeof(T))!;
            }
        }
        catch (Exception error) when (error is EndOfStreamException or InvalidDataException or System.Text.Json.JsonException or InvalidCastException or ArgumentException)
        {
            throw new InvalidDataException($"A column of {destination.Length} values of {typeof(T).Name} cannot be read from {source.Length} bytes: {error.Message}", error);
        }

        if (reader.BaseStream.Position != source.Length)
        {
            throw new InvalidDataException($"A column of {destination.Length} values of {typeof(T).Name} took {reader.BaseStream.Position} of its {source.Length} bytes.");
        }
    }
}

/// <summary>Picks the column codec of a payload type: its memory when it is unmanaged, <see cref="StateColumnCodec{T}"/> otherwise.</summary>
internal static class ColumnCodecs
{
    /// <summary>Gets a codec for one channel end.</summary>
    public static IColumnCodec<T> For<T>()
    {
        if (!System.Runtime.CompilerServices.RuntimeHelpers.IsReferenceOrContainsReferences<T>() && Nullable.GetUnderlyingType(typeof(T)) is null)
        {
            // A struct without references satisfies the 'unmanaged' constraint; the constraint cannot be stated here, so the
            // generic type is made at run time, once per channel end (not per event).
            return (IColumnCodec<T>)typeof(BlittableColumnCodec<>).MakeGenericType(typeof(T)).GetProperty(nameof(BlittableColumnCodec<int>.Instance))!.GetValue(null)!;
        }

        return new StateColumnCodec<T>();
    }
}
