using System.Buffers.Binary;

namespace LinqStream.Physical.Windows.Session;

/// <summary>
/// The key layout of spilled sessions in a <see cref="Runtime.State.IKeyedStateStore"/> (docs/state.md, "Key layout").
/// </summary>
/// <remarks>
/// <code>
/// by end:   [key group: 2 B BE][0][session end: 8 B BE, sign flipped][stable key hash: 8 B BE][stable key encoding]  → session
/// current:  [key group: 2 B BE][1][stable key hash: 8 B BE][stable key encoding]                              → session end
/// </code>
/// One store belongs to one operator instance, so the operator is the store's directory rather than a byte of every key. Within
/// a key group the sessions are ordered by end, then by stable hash, which is the order results must come out in (key groups
/// follow hash order too, so a merge over key groups by (end, hash) is the order of the heap operator). The second table
/// finds a key's current session when an event for a key that is not on the heap arrives.
/// </remarks>
internal static class SpilledSessionKeys
{
    public const byte ByEnd = 0;
    public const byte Current = 1;
    public const int ByEndPrefix = 2 + 1 + 8 + 8;
    public const int CurrentPrefix = 2 + 1 + 8;

    public static int WriteByEnd(Span<byte> target, int keyGroup, long end, ulong hash, ReadOnlySpan<byte> key)
    {
        BinaryPrimitives.WriteUInt16BigEndian(target, (ushort)keyGroup);
        target[2] = ByEnd;
        BinaryPrimitives.WriteUInt64BigEndian(target[3..], Flip(end));
        BinaryPrimitives.WriteUInt64BigEndian(target[11..], hash);
        key.CopyTo(target[ByEndPrefix..]);
        return ByEndPrefix + key.Length;
    }

    public static int WriteCurrent(Span<byte> target, int keyGroup, ulong hash, ReadOnlySpan<byte> key)
    {
        BinaryPrimitives.WriteUInt16BigEndian(target, (ushort)keyGroup);
        target[2] = Current;
        BinaryPrimitives.WriteUInt64BigEndian(target[3..], hash);
        key.CopyTo(target[CurrentPrefix..]);
        return CurrentPrefix + key.Length;
    }

    /// <summary>The first key of the sessions of <paramref name="keyGroup"/> that end at or after <paramref name="end"/>.</summary>
    public static byte[] ByEndFrom(int keyGroup, long end)
    {
        var key = new byte[11];
        BinaryPrimitives.WriteUInt16BigEndian(key, (ushort)keyGroup);
        key[2] = ByEnd;
        BinaryPrimitives.WriteUInt64BigEndian(key.AsSpan(3), Flip(end));
        return key;
    }

    /// <summary>The key after every session of <paramref name="keyGroup"/>.</summary>
    public static byte[] ByEndLimit(int keyGroup)
    {
        var key = new byte[3];
        BinaryPrimitives.WriteUInt16BigEndian(key, (ushort)keyGroup);
        key[2] = Current;
        return key;
    }

    /// <summary>The first key of key group <paramref name="keyGroup"/> (<paramref name="keyGroup"/> may be the count: the end of all).</summary>
    public static byte[] GroupStart(int keyGroup)
    {
        var key = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(key, (ushort)keyGroup);
        return key;
    }

    public static int KeyGroupOf(ReadOnlySpan<byte> key) => BinaryPrimitives.ReadUInt16BigEndian(key);

    public static long EndOf(ReadOnlySpan<byte> byEndKey) => Unflip(BinaryPrimitives.ReadUInt64BigEndian(byEndKey[3..]));

    public static ulong HashOf(ReadOnlySpan<byte> byEndKey) => BinaryPrimitives.ReadUInt64BigEndian(byEndKey[11..]);

    // Big-endian with the sign bit flipped orders negative times before positive ones.
    internal static ulong Flip(long value) => (ulong)value ^ 0x8000_0000_0000_0000UL;

    internal static long Unflip(ulong value) => (long)(value ^ 0x8000_0000_0000_0000UL);
}
