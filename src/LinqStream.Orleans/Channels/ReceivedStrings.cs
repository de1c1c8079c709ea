using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;

namespace LinqStream.Orleans.Channels;

/// <summary>
/// The strings a channel end read lately, so a value that repeats from frame to frame (a channel name, a URL among a few thousand, a
/// country) is not transcoded and allocated again on the receiving silo: a direct-mapped table of the last short ASCII string per
/// slot, found by a hash of its UTF-8 bytes and checked byte for byte (issue #17: allocating every string of every event was the
/// largest part of a spread q5 job's cost of crossing silos).
/// </summary>
/// <remarks>
/// A hit returns a string equal to what decoding the bytes gives (the same characters: the kept string is compared with the
/// bytes), only not a new instance. Only ASCII values up to <see cref="MaxLength"/> bytes are kept; every other value, and every
/// miss, is decoded as before. When a window of lookups finds few hits (values that do not repeat: ids, timestamps as text) the
/// table is not consulted for a while, so such a member pays for the hash only now and then. One instance per reader: a channel
/// end's decoding runs on one thread. The hash only picks a slot here; nothing is routed or stored by it.
/// </remarks>
internal sealed class ReceivedStrings
{
    /// <summary>The longest value kept, in bytes.</summary>
    public const int MaxLength = 128;

    /// <summary>Lookups per judgement of the hit rate.</summary>
    internal const int Window = 1024;

    /// <summary>Fewer hits than this in a window: the values do not repeat enough.</summary>
    internal const int MinHits = Window / 16;

    /// <summary>Values decoded without a lookup after a poor window, before the table is tried again.</summary>
    internal const int Pause = 64 * 1024;

    private readonly string?[] _slots;
    private readonly int _mask;
    private int _lookups;
    private int _hits;
    private int _paused;

    /// <param name="slots">The table's size, a power of two.</param>
    public ReceivedStrings(int slots = 2048)
    {
        if (slots <= 0 || (slots & (slots - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(slots), slots, "The table's size must be a power of two.");
        }

        _slots = new string?[slots];
        _mask = slots - 1;
    }

    /// <summary>Gets the number of lookups that found their string (tests, diagnostics).</summary>
    public long Hits { get; private set; }

    /// <summary>Gets a value indicating whether the table is not consulted for now, after a window with few hits.</summary>
    public bool IsPaused => _paused > 0;

    /// <summary>Finds the string of <paramref name="bytes"/> if it was read lately; on a miss the caller decodes it and calls <see cref="Keep"/>.</summary>
    public bool TryGet(ReadOnlySpan<byte> bytes, out string value)
    {
        if (bytes.Length == 0)
        {
            value = string.Empty;
            return true;
        }

        if (_paused > 0)
        {
            _paused--;
            value = null!;
            return false;
        }

        if (bytes.Length > MaxLength)
        {
            value = null!;
            return false;
        }

        var kept = _slots[(int)Hash(bytes) & _mask];
        if (kept is not null && kept.Length == bytes.Length && Ascii.Equals(bytes, kept))
        {
            Count(hit: true);
            value = kept;
            return true;
        }

        Count(hit: false);
        value = null!;
        return false;
    }

    /// <summary>Keeps <paramref name="value"/>, decoded from <paramref name="bytes"/> after a miss, when it is short ASCII.</summary>
    public void Keep(ReadOnlySpan<byte> bytes, string value)
    {
        if (_paused == 0 && bytes.Length <= MaxLength && value.Length == bytes.Length && Ascii.IsValid(bytes))
        {
            _slots[(int)Hash(bytes) & _mask] = value;
        }
    }

    private void Count(bool hit)
    {
        if (hit)
        {
            _hits++;
            Hits++;
        }

        if (++_lookups < Window)
        {
            return;
        }

        if (_hits < MinHits)
        {
            _paused = Pause;
        }

        _lookups = _hits = 0;
    }

    /// <summary>A hash of the bytes, 8 at a time (only to pick a slot).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Hash(ReadOnlySpan<byte> bytes)
    {
        const ulong Prime = 0x9E3779B97F4A7C15;
        ulong hash = (ulong)bytes.Length * Prime;
        int i = 0;
        for (; i + 8 <= bytes.Length; i += 8)
        {
            hash = (BitRotate(hash) ^ BinaryPrimitives.ReadUInt64LittleEndian(bytes[i..])) * Prime;
        }

        if (i < bytes.Length)
        {
            ulong last;
            if (bytes.Length >= 8)
            {
                last = BinaryPrimitives.ReadUInt64LittleEndian(bytes[^8..]); // overlapping what was hashed: the length is in the hash already
            }
            else
            {
                last = 0;
                for (int k = i; k < bytes.Length; k++)
                {
                    last |= (ulong)bytes[k] << (8 * (k - i));
                }
            }

            hash = (BitRotate(hash) ^ last) * Prime;
        }

        return hash ^ (hash >> 29);

        static ulong BitRotate(ulong value) => System.Numerics.BitOperations.RotateLeft(value, 23);
    }
}
