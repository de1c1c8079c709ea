namespace LinqStream.Orleans.Channels;

/// <summary>
/// A column of records, classes, structs, strings or nullables in binary, member by member, by two loops compiled once per type
/// (<see cref="BinaryColumnShape"/>): one call per batch each way, no reflection and no virtual call per event, and no allocation per
/// event when writing (reading allocates the records and strings it returns, nothing else).
/// </summary>
/// <typeparam name="T">The payload type; <see cref="ColumnCodecs.For{T}(out string?)"/> says whether it is supported.</typeparam>
/// <remarks>
/// <see cref="GetByteCount"/> writes the column into the codec's buffer and <see cref="Write"/> copies it, so a column is encoded once.
/// One instance per channel end: it is not thread-safe. Both ends must run the same build of the payload type (a cluster of one build
/// does): the bytes hold the members' values in the order the type declares them, not their names.
/// </remarks>
internal sealed class BinaryColumnCodec<T> : IColumnCodec<T>
{
    private static readonly Lazy<(Action<ColumnWriter, T[], int, int> Write, Action<ColumnReader, T[], int, int> Read)> Loops =
        new(() => (BinaryColumnShape.Writer<T>(), BinaryColumnShape.Reader<T>()));

    /// <summary>The loops of each projection (by its members' names), compiled once per process.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<(Action<ColumnWriter, T[], int, int> Write, Action<ColumnReader, T[], int, int> Read)>> Projected =
        new(StringComparer.Ordinal);

    private readonly ColumnWriter _writer = new();
    private readonly ColumnReader _reader = new();
    private readonly Action<ColumnWriter, T[], int, int> _write;
    private readonly Action<ColumnReader, T[], int, int> _read;
    private int _written = -1;

    /// <exception cref="NotSupportedException">The type has a member the codec cannot carry; the message names it.</exception>
    public BinaryColumnCodec() => (_write, _read) = Loops.Value;

    /// <summary>A codec that carries only <paramref name="members"/> of each value (a projection below the exchange); the values it
    /// reads have the other members at their defaults. Both ends of a channel must use the same members.</summary>
    /// <exception cref="NotSupportedException">The type has a member the codec cannot carry, or a name is not one of the members it
    /// carries (a computed property); the message names it.</exception>
    public BinaryColumnCodec(IReadOnlyList<string> members)
    {
        var names = members.ToArray();
        // A refusal is kept by the Lazy and thrown again to every later codec of the same members.
        (_write, _read) = Projected.GetOrAdd(string.Join(",", names), _ => new(() => (BinaryColumnShape.Writer<T>(names), BinaryColumnShape.Reader<T>(names)))).Value;
    }

    /// <inheritdoc/>
    public int GetByteCount(T[] values, int offset, int count)
    {
        _writer.Reset();
        _write(_writer, values, offset, offset + count);
        _written = count;
        return _writer.Written.Length;
    }

    /// <inheritdoc/>
    public void Write(T[] values, int offset, int count, Span<byte> destination)
    {
        if (_written != count)
        {
            GetByteCount(values, offset, count);
        }

        _writer.Written.CopyTo(destination);
        _written = -1;
    }

    /// <inheritdoc/>
    public void Read(byte[] source, int offset, int length, T[] destination, int at, int count)
    {
        _reader.Reset(source, offset, length);
        try
        {
            _read(_reader, destination, at, at + count);
            if (_reader.Consumed != length)
            {
                throw new InvalidDataException($"the {count} values took {_reader.Consumed} of the column's {length} bytes");
            }
        }
        catch (InvalidDataException error)
        {
            if (System.Runtime.CompilerServices.RuntimeHelpers.IsReferenceOrContainsReferences<T>())
            {
                Array.Clear(destination, at, count); // nothing half-read stays in the batch
            }

            throw new InvalidDataException($"A column of {count} values of {typeof(T).Name} cannot be read from {length} bytes: {error.Message}", error);
        }
        finally
        {
            _reader.Clear();
        }
    }
}
