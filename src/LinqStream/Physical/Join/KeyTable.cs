using LinqStream.Runtime.Tables;

// TKey may be a nullable type (the user's key selector decides it); null keys never reach the table, the operator checks first.
#pragma warning disable CS8714

namespace LinqStream.Physical.Join;

/// <summary>The keys a join holds state for: each key has one entry with the head of its left and right live-event lists.</summary>
/// <remarks>
/// One hash lookup per event finds both sides' lists. An entry whose lists both became empty is not removed at once (a
/// busy key would be removed and re-added over and over); it is remembered and removed by <see cref="Sweep"/>, which the
/// operator calls when such entries are many or at the end of the stream.
/// Null keys never match (as in SQL) and are never added; the caller checks.
/// The arrays (and the index's entries) come from the shared array pool and go back when they grow or shrink and at
/// <see cref="Release"/>, at the end of a run (issue #19); a pooled array is not zeroed, so an entry's flag is cleared when its
/// array is taken and everything else is written before it is read.
/// </remarks>
internal sealed class KeyTable<TKey>
{
    /// <summary>Side index of the left input in <see cref="Head"/>.</summary>
    public const int Left = 0;

    /// <summary>Side index of the right input in <see cref="Head"/>.</summary>
    public const int Right = 1;

    private readonly KeySlotTable<TKey> _index = new();
    private TKey[] _keys = PooledArrays.Rent<TKey>(MinimumCapacity);
    private int[] _heads = PooledArrays.Rent<int>(MinimumCapacity * 2);
    private bool[] _isCandidate = PooledArrays.RentCleared<bool>(MinimumCapacity);
    private int _used;

    // The entries removed by a sweep, reused first (a stack), and the entries that became empty since the last sweep.
    private int[] _freeIds = [];
    private int _freeCount;
    private int[] _candidates = [];
    private int _candidateCount;

    private const int MinimumCapacity = PooledArrays.MinimumLength;

    /// <summary>Gets the number of keys in the table, including empty entries not yet swept.</summary>
    public int Count => _index.Count;

    /// <summary>Gets the number of entries that became empty since the last sweep.</summary>
    public int CandidateCount => _candidateCount;

    public TKey KeyOf(int id) => _keys[id];

    /// <summary>Returns the entry of <paramref name="key"/>, adding an empty one when the key is new.</summary>
    public int GetOrAdd(TKey key)
    {
        ref int id = ref _index.GetValueRefOrAddDefault(key, out bool exists);
        if (!exists)
        {
            id = NewEntry(key);
        }

        return id;
    }

    /// <summary>Finds the entry of <paramref name="key"/> without adding one.</summary>
    public bool TryGet(TKey key, out int id) => _index.TryGetValue(key, out id);

    /// <summary>
    /// Finds the entry a right event of a buffered join (<c>BufferedJoinOperator</c>) probes with, and whether the event is kept live.
    /// Every left event still to come starts after <paramref name="start"/> (left wins ties, and a right run stops before the next
    /// left start), so a right event that ends at <c>start + 1</c> (a point: NEXMark's bids, q3's auctions) overlaps none of them: it
    /// only probes the left events alive now and is not kept (issue #19: no live slot, key entry, expiry or eviction per such event;
    /// it would have been evicted by the end of the round anyway, the round's limit being above its start). Returns false when
    /// such a point event's key has no entry (nothing on the heap to probe).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public bool TryGetForRight(TKey key, long start, long end, out int id, out bool keep)
    {
        keep = unchecked((ulong)(end - start)) > 1UL;
        if (keep)
        {
            id = GetOrAdd(key);
            return true;
        }

        return TryGet(key, out id);
    }

    /// <summary>The head slot of side <paramref name="side"/>'s list for entry <paramref name="id"/> (-1 when empty).</summary>
    public ref int Head(int id, int side) => ref _heads[(id << 1) + side];

    /// <summary>Remembers <paramref name="id"/> for the next sweep when both its lists are empty.</summary>
    public void MarkIfEmpty(int id)
    {
        int h = id << 1;
        if (_heads[h] < 0 && _heads[h + 1] < 0 && !_isCandidate[id])
        {
            _isCandidate[id] = true;
            Push(ref _candidates, ref _candidateCount, id);
        }
    }

    /// <summary>Removes the entries that are still empty.</summary>
    public void Sweep()
    {
        var candidates = _candidates;
        for (int c = 0; c < _candidateCount; c++)
        {
            int id = candidates[c];
            _isCandidate[id] = false;
            int h = id << 1;
            if (_heads[h] < 0 && _heads[h + 1] < 0)
            {
                _index.Remove(_keys[id]);
                _keys[id] = default!;
                Push(ref _freeIds, ref _freeCount, id);
            }
        }

        _candidateCount = 0;
    }

