using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;

namespace LinqStream.Orleans.Channels;

/// <summary>
/// The growable little-endian buffer a <see cref="BinaryColumnCodec{T}"/> writes a column into: one method per value kind, called
/// by the codec's compiled loop (no virtual call, no allocation once the buffer has grown to a batch's size).
/// </summary>
/// <remarks>
/// Strings: a 32-bit prefix, -1 for null, the UTF-8 byte count when the string is valid UTF-16, or -2 - n for n raw UTF-16 code units
/// when it holds a lone surrogate (which UTF-8 cannot carry): every string comes back as it was. One instance per channel end.
/// </remarks>
internal sealed class ColumnWriter
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private byte[] _buffer = new byte[4096];
    private int _position;

    /// <summary>Gets the bytes written since <see cref="Reset"/>.</summary>
    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _position);

    /// <summary>Starts a new column (keeps the buffer).</summary>
    public void Reset() => _position = 0;

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
        WriteInt32(-2 - value.Length);
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
