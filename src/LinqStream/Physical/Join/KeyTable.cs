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
/// </remarks>
internal sealed class KeyTable<TKey>
{
    /// <summary>Side index of the left input in <see cref="Head"/>.</summary>
    public const int Left = 0;

    /// <summary>Side index of the right input in <see cref="Head"/>.</summary>
    public const int Right = 1;

    private readonly KeySlotTable<TKey> _index = new();
    private readonly Stack<int> _freeIds = new();
    private readonly List<int> _candidates = [];
    private TKey[] _keys = new TKey[16];
    private int[] _heads = new int[32];
    private bool[] _isCandidate = new bool[16];
    private int _used;

    /// <summary>Gets the number of keys in the table, including empty entries not yet swept.</summary>
    public int Count => _index.Count;

    /// <summary>Gets the number of entries that became empty since the last sweep.</summary>
    public int CandidateCount => _candidates.Count;

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
            _candidates.Add(id);
        }
    }

    /// <summary>Removes the entries that are still empty.</summary>
    public void Sweep()
    {
        foreach (int id in _candidates)
        {
            _isCandidate[id] = false;
            int h = id << 1;
            if (_heads[h] < 0 && _heads[h + 1] < 0)
            {
                _index.Remove(_keys[id]);
                _keys[id] = default!;
                _freeIds.Push(id);
            }
        }

        _candidates.Clear();
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

        int size = 16;
        while (size < count * 2)
        {
            size *= 2;
        }

        var keys = new TKey[size];
        var heads = new int[size * 2];
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

        _keys = keys;
        _heads = heads;
        _isCandidate = new bool[size];
        _freeIds.Clear();
        _freeIds.TrimExcess();
        _candidates.Clear();
        _candidates.TrimExcess();
        _used = count;
        return map;
    }

    public void Clear()
    {
        _index.Clear();
        _freeIds.Clear();
        _candidates.Clear();
        Array.Clear(_keys);
        Array.Clear(_isCandidate);
        _used = 0;
    }

    private int NewEntry(TKey key)
    {
        int id;
        if (_freeIds.Count > 0)
        {
            id = _freeIds.Pop();
        }
        else
        {
            id = _used++;
            if (id == _keys.Length)
            {
                Array.Resize(ref _keys, id * 2);
                Array.Resize(ref _isCandidate, id * 2);
                Array.Resize(ref _heads, id * 4);
            }
        }

        _keys[id] = key;
        _heads[id << 1] = -1;
        _heads[(id << 1) + 1] = -1;
        return id;
    }
}
