using System.Buffers.Binary;
using LinqStream.Physical.Windows.Session;

namespace LinqStream.Physical.Join.Window;

/// <summary>
/// The key layout of a window join's spilled events in a <see cref="Runtime.State.IKeyedStateStore"/> (docs/state.md, "Key layout").
/// </summary>
/// <remarks>
/// <code>
/// left event:  [key group: 2 B BE][3][window start: 8 B BE, sign flipped][stable key hash: 8 B BE][encoding length: 4 B BE][stable key encoding][sequence: 8 B BE] → [end: 8 B][payload (StateCodec)]
/// right event: [key group: 2 B BE][4][window start: 8 B BE, sign flipped][sequence: 8 B BE] → [end: 8 B][key (StateCodec)][payload (StateCodec)]
/// </code>
/// Tables 3 and 4, beside the aggregates' 0 to 2 (one store belongs to one operator). One key group's events of one window are one
/// contiguous range per side. A key's left events of a window are one contiguous range in arrival order (the sequence number is
/// the operator's, increasing with every spilled event), so a probe reads them with one seek; a key group's right events of a window
/// are in arrival order, and a merge of the key groups' ranges by sequence gives the window's right events in arrival order, which is
/// the order the heap operator probes them in.
/// </remarks>
internal static class SpilledWindowJoinKeys
{
    public const byte LeftTable = 3;
    public const byte RightTable = 4;

    /// <summary>The length of a left key before its stable key encoding.</summary>
    public const int LeftPrefix = 2 + 1 + 8 + 8 + 4;

    /// <summary>The length of a right key.</summary>
    public const int RightLength = 2 + 1 + 8 + 8;

    /// <summary>Writes the key of a left event and returns its length (<see cref="LeftPrefix"/> + encoding + 8).</summary>
    public static int WriteLeft(Span<byte> target, int keyGroup, long window, ulong hash, ReadOnlySpan<byte> encoding, long sequence)
    {
        int length = WriteLeftPrefix(target, keyGroup, window, hash, encoding);
        BinaryPrimitives.WriteInt64BigEndian(target[length..], sequence);
        return length + 8;
    }

    /// <summary>Writes the part of a left key that all of one key's events of one window share, and returns its length.</summary>
    public static int WriteLeftPrefix(Span<byte> target, int keyGroup, long window, ulong hash, ReadOnlySpan<byte> encoding)
    {
        WriteWindow(target, keyGroup, LeftTable, window);
        BinaryPrimitives.WriteUInt64BigEndian(target[11..], hash);
        BinaryPrimitives.WriteInt32BigEndian(target[19..], encoding.Length);
        encoding.CopyTo(target[LeftPrefix..]);
        return LeftPrefix + encoding.Length;
    }

    public static void WriteRight(Span<byte> target, int keyGroup, long window, long sequence)
    {
        WriteWindow(target, keyGroup, RightTable, window);
        BinaryPrimitives.WriteInt64BigEndian(target[11..], sequence);
    }

    /// <summary>The first key of <paramref name="keyGroup"/>'s events of side <paramref name="table"/> in the window starting at <paramref name="window"/>.</summary>
    public static byte[] WindowFrom(int keyGroup, byte table, long window)
    {
        var key = new byte[11];
        WriteWindow(key, keyGroup, table, window);
        return key;
    }

    /// <summary>The key after <paramref name="keyGroup"/>'s events of side <paramref name="table"/> in the window starting at <paramref name="window"/>.</summary>
    public static byte[] WindowLimit(int keyGroup, byte table, long window)
    {
        ulong flipped = SpilledSessionKeys.Flip(window);
        if (flipped == ulong.MaxValue)
        {
            return TableLimit(keyGroup, table);
        }

        var key = new byte[11];
        WriteWindow(key, keyGroup, table, window);
        BinaryPrimitives.WriteUInt64BigEndian(key.AsSpan(3), flipped + 1);
        return key;
    }

    /// <summary>The first key of <paramref name="keyGroup"/>'s events of side <paramref name="table"/>.</summary>
    public static byte[] TableFrom(int keyGroup, byte table) => [(byte)(keyGroup >> 8), (byte)keyGroup, table];

    /// <summary>The key after <paramref name="keyGroup"/>'s events of side <paramref name="table"/>.</summary>
    public static byte[] TableLimit(int keyGroup, byte table) => [(byte)(keyGroup >> 8), (byte)keyGroup, (byte)(table + 1)];

    public static long WindowOf(ReadOnlySpan<byte> key) => SpilledSessionKeys.Unflip(BinaryPrimitives.ReadUInt64BigEndian(key[3..]));

    /// <summary>The sequence number of a left or right event's key.</summary>
    public static long SequenceOf(ReadOnlySpan<byte> key) => BinaryPrimitives.ReadInt64BigEndian(key[^8..]);

    private static void WriteWindow(Span<byte> target, int keyGroup, byte table, long window)
    {
        BinaryPrimitives.WriteUInt16BigEndian(target, (ushort)keyGroup);
        target[2] = table;
        BinaryPrimitives.WriteUInt64BigEndian(target[3..], SpilledSessionKeys.Flip(window));
    }
}
