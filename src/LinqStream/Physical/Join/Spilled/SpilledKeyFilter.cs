using System.Numerics;
using System.Runtime.CompilerServices;

namespace LinqStream.Physical.Join.Spilled;

/// <summary>
/// An on-heap Bloom filter of the stable key hashes of a spilled join's events in its store (one per side): a probe of a key the
/// filter has never seen skips the store (no key encoding, no iterator). No false negatives: every key written to the store since
/// the filter was last built is in it; a false positive costs the range read the probe would have made without the filter.
/// </summary>
/// <remarks>
/// <para>
/// 16 bits per entry it is sized for and three probes (about 0.5 % false positives when full). Entries are never removed: the
/// operator rebuilds the filter from the store (<see cref="Reset"/>, then <see cref="Add"/> for each stored event) when more entries
/// were added since the last build than it was sized for, and clears it when the store holds none of the side's events.
/// </para>
/// <para>
/// Not checkpointed: a restore rebuilds it from the restored store's expiry index (the stored events' keys carry their hash).
/// </para>
/// </remarks>
internal sealed class SpilledKeyFilter
{
    private const int BitsPerEntry = 16;
    private const long MinimumBits = 1 << 12;

    private ulong[] _words = [];
    private ulong _mask;

    /// <summary>Gets how many entries the filter was sized for at its last build.</summary>
    public long Capacity { get; private set; }

    /// <summary>Gets how many entries were added since its last build (duplicates counted).</summary>
    public long Added { get; private set; }

    /// <summary>Gets the filter's size in bytes.</summary>
    public long Bytes => (long)_words.Length * sizeof(ulong);

    /// <summary>Empties the filter and sizes it for <paramref name="capacity"/> entries (its array is reused when it is already that size).</summary>
    public void Reset(long capacity)
    {
        long bits = Math.Max(MinimumBits, (long)BitOperations.RoundUpToPowerOf2((ulong)Math.Max(1, capacity) * BitsPerEntry));
        long words = bits / 64;
        if (_words.Length != words)
        {
            _words = new ulong[words];
        }
        else
        {
            Array.Clear(_words);
        }

        _mask = (ulong)bits - 1;
        Capacity = Math.Max(1, capacity);
        Added = 0;
    }

    /// <summary>Empties the filter, keeping its size.</summary>
    public void Clear()
    {
        Array.Clear(_words);
        Added = 0;
    }

    /// <summary>Gets a value indicating whether adding <paramref name="count"/> more entries would pass the size it was built for.</summary>
    public bool WouldOverflow(long count) => Added + count > Capacity;

    public void Add(ulong hash)
    {
        var words = _words;
        (ulong h1, ulong h2) = Split(hash);
        for (int i = 0; i < 3; i++)
        {
            ulong bit = (h1 + ((ulong)i * h2)) & _mask;
            words[bit >> 6] |= 1UL << (int)(bit & 63);
        }

        Added++;
    }

    /// <summary>False when no key with <paramref name="hash"/> was added since the last build; true when one may have been.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool MayContain(ulong hash)
    {
        var words = _words;
        if (words.Length == 0)
        {
            return false;
        }

        (ulong h1, ulong h2) = Split(hash);
        for (int i = 0; i < 3; i++)
        {
            ulong bit = (h1 + ((ulong)i * h2)) & _mask;
            if ((words[bit >> 6] & (1UL << (int)(bit & 63))) == 0)
            {
                return false;
            }
        }

        return true;
    }

    // The stable hash is XxHash3; its top bits choose the key group, so the probes come from the low half and a remix of the whole.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (ulong H1, ulong H2) Split(ulong hash)
    {
        ulong h2 = (hash ^ (hash >> 31)) * 0xBF58476D1CE4E5B9UL;
        return (hash & 0xFFFF_FFFFUL, (h2 >> 32) | 1);
    }
}
