using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Text;

namespace LinqStream.Orleans.Channels;

/// <summary>
/// Reads what <see cref="ColumnWriter"/> wrote, checking every length and flag: a column that ends early or holds a value no writer
/// writes fails with <see cref="InvalidDataException"/> saying where (the codec adds the type and the channel the frame).
/// </summary>
/// <remarks>
/// Allocates only the strings it returns, and a short ASCII string it read lately not again (issue #17: allocating every string of
/// every record was the largest part of a spread job's cost of crossing silos): a table of the last ones (<c>Utf8StringCache</c>, the
/// JSON decoders' own, 2,048 slots), found by a hash of the UTF-8 bytes and compared byte for byte, not consulted for a while when
/// values do not repeat. One instance per channel end.
/// </remarks>
internal sealed class ColumnReader
{
    private const long TicksMask = (1L << 62) - 1;
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private readonly LinqStream.Io.Json.Utf8StringCache _strings = new(slots: 2048);
    private string[] _full = new string[64];
    private int _fullCount;
    private byte[] _buffer = [];
    private int _start;
    private int _position;
    private int _end;

    /// <summary>Gets the strings this reader read lately (tests).</summary>
    internal LinqStream.Io.Json.Utf8StringCache Strings => _strings;

    /// <summary>Gets how many bytes were read since <see cref="Reset"/>.</summary>
    public int Consumed => _position - _start;

    /// <summary>Reads <paramref name="count"/> bytes of <paramref name="buffer"/> from <paramref name="offset"/>.</summary>
    public void Reset(byte[] buffer, int offset, int count)
    {
        ForgetStrings();
        _buffer = buffer;
        _start = _position = offset;
        _end = offset + count;
    }

    /// <summary>Forgets the last column's bytes (the frame's array is not kept alive) and the strings it held (repeats refer to them).</summary>
    public void Clear()
    {
        ForgetStrings();
        _buffer = [];
        _start = _position = _end = 0;
    }

    public byte ReadByte() => Take(1)[0];

    public sbyte ReadSByte() => unchecked((sbyte)Take(1)[0]);

    public bool ReadBoolean() => ReadFlag("a bool");

    /// <summary>Reads the flag written before a nullable value or an object: 1 when a value follows, 0 for null.</summary>
    public bool ReadPresence() => ReadFlag("a presence flag");

    public short ReadInt16() => BinaryPrimitives.ReadInt16LittleEndian(Take(2));

