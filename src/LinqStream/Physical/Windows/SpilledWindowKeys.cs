using System.Buffers.Binary;
using LinqStream.Physical.Windows.Session;

namespace LinqStream.Physical.Windows;

/// <summary>
/// The key layout of spilled tumbling and hopping window groups in a <see cref="Runtime.State.IKeyedStateStore"/> (docs/state.md,
/// "Key layout").
/// </summary>
/// <remarks>
/// <code>
/// window group: [key group: 2 B BE][2][window start: 8 B BE, sign flipped][stable key hash: 8 B BE][stable key encoding] → [key][accumulators]
/// </code>
/// Table 2, beside the session tables 0 and 1 (one store belongs to one operator, so only one kind is in a store). Within a key
/// group, one window's groups are contiguous and ordered by stable hash, then encoding: the order results come out in (key groups
/// follow hash order, so the key groups' ranges one after the other are that order for the whole window), and a window that closes
/// is one range per key group.
/// </remarks>
internal static class SpilledWindowKeys
{
    public const byte Table = 2;
    public const int Prefix = 2 + 1 + 8 + 8;

    /// <summary>Where the stable key hash starts: from here on a key sorts by (hash, encoding), whatever its window or pane.</summary>
    public const int HashOffset = 2 + 1 + 8;

    public static int Write(Span<byte> target, int keyGroup, long windowStart, ulong hash, ReadOnlySpan<byte> key)
    {
        BinaryPrimitives.WriteUInt16BigEndian(target, (ushort)keyGroup);
        target[2] = Table;
        BinaryPrimitives.WriteUInt64BigEndian(target[3..], SpilledSessionKeys.Flip(windowStart));
        BinaryPrimitives.WriteUInt64BigEndian(target[HashOffset..], hash);
        key.CopyTo(target[Prefix..]);
        return Prefix + key.Length;
    }

    /// <summary>The first key of <paramref name="keyGroup"/>'s groups in the window starting at <paramref name="windowStart"/>.</summary>
    public static byte[] WindowFrom(int keyGroup, long windowStart) => Bound(keyGroup, SpilledSessionKeys.Flip(windowStart));

    /// <summary>The key after <paramref name="keyGroup"/>'s groups in the window starting at <paramref name="windowStart"/>.</summary>
    public static byte[] WindowLimit(int keyGroup, long windowStart)
    {
        ulong flipped = SpilledSessionKeys.Flip(windowStart);
        return flipped == ulong.MaxValue ? TableLimit(keyGroup) : Bound(keyGroup, flipped + 1);
    }

    /// <summary>The first key of <paramref name="keyGroup"/>'s window groups.</summary>
    public static byte[] TableFrom(int keyGroup) => [(byte)(keyGroup >> 8), (byte)keyGroup, Table];

    /// <summary>The key after <paramref name="keyGroup"/>'s window groups.</summary>
    public static byte[] TableLimit(int keyGroup) => [(byte)(keyGroup >> 8), (byte)keyGroup, Table + 1];

    public static long StartOf(ReadOnlySpan<byte> key) => SpilledSessionKeys.Unflip(BinaryPrimitives.ReadUInt64BigEndian(key[3..]));

    public static ulong HashOf(ReadOnlySpan<byte> key) => BinaryPrimitives.ReadUInt64BigEndian(key[HashOffset..]);

    private static byte[] Bound(int keyGroup, ulong flippedStart)
    {
        var key = new byte[11];
        BinaryPrimitives.WriteUInt16BigEndian(key, (ushort)keyGroup);
        key[2] = Table;
        BinaryPrimitives.WriteUInt64BigEndian(key.AsSpan(3), flippedStart);
        return key;
    }
}