    /// <summary>Gets the number of entries the table's arrays have room for.</summary>
    public int Capacity => _keys.Length;

    /// <summary>Renumbers the heads of side <paramref name="side"/>'s lists through <paramref name="slotMap"/> (its live events were compacted).</summary>
    public void RemapHeads(int side, int[] slotMap)
    {
        for (int id = 0; id < _used; id++)
        {
            ref int head = ref _heads[(id << 1) + side];
            if (head >= 0)
            {
                head = slotMap[head];
            }
        }
    }

    /// <summary>
    /// Removes the empty entries, moves the others down to 0, 1, 2... and shrinks the arrays and the index to fit. Returns the map
    /// from old entry to new (-1 for a removed one); the caller renumbers the live events' entries.
    /// </summary>
    public int[] Compact()
    {
        Sweep();
        var map = new int[_used];
        map.AsSpan().Fill(-1);
        int count = 0;
        for (int id = 0; id < _used; id++)
        {
            int h = id << 1;
            if (_heads[h] >= 0 || _heads[h + 1] >= 0)
            {
                map[id] = count++;
            }
        }

        int size = PooledArrays.PowerOfTwoFor(count * 2);
        var keys = PooledArrays.Rent<TKey>(size);
        var heads = PooledArrays.Rent<int>(size * 2);
        for (int id = 0; id < _used; id++)
        {
            int n = map[id];
            if (n >= 0)
            {
                keys[n] = _keys[id];
                heads[n << 1] = _heads[id << 1];
                heads[(n << 1) + 1] = _heads[(id << 1) + 1];
            }
        }

        _index.Clear();
        _index.TrimExcess(count);
        for (int n = 0; n < count; n++)
        {
            _index.Add(keys[n], n);
        }

        var old = (_keys, _heads, _isCandidate, _freeIds, _candidates);
        (_keys, _heads, _isCandidate) = (keys, heads, PooledArrays.RentCleared<bool>(size));
        _freeIds = [];
        _candidates = [];
        _freeCount = 0;
        _candidateCount = 0;
        _used = count;
        Return(old);
        return map;
    }

    public void Clear()
    {
        _index.Clear();
        _freeCount = 0;
        _candidateCount = 0;
        Array.Clear(_keys);
        Array.Clear(_isCandidate);
        _used = 0;
    }

    /// <summary>
    /// Empties the table and gives its arrays and its index's back to the pool (the end of a run, or a failure); the table holds
    /// nothing of the pool after it and may be used again (it grows from nothing).
    /// </summary>
    public void Release()
    {
        _index.Release();
        var old = (_keys, _heads, _isCandidate, _freeIds, _candidates);
        _keys = [];
        _heads = [];
        _isCandidate = [];
        _freeIds = [];
        _candidates = [];
        _freeCount = 0;
        _candidateCount = 0;
        _used = 0;
        Return(old);
    }

    // Arrays the table no longer holds, back to the pool.
    private static void Return((TKey[] Keys, int[] Heads, bool[] IsCandidate, int[] FreeIds, int[] Candidates) old)
    {
        PooledArrays.Return(old.Keys);
        PooledArrays.Return(old.Heads);
        PooledArrays.Return(old.IsCandidate);
        PooledArrays.Return(old.FreeIds);
        PooledArrays.Return(old.Candidates);
    }

    /// <summary>Appends <paramref name="value"/> to a pooled stack of ints, growing it from the pool.</summary>
    private static void Push(ref int[] stack, ref int count, int value)
    {
        if (count == stack.Length)
        {
            PooledArrays.Resize(ref stack, Math.Max(MinimumCapacity, count * 2), count);
        }

        stack[count++] = value;
    }

    private int NewEntry(TKey key)
    {
        int id;
        if (_freeCount > 0)
        {
            id = _freeIds[--_freeCount];
        }
        else
        {
            id = _used++;
            if (id == _keys.Length)
            {
                Grow();
            }
        }

        _keys[id] = key;
        _heads[id << 1] = -1;
        _heads[(id << 1) + 1] = -1;
        return id;
    }

    // Every entry 0 .. _used - 2 is in the old arrays, which are full.
    private void Grow()
    {
        int count = _keys.Length;
        int size = Math.Max(MinimumCapacity, count * 2);
        PooledArrays.Resize(ref _keys, size, count);
        PooledArrays.Resize(ref _heads, size * 2, count * 2);
        PooledArrays.Resize(ref _isCandidate, size, count);
        Array.Clear(_isCandidate, count, _isCandidate.Length - count); // an entry is no sweep candidate until it is marked
    }
}
