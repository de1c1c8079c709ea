using System.Buffers.Binary;
using LinqStream.Physical.Windows.Session;

namespace LinqStream.Physical.Join.Spilled;

/// <summary>
/// The key layout of an interval (temporal) join's spilled live events in a <see cref="Runtime.State.IKeyedStateStore"/>
/// (docs/state.md, "Key layout").
/// </summary>
/// <remarks>
/// <code>
/// live event:   [key group: 2 B BE][5 left | 6 right][stable key hash: 8 B BE][encoding length: 4 B BE][stable key encoding][sequence: 8 B BE]
///                → right: [end: 8 B][payload (StateCodec)]; left: [end: 8 B][queue sequence: 8 B, -1 when not queued][payload (StateCodec)]
/// expiry:       [key group: 2 B BE][7][side: 0 left, 1 right][end: 8 B BE, sign flipped][sequence: 8 B BE] → [the live event's key]
/// queue:        [0: 2 B][8][queue sequence: 8 B BE] → [start: 8 B][end: 8 B][payload (StateCodec)]
/// queue expiry: [0: 2 B][9][end: 8 B BE, sign flipped][queue sequence: 8 B BE] → []
/// </code>
/// The queue (left-outer and anti joins) is the oldest part of the heap operator's queue of undecided left events, in its order; it
/// spans every key group, so it is kept under key group 0 (a join runs on one task at every parallelism and restores every key group).
/// Its expiry index lists the queued events that had not ended when they were spilled, by end: an eviction reads the part that ends.
/// A key's live events of one side are one contiguous range in the order they were processed (the sequence number is the
/// operator's, increasing with every spilled event), so a probe reads them with one seek and walks them newest first, the order of
/// the heap operator's lists. The expiry index of a key group and side is ordered by end: the events that the watermark ends are
/// a prefix of it.
/// </remarks>
internal static class SpilledTemporalJoinKeys
{
    public const byte LeftTable = 5;
    public const byte RightTable = 6;
    public const byte ExpiryTable = 7;
    public const byte QueueTable = 8;
    public const byte QueueExpiryTable = 9;

    /// <summary>The length of a queue key.</summary>
    public const int QueueLength = 2 + 1 + 8;

    /// <summary>The length of a queue expiry key.</summary>
    public const int QueueExpiryLength = 2 + 1 + 8 + 8;

    /// <summary>The length of a live event's key before its stable key encoding.</summary>
    public const int EventPrefix = 2 + 1 + 8 + 4;

    /// <summary>The length of an expiry key.</summary>
    public const int ExpiryLength = 2 + 1 + 1 + 8 + 8;

    /// <summary>Writes the part of a live event's key that all of one key's events of one side share, and returns its length.</summary>
    public static int WriteEventPrefix(Span<byte> target, int keyGroup, byte table, ulong hash, ReadOnlySpan<byte> encoding)
    {
        BinaryPrimitives.WriteUInt16BigEndian(target, (ushort)keyGroup);
        target[2] = table;
        BinaryPrimitives.WriteUInt64BigEndian(target[3..], hash);
        BinaryPrimitives.WriteInt32BigEndian(target[11..], encoding.Length);
        encoding.CopyTo(target[EventPrefix..]);
        return EventPrefix + encoding.Length;
    }

    /// <summary>Writes the expiry key of the event with <paramref name="end"/> and <paramref name="sequence"/>.</summary>
    public static void WriteExpiry(Span<byte> target, int keyGroup, int side, long end, long sequence)
    {
        BinaryPrimitives.WriteUInt16BigEndian(target, (ushort)keyGroup);
        target[2] = ExpiryTable;
        target[3] = (byte)side;
        BinaryPrimitives.WriteUInt64BigEndian(target[4..], SpilledSessionKeys.Flip(end));
        BinaryPrimitives.WriteInt64BigEndian(target[12..], sequence);
    }

    /// <summary>The first expiry key of <paramref name="keyGroup"/>'s events of <paramref name="side"/>.</summary>
    public static byte[] ExpiryFrom(int keyGroup, int side) => [(byte)(keyGroup >> 8), (byte)keyGroup, ExpiryTable, (byte)side];

    /// <summary>The key after <paramref name="keyGroup"/>'s expiry keys of <paramref name="side"/>.</summary>
    public static byte[] ExpiryLimit(int keyGroup, int side) => [(byte)(keyGroup >> 8), (byte)keyGroup, ExpiryTable, (byte)(side + 1)];

    /// <summary>Writes the key of the queue entry <paramref name="sequence"/>.</summary>
    public static void WriteQueue(Span<byte> target, long sequence)
    {
        target[0] = 0;
        target[1] = 0;
        target[2] = QueueTable;
        BinaryPrimitives.WriteInt64BigEndian(target[3..], sequence);
    }

    /// <summary>Writes the queue expiry key of the queued event with <paramref name="end"/> and queue <paramref name="sequence"/>.</summary>
    public static void WriteQueueExpiry(Span<byte> target, long end, long sequence)
    {
        target[0] = 0;
        target[1] = 0;
        target[2] = QueueExpiryTable;
        BinaryPrimitives.WriteUInt64BigEndian(target[3..], SpilledSessionKeys.Flip(end));
        BinaryPrimitives.WriteInt64BigEndian(target[11..], sequence);
    }

    /// <summary>The key after every queue expiry key.</summary>
    public static byte[] QueueExpiryLimit() => [0, 0, QueueExpiryTable + 1];

    /// <summary>The end in a queue expiry key.</summary>
    public static long QueueEndOf(ReadOnlySpan<byte> queueExpiryKey) => SpilledSessionKeys.Unflip(BinaryPrimitives.ReadUInt64BigEndian(queueExpiryKey[3..]));

    /// <summary>The queue sequence number in a queue expiry key.</summary>
    public static long QueueSequenceOf(ReadOnlySpan<byte> queueExpiryKey) => BinaryPrimitives.ReadInt64BigEndian(queueExpiryKey[11..]);

    /// <summary>The stable key hash in a live event's key (the value of its expiry entry).</summary>
    public static ulong HashOf(ReadOnlySpan<byte> eventKey) => BinaryPrimitives.ReadUInt64BigEndian(eventKey[3..]);

    /// <summary>The end of an expiry key's event.</summary>
    public static long EndOf(ReadOnlySpan<byte> expiryKey) => SpilledSessionKeys.Unflip(BinaryPrimitives.ReadUInt64BigEndian(expiryKey[4..]));

    /// <summary>The limit of the range of keys that start with <paramref name="prefix"/> and then an 8-byte non-negative sequence number.</summary>
    public static byte[] SequenceLimit(ReadOnlySpan<byte> prefix)
    {
        var limit = new byte[prefix.Length + 9];
        prefix.CopyTo(limit);
        limit.AsSpan(prefix.Length).Fill(0xFF);
        return limit;
    }
}
