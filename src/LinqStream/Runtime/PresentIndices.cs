using System.Numerics;
using System.Runtime.CompilerServices;

namespace LinqStream.Runtime;

/// <summary>
/// The indices of the events a filter-bit vector leaves present, in order: <c>foreach (int i in new PresentIndices(absent, count))</c>.
/// </summary>
/// <remarks>
/// Walks the bits a word at a time and the present events of a word by a bit scan each, so a sparse batch (an entity split off
/// NEXMark's event stream) costs one step per present event, with no unpredictable branch per absent one. A ref struct: the
/// loop is inlined where it is used, no call and no allocation per event.
/// </remarks>
internal ref struct PresentIndices
{
    private readonly ReadOnlySpan<ulong> _absent;
    private readonly int _count;
    private int _first;
    private ulong _present;

    /// <summary>Walks events 0 to <paramref name="count"/> - 1, of which those with their bit set in <paramref name="absent"/> are left out.</summary>
    public PresentIndices(ReadOnlySpan<ulong> absent, int count)
    {
        _absent = absent;
        _count = count;
        _first = -64;
        _present = 0;
        Current = -1;
    }

    /// <summary>Gets the index of the first event not marked in <paramref name="absent"/> among the first <paramref name="count"/>, or -1 when every one is.</summary>
    public static int First(ReadOnlySpan<ulong> absent, int count)
    {
        for (int first = 0; first < count; first += 64)
        {
            ulong present = Word(absent, count, first);
            if (present != 0)
            {
                return first + BitOperations.TrailingZeroCount(present);
            }
        }

        return -1;
    }

    /// <summary>Gets the index of the last event not marked in <paramref name="absent"/> among the first <paramref name="count"/>, or -1 when every one is.</summary>
    public static int Last(ReadOnlySpan<ulong> absent, int count)
    {
        for (int first = (count - 1) & ~63; first >= 0; first -= 64)
        {
            ulong present = Word(absent, count, first);
            if (present != 0)
            {
                return first + 63 - BitOperations.LeadingZeroCount(present);
            }
        }

        return -1;
    }

    /// <summary>The present bits of the word of events <paramref name="first"/> .. <paramref name="first"/> + 63 (none past <paramref name="count"/>).</summary>
    private static ulong Word(ReadOnlySpan<ulong> absent, int count, int first)
    {
        ulong present = ~absent[first >> 6];
        int left = count - first;
        return left < 64 ? present & ((1UL << left) - 1) : present;
    }

    /// <summary>Gets the index of the present event the walk is at.</summary>
    public int Current { get; private set; }

    /// <summary>Returns the walk itself, so that <c>foreach</c> can run it.</summary>
    public readonly PresentIndices GetEnumerator() => this;

    /// <summary>Moves to the next present event; false when there is none left.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool MoveNext()
    {
        while (_present == 0)
        {
            _first += 64;
            if (_first >= _count)
            {
                return false;
            }

            ulong present = ~_absent[_first >> 6];
            int left = _count - _first;
            if (left < 64)
            {
                present &= (1UL << left) - 1;
            }

            _present = present;
        }

        Current = _first + BitOperations.TrailingZeroCount(_present);
        _present &= _present - 1;
        return true;
    }
}
