using LinqStream.Runtime.Tables;

namespace LinqStream.Physical.Windows.KeyedFold;

/// <summary>
/// The open groups of a keyed fold, each a (close time, key) with one aggregate state in a slot, and the order they come out in:
/// by close time, then a null key, then the other keys in stable key order (docs/semantics.md §8). <c>KeyedFoldOperator</c> and
/// <c>JoinKeyedFoldOperator</c> keep their groups here.
/// </summary>
/// <remarks>
/// A group's close, key and state sit together in one entry of <see cref="Slots"/> (re-read the array after <see cref="GetOrOpen"/>,
/// which may grow it), so a fold that checks a cached slot's close and key and adds to its state touches one place; a released
/// slot's close is set to <see cref="long.MinValue"/>, which no group has (closes are at most 2^62 from zero: the rewrite's
/// condition), so a cached slot number is checked by comparing its close and key.
/// The slots, the table's entries and the close queue's buckets come from the shared array pool and go back when they grow and at
/// <see cref="Release()"/>, at the end of a run (issue #19); only slots that were opened are read.
/// </remarks>
internal sealed class FoldGroups<TKey, TState>
    where TKey : notnull
{
    private readonly KeySlotTable<Group, GroupHasher> _table = new();
    private readonly CloseQueue _closes = new();
    private readonly Parallel.KeyOrder<TKey> _keyOrder = new();

    // Free slots are linked through _nextFree.
    private int[] _nextFree = PooledArrays.Rent<int>(PooledArrays.MinimumLength);
    private int _free = -1;
    private int _used;

    // The groups of one close being taken out in key order: the null key's slot (or -1), then _keyOrder from _ordered on.
    private int _nullSlot = -1;
    private int _ordered;

    /// <summary>The groups' entries, by slot.</summary>
    public Entry[] Slots = PooledArrays.Rent<Entry>(PooledArrays.MinimumLength);

    /// <summary>Gets the number of open groups.</summary>
    public int Count => _table.Count;

    /// <summary>The slot of group (<paramref name="close"/>, <paramref name="key"/>); a new group's state is the default until the caller sets it.</summary>
    public int GetOrOpen(long close, TKey key, out bool opened)
    {
        ref int slot = ref _table.GetValueRefOrAddDefault(new Group(close, key), out bool exists);
        opened = !exists;
        if (!exists)
        {
            slot = Open(close, key, default!);
        }

        return slot;
    }

    /// <summary>Frees a group that was taken out (its result was made).</summary>
    public void Release(int slot)
    {
        ref var entry = ref Slots[slot];
        _table.Remove(new Group(entry.Close, entry.Key));
        entry = new Entry { Close = long.MinValue };
        _nextFree[slot] = _free;
        _free = slot;
    }

    /// <summary>
    /// Takes out the next group whose close is below <paramref name="watermark"/>, in emission order; false when there is none. The
    /// caller makes its result and then calls <see cref="Release(int)"/>.
    /// </summary>
    public bool TryTakeNext(long watermark, out int slot)
    {
        if (_nullSlot >= 0)
        {
            slot = _nullSlot;
            _nullSlot = -1;
            return true;
        }

        if (_ordered < _keyOrder.Count)
        {
            slot = _keyOrder.SlotAt(_ordered++);
            return true;
        }

        if (_keyOrder.Count > 0)
        {
            _keyOrder.Clear();
            _ordered = 0;
        }

        if (!_closes.TryPeek(out int first, out long close) || close >= watermark)
        {
            slot = -1;
            return false;
        }

        _closes.Dequeue();
        if (!_closes.TryPeek(out _, out long following) || following != close)
        {
            // The only group of this close (q4/q9: one auction per close): there is no key order to find.
            slot = first;
            return true;
        }

        // Every group of this close: a null key first, then the others in stable key order.
        Collect(first);
        while (_closes.TryPeek(out int next, out long nextClose) && nextClose == close)
        {
            _closes.Dequeue();
            Collect(next);
        }

        _keyOrder.Sort();
        return TryTakeNext(watermark, out slot);
    }

    /// <summary>Drops every group.</summary>
    public void Clear()
    {
        _table.Clear();
        _closes.Clear();
        _keyOrder.Clear();
        _ordered = 0;
        _nullSlot = -1;
        Array.Clear(Slots);
        _free = -1;
        _used = 0;
    }

    /// <summary>
    /// Drops every group and gives the arrays back to the pool (the end of a run, or a failure); the groups hold nothing of the pool
    /// after it and may be used again.
    /// </summary>
    public void Release()
    {
        Clear();
        _table.Release();
        _closes.Release();
        PooledArrays.Release(ref Slots);
        PooledArrays.Release(ref _nextFree);
    }

    /// <summary>Copies the open groups out as plain data, in close order.</summary>
    public List<KeyedFoldGroup<TKey, TState>> Capture()
    {
        var groups = new List<KeyedFoldGroup<TKey, TState>>(_table.Count);
        foreach (var (group, slot) in _table)
        {
            groups.Add(new KeyedFoldGroup<TKey, TState>(group.Close, group.Key, Slots[slot].State));
        }

        groups.Sort(static (a, b) => a.Close.CompareTo(b.Close));
        return groups;
    }

    /// <summary>Replaces the groups by <paramref name="groups"/> (a restore).</summary>
    public void Restore(IReadOnlyList<KeyedFoldGroup<TKey, TState>> groups)
    {
        Clear();
        foreach (var group in groups)
        {
            _table.GetValueRefOrAddDefault(new Group(group.Close, group.Key), out _) = Open(group.Close, group.Key, group.State);
        }
    }

    private void Collect(int slot)
    {
        var key = Slots[slot].Key;
        if (key is null)
        {
            _nullSlot = slot;
        }
        else
        {
            _keyOrder.Add(key, slot);
        }
    }

    private int Open(long close, TKey key, TState state)
    {
        int slot;
        if (_free >= 0)
        {
            slot = _free;
            _free = _nextFree[slot];
        }
        else
        {
            if (_used == Slots.Length)
            {
                int size = Math.Max(PooledArrays.MinimumLength, _used * 2);
                PooledArrays.Resize(ref Slots, size, _used);
                PooledArrays.Resize(ref _nextFree, size, _used);
            }

            slot = _used++;
        }

        Slots[slot] = new Entry { Close = close, Key = key, State = state };
        _closes.Enqueue(slot, close);
        return slot;
    }

    /// <summary>One group's slot: its close time, key and aggregate state.</summary>
    internal struct Entry
    {
        public long Close;
        public TKey Key;
        public TState State;
    }

    /// <summary>A group: its close time and key (a null key is a key like any other here).</summary>
    private readonly record struct Group(long Close, TKey Key);

    /// <summary>Open addressing for a group whose key is primitive (q4/q9: the auction id); a dictionary of groups for other keys.</summary>
    private readonly struct GroupHasher : IKeyHasher<Group>
    {
        public static bool IsSupported => PrimitiveKeyHasher<TKey>.IsSupported;

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        public static ulong Hash(Group group) =>
            PrimitiveKeyHasher<TKey>.Hash(group.Key) ^ ((ulong)group.Close * 0xC2B2AE3D27D4EB4FUL);

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        public static bool Equal(Group a, Group b) => a.Close == b.Close && PrimitiveKeyHasher<TKey>.Equal(a.Key, b.Key);
    }
}
