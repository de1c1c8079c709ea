namespace LinqStream.Parallel;

/// <summary>
/// Puts the keys of one window in the order every parallelism agrees on: by stable key hash (so by key group, then within
/// it), ties by the keys' encodings, then by the order they were added. Reused from window to window: no allocation once warm.
/// </summary>
internal sealed class KeyOrder<TKey>
    where TKey : notnull
{
    private ulong[] _hashes = new ulong[16];
    private TKey[] _keys = new TKey[16];
    private int[] _slots = new int[16];
    private int[] _order = new int[16];

    public int Count { get; private set; }

    public void Add(TKey key, int slot)
    {
        if (Count == _keys.Length)
        {
            int size = Count * 2;
            Array.Resize(ref _hashes, size);
            Array.Resize(ref _keys, size);
            Array.Resize(ref _slots, size);
            Array.Resize(ref _order, size);
        }

        _hashes[Count] = StableKeyHash<TKey>.Hash(key);
        _keys[Count] = key;
        _slots[Count] = slot;
        _order[Count] = Count;
        Count++;
    }

    /// <summary>Sorts what was added; then <see cref="KeyAt"/> and <see cref="SlotAt"/> read it in order.</summary>
    public void Sort()
    {
        int count = Count;
        Array.Sort(_hashes, _order, 0, count);
        for (int i = 1; i < count; i++)
        {
            if (_hashes[i] == _hashes[i - 1])
            {
                int end = i + 1;
                while (end < count && _hashes[end] == _hashes[i])
                {
                    end++;
                }

                // A 64-bit collision: rare enough to order by the encodings themselves (then by arrival).
                Array.Sort(_order, i - 1, end - i + 1, Comparer<int>.Create((a, b) =>
                {
                    int byBytes = StableKeyHash<TKey>.Encode(_keys[a]).AsSpan().SequenceCompareTo(StableKeyHash<TKey>.Encode(_keys[b]));
                    return byBytes != 0 ? byBytes : a.CompareTo(b);
                }));
                i = end - 1;
            }
        }
    }

    public TKey KeyAt(int index) => _keys[_order[index]];

    public int SlotAt(int index) => _slots[_order[index]];

    /// <summary>Gets the number of keys the arrays have room for.</summary>
    public int Capacity => _keys.Length;

    /// <summary>Shrinks the arrays to twice what they hold (at least 16) after a window with many keys; its owner calls it when its state shrank.</summary>
    public void TrimExcess()
    {
        int size = 16;
        while (size < Count * 2)
        {
            size *= 2;
        }

        if (size < _keys.Length)
        {
            Array.Resize(ref _hashes, size);
            Array.Resize(ref _keys, size);
            Array.Resize(ref _slots, size);
            Array.Resize(ref _order, size);
        }
    }

    public void Clear()
    {
        if (System.Runtime.CompilerServices.RuntimeHelpers.IsReferenceOrContainsReferences<TKey>())
        {
            Array.Clear(_keys, 0, Count);
        }

        Count = 0;
    }
}