    public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));

    public char ReadChar() => (char)BinaryPrimitives.ReadUInt16LittleEndian(Take(2));

    public int ReadInt32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

    public long ReadInt64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

    public ulong ReadUInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    public float ReadSingle() => BinaryPrimitives.ReadSingleLittleEndian(Take(4));

    public double ReadDouble() => BinaryPrimitives.ReadDoubleLittleEndian(Take(8));

    public decimal ReadDecimal()
    {
        var span = Take(16);
        Span<int> bits = stackalloc int[4];
        for (int i = 0; i < 4; i++)
        {
            bits[i] = BinaryPrimitives.ReadInt32LittleEndian(span[(4 * i)..]);
        }

        try
        {
            return new decimal(bits); // decimal checks the scale and the unused bits
        }
        catch (ArgumentException)
        {
            throw Invalid("a decimal that is not valid", _position - 16);
        }
    }

    public DateTime ReadDateTime()
    {
        int at = _position;
        long value = ReadInt64();
        long ticks = value & TicksMask;
        int kind = (int)((ulong)value >> 62);
        if (kind > (int)DateTimeKind.Local || ticks > DateTime.MaxValue.Ticks)
        {
            throw Invalid($"a DateTime of {ticks} ticks and kind {kind}", at);
        }

        return new DateTime(ticks, (DateTimeKind)kind);
    }

    public DateTimeOffset ReadDateTimeOffset()
    {
        int at = _position;
        long ticks = ReadInt64();
        short minutes = ReadInt16();
        if (ticks < DateTime.MinValue.Ticks || ticks > DateTime.MaxValue.Ticks || minutes < -14 * 60 || minutes > 14 * 60
            || ticks - (minutes * TimeSpan.TicksPerMinute) < DateTime.MinValue.Ticks || ticks - (minutes * TimeSpan.TicksPerMinute) > DateTime.MaxValue.Ticks)
        {
            throw Invalid($"a DateTimeOffset of {ticks} ticks at offset {minutes} minutes", at);
        }

        return new DateTimeOffset(ticks, TimeSpan.FromMinutes(minutes));
    }

    public TimeSpan ReadTimeSpan() => new(ReadInt64());

    public DateOnly ReadDateOnly()
    {
        int at = _position;
        int day = ReadInt32();
        if (day < DateOnly.MinValue.DayNumber || day > DateOnly.MaxValue.DayNumber)
        {
            throw Invalid($"a DateOnly of day {day}", at);
        }

        return DateOnly.FromDayNumber(day);
    }

    public TimeOnly ReadTimeOnly()
    {
        int at = _position;
        long ticks = ReadInt64();
        if (ticks < 0 || ticks > TimeOnly.MaxValue.Ticks)
        {
            throw Invalid($"a TimeOnly of {ticks} ticks", at);
        }

        return new TimeOnly(ticks);
    }

    public Guid ReadGuid() => new(Take(16));

    /// <summary>Reads a string: null, written out in full (<see cref="ColumnWriter"/>), or a repeat of one read before in this column
    /// (the same instance comes back).</summary>
    public string? ReadString()
    {
        int at = _position;
        int prefix = ReadInt32();
        if (prefix == -1)
        {
            return null;
        }

        if (prefix == ColumnWriter.RepeatPrefix)
        {
            int index = ReadInt32();
            if ((uint)index >= (uint)_fullCount)
            {
                throw Invalid($"a repeat of string {index} when {_fullCount} were read in full before it", at);
            }

            return _full[index];
        }

        if (prefix == 0)
        {
            return string.Empty;
        }

        if (prefix > 0)
        {
            var bytes = Take(prefix, at);
            if (_strings.TryGet(bytes, out var kept))
            {
                return Remember(kept);
            }

            try
            {
                var value = Utf8.GetString(bytes);
                _strings.Keep(bytes, value);
                return Remember(value);
            }
            catch (DecoderFallbackException)
            {
                throw Invalid($"a string of {prefix} bytes that is not UTF-8", at);
            }
        }

        long units = -3L - prefix;
        if (units <= 0)
        {
            throw Invalid($"a string prefix of {prefix}", at);
        }

        var raw = Take(units > int.MaxValue / 2 ? int.MaxValue : (int)(2 * units), at); // too long for any column: Take says so
        return Remember(string.Create((int)units, raw.ToArray(), static (chars, bytes) =>
        {
            for (int i = 0; i < chars.Length; i++)
            {
                chars[i] = (char)BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(2 * i));
            }
        }));
    }

    /// <summary>A string read in full: a later repeat refers to it by its index in the column.</summary>
    private string Remember(string value)
    {
        if (_fullCount == _full.Length)
        {
            Array.Resize(ref _full, _full.Length * 2);
        }

        _full[_fullCount++] = value;
        return value;
    }

    private void ForgetStrings()
    {
        Array.Clear(_full, 0, _fullCount);
        _fullCount = 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ReadOnlySpan<byte> Take(int count) => Take(count, _position);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ReadOnlySpan<byte> Take(int count, int valueStart)
    {
        if ((uint)count > (uint)(_end - _position))
        {
            ThrowTruncated(count, valueStart);
        }

        var span = _buffer.AsSpan(_position, count);
        _position += count;
        return span;
    }

    private bool ReadFlag(string what)
    {
        byte flag = Take(1)[0];
        return flag switch
        {
            0 => false,
            1 => true,
            _ => throw Invalid($"{what} of {flag}", _position - 1),
        };
    }

    [DoesNotReturn]
    private void ThrowTruncated(int count, int valueStart) =>
        throw new InvalidDataException(count < 0
            ? $"a length of {count} at byte {valueStart - _start}"
            : $"the column ends at byte {_end - _start}: a value at byte {valueStart - _start} needs {count} more bytes than the {_end - _position} left");

    private InvalidDataException Invalid(string what, int at) => new($"{what} at byte {at - _start} is not a value a writer writes");
}
