using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;

namespace LinqStream.Orleans.Channels;

/// <summary>
/// The growable little-endian buffer a <see cref="BinaryColumnCodec{T}"/> writes a column into: one method per value kind, called
/// by the codec's compiled loop (no virtual call, no allocation once the buffer has grown to a batch's size).
/// </summary>
/// <remarks>
/// <para>Strings: a 32-bit prefix, -1 for null, the UTF-8 byte count when the string is valid UTF-16, -3 - n for n raw UTF-16 code
/// units when it holds a lone surrogate (which UTF-8 cannot carry): every string comes back as it was. And -2 then a 32-bit index:
/// <b>the same string instance again</b> in this column (issue #17): the index counts the non-empty strings written out in full since
/// <see cref="Reset"/>, so the reader returns the instance it read then, without transcoding, hashing or allocating, and the sender
/// does not transcode it again. Repeats are found by reference, in a table of <see cref="RepeatSlots"/> slots by the instance's identity
/// hash (never by the string's content hash); a string whose slot another one took since is written in full again, which is
/// only bytes. Low-cardinality columns (a bid's channel and URL: half of NEXMark's bids use one of 4 pairs) shrink to 8 bytes a value.</para>
/// <para>One instance per channel end.</para>
/// </remarks>
internal sealed class ColumnWriter
{
    /// <summary>The slots of the table of strings written in full in the current column (a power of two).</summary>
    internal const int RepeatSlots = 1024;

    /// <summary>The prefix of a repeated string: its index follows.</summary>
    internal const int RepeatPrefix = -2;

    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private readonly string?[] _sent = new string?[RepeatSlots];
    private readonly int[] _sentIndex = new int[RepeatSlots];
    private readonly int[] _usedSlots = new int[RepeatSlots];
    private int _used;
    private int _fullStrings;
    private byte[] _buffer = new byte[4096];
    private int _position;

    /// <summary>Gets the bytes written since <see cref="Reset"/>.</summary>
    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _position);

    /// <summary>Starts a new column (keeps the buffer; forgets the strings written, so the table holds no reference across columns).</summary>
    public void Reset()
    {
        _position = 0;
        _fullStrings = 0;
        for (int i = 0; i < _used; i++)
        {
            _sent[_usedSlots[i]] = null;
        }

        _used = 0;
    }

    public void WriteByte(byte value) => Take(1)[0] = value;

    public void WriteSByte(sbyte value) => Take(1)[0] = unchecked((byte)value);

    public void WriteBoolean(bool value) => Take(1)[0] = value ? (byte)1 : (byte)0;

    public void WriteInt16(short value) => BinaryPrimitives.WriteInt16LittleEndian(Take(2), value);

    public void WriteUInt16(ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(Take(2), value);

    public void WriteChar(char value) => BinaryPrimitives.WriteUInt16LittleEndian(Take(2), value);

    public void WriteInt32(int value) => BinaryPrimitives.WriteInt32LittleEndian(Take(4), value);

    public void WriteUInt32(uint value) => BinaryPrimitives.WriteUInt32LittleEndian(Take(4), value);

    public void WriteInt64(long value) => BinaryPrimitives.WriteInt64LittleEndian(Take(8), value);

    public void WriteUInt64(ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(Take(8), value);

    public void WriteSingle(float value) => BinaryPrimitives.WriteSingleLittleEndian(Take(4), value);

    public void WriteDouble(double value) => BinaryPrimitives.WriteDoubleLittleEndian(Take(8), value);

    public void WriteDecimal(decimal value)
    {
        Span<int> bits = stackalloc int[4];
        decimal.GetBits(value, bits);
        var span = Take(16);
        for (int i = 0; i < 4; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(span[(4 * i)..], bits[i]);
        }
    }

    /// <summary>Ticks and kind in one 64-bit value (ticks use 62 bits), so a local or unspecified time comes back as it was.</summary>
    public void WriteDateTime(DateTime value) => WriteInt64(value.Ticks | ((long)value.Kind << 62));

    /// <summary>The local ticks and the offset in minutes (an offset is whole minutes).</summary>
    public void WriteDateTimeOffset(DateTimeOffset value)
    {
        WriteInt64(value.Ticks);
        WriteInt16((short)value.TotalOffsetMinutes);
    }

    public void WriteTimeSpan(TimeSpan value) => WriteInt64(value.Ticks);

    public void WriteDateOnly(DateOnly value) => WriteInt32(value.DayNumber);

    public void WriteTimeOnly(TimeOnly value) => WriteInt64(value.Ticks);

    public void WriteGuid(Guid value) => value.TryWriteBytes(Take(16));

    public void WriteString(string? value)
    {
        if (value is null)
        {
            WriteInt32(-1);
            return;
        }

        if (value.Length == 0)
        {
            WriteInt32(0);
            return;
        }

        int slot = RuntimeHelpers.GetHashCode(value) & (RepeatSlots - 1);
        var sent = _sent[slot];
        if (ReferenceEquals(sent, value))
        {
            var span = Take(8);
            BinaryPrimitives.WriteInt32LittleEndian(span, RepeatPrefix);
            BinaryPrimitives.WriteInt32LittleEndian(span[4..], _sentIndex[slot]);
            return;
        }

        WriteInFull(value);
        if (sent is null)
        {
            _usedSlots[_used++] = slot;
        }

        _sent[slot] = value;
        _sentIndex[slot] = _fullStrings++;
    }

    private void WriteInFull(string value)
    {
        Reserve(4 + Utf8.GetMaxByteCount(value.Length));
        int count;
        try
        {
            count = Utf8.GetBytes(value, _buffer.AsSpan(_position + 4));
        }
        catch (EncoderFallbackException)
        {
            WriteUtf16(value); // a lone surrogate: UTF-8 cannot carry it, the code units can
            return;
        }

        BinaryPrimitives.WriteInt32LittleEndian(_buffer.AsSpan(_position), count);
        _position += 4 + count;
    }

    private void WriteUtf16(string value)
    {
        WriteInt32(-3 - value.Length);
        var span = Take(checked(2 * value.Length));
        for (int i = 0; i < value.Length; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(span[(2 * i)..], value[i]);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Span<byte> Take(int count)
    {
        if (_buffer.Length - _position < count)
        {
            Grow(count);
        }

        var span = _buffer.AsSpan(_position, count);
        _position += count;
        return span;
    }

    private void Reserve(int count)
    {
        if (_buffer.Length - _position < count)
        {
            Grow(count);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Grow(int count)
    {
        long size = Math.Max((long)_buffer.Length * 2, (long)_position + count);
        if (size > Array.MaxLength)
        {
            throw new InvalidOperationException($"A column of a batch would take more than {Array.MaxLength:N0} bytes; use a smaller BatchSize.");
        }

        Array.Resize(ref _buffer, (int)size);
    }
}
