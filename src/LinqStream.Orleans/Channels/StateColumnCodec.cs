using LinqStream.Runtime.Checkpoints;

namespace LinqStream.Orleans.Channels;

/// <summary>
/// A column of any payload type written value by value with the checkpoints' codec (<see cref="StateCodec"/>: numbers and times
/// in binary, user types as UTF-8 JSON). Much slower than <see cref="BinaryColumnCodec{T}"/>: it is only the explicit fallback for a
/// payload type the binary codec refuses (arrays, collections, hidden state), which the job's coordinator logs with the reason
/// (<see cref="ColumnCodecs.For{T}(out string?)"/>; docs/cluster.md).
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
    public int GetByteCount(T[] values, int offset, int count)
    {
        _buffer.SetLength(0);
        for (int i = offset; i < offset + count; i++)
        {
            StateCodec.Write(_writer, values[i], typeof(T));
        }

        _writer.Flush();
        _written = count;
        return checked((int)_buffer.Length);
    }

    /// <inheritdoc/>
    public void Write(T[] values, int offset, int count, Span<byte> destination)
    {
        if (_written != count)
        {
            GetByteCount(values, offset, count);
        }

        _buffer.GetBuffer().AsSpan(0, (int)_buffer.Length).CopyTo(destination);
        _written = -1;
    }

    /// <inheritdoc/>
    public void Read(byte[] source, int offset, int length, T[] destination, int at, int count)
    {
        using var reader = new BinaryReader(new MemoryStream(source, offset, length, writable: false));
        try
        {
            for (int i = at; i < at + count; i++)
            {
                destination[i] = (T)StateCodec.Read(reader, typeof(T))!;
            }
        }
        catch (Exception error) when (error is EndOfStreamException or InvalidDataException or System.Text.Json.JsonException or InvalidCastException or ArgumentException)
        {
            throw new InvalidDataException($"A column of {count} values of {typeof(T).Name} cannot be read from {length} bytes: {error.Message}", error);
        }

        if (reader.BaseStream.Position != length)
        {
            throw new InvalidDataException($"A column of {count} values of {typeof(T).Name} took {reader.BaseStream.Position} of its {length} bytes.");
        }
    }
}
