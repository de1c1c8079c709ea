using System.Buffers.Binary;
using System.Globalization;
using StackExchange.Redis;

namespace LinqStream.Connectors.Redis;

/// <summary>A Redis stream entry id, <c>milliseconds-sequence</c>, ordered as Redis orders them.</summary>
internal readonly record struct RedisEntryId(ulong Milliseconds, ulong Sequence) : IComparable<RedisEntryId>
{
    private const byte PositionFormatWithoutCount = 1;
    private const byte PositionFormat = 2;

    public static RedisEntryId Zero => default;

    public static RedisEntryId Parse(string text)
    {
        int dash = text.IndexOf('-', StringComparison.Ordinal);
        if (dash <= 0
            || !ulong.TryParse(text.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
            || !ulong.TryParse(text.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var seq))
        {
            throw new FormatException($"'{text}' is not a Redis stream entry id (milliseconds-sequence).");
        }

        return new RedisEntryId(ms, seq);
    }

    /// <summary>Parses an id from its bytes (as the server sends it), without making a string.</summary>
    public static RedisEntryId Parse(RedisValue value)
    {
        ReadOnlyMemory<byte> memory = value;
        var bytes = memory.Span;
        int dash = bytes.IndexOf((byte)'-');
        if (dash > 0 && AsciiNumber.TryParse(bytes[..dash], out ulong ms) && AsciiNumber.TryParse(bytes[(dash + 1)..], out ulong seq))
        {
            return new RedisEntryId(ms, seq);
        }

        return Parse((string)value!);
    }

    /// <summary>Reads a position written by <see cref="ToPosition"/>: the id, and how many entries of the stream the source has passed (null when unknown).</summary>
    public static (RedisEntryId Id, long? Passed) FromPosition(byte[] position, string source) =>
        TryFromPosition(position, out var id, out long? passed)
            ? (id, passed)
            : throw new ArgumentException($"The position ({position.Length} bytes) is not a Redis stream position of {source}; was the checkpoint written for another source?", nameof(position));

    /// <summary>Reads a position written by <see cref="ToPosition"/>, or says it is not one.</summary>
    public static bool TryFromPosition(byte[] position, out RedisEntryId id, out long? passed)
    {
        // Format 1 (before the count was kept) is still read.
        bool withCount = position.Length == 25 && position[0] == PositionFormat;
        if (!withCount && (position.Length != 17 || position[0] != PositionFormatWithoutCount))
        {
            (id, passed) = (default, null);
            return false;
        }

        id = new RedisEntryId(BinaryPrimitives.ReadUInt64LittleEndian(position.AsSpan(1)), BinaryPrimitives.ReadUInt64LittleEndian(position.AsSpan(9)));
        passed = withCount ? BinaryPrimitives.ReadInt64LittleEndian(position.AsSpan(17)) : null;
        passed = passed is < 0 ? null : passed;
        return true;
    }

    /// <summary>Writes the id and how many entries of the stream the source has passed (read, dead-lettered or skipped; -1 when unknown).</summary>
    public byte[] ToPosition(long? passed)
    {
        var bytes = new byte[25];
        bytes[0] = PositionFormat;
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(1), Milliseconds);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(9), Sequence);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(17), passed ?? -1);
        return bytes;
    }

    public int CompareTo(RedisEntryId other)
    {
        int c = Milliseconds.CompareTo(other.Milliseconds);
        return c != 0 ? c : Sequence.CompareTo(other.Sequence);
    }

    public static bool operator <(RedisEntryId left, RedisEntryId right) => left.CompareTo(right) < 0;

    public static bool operator >(RedisEntryId left, RedisEntryId right) => left.CompareTo(right) > 0;

    public static bool operator <=(RedisEntryId left, RedisEntryId right) => left.CompareTo(right) <= 0;

    public static bool operator >=(RedisEntryId left, RedisEntryId right) => left.CompareTo(right) >= 0;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Milliseconds}-{Sequence}");
}
