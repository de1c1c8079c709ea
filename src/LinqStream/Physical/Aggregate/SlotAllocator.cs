namespace LinqStream.Physical.Aggregate;

/// <summary>Hands out slot numbers for open (window, key) groups and grows the aggregate columns to fit.</summary>
internal sealed class SlotAllocator<T>
{
    private readonly AggregateColumn<T>[] _columns;
    private readonly Stack<int> _free = new();
    private int _next;
    private int _capacity;

    public SlotAllocator(AggregateColumn<T>[] columns)
    {
        _columns = columns;
        Grow(MinimumCapacity);
    }

    /// <summary>Gets the number of slots in use (the live groups).</summary>
    public int Live => _next - _free.Count;

    /// <summary>Gets the number of slots the aggregate columns have room for.</summary>
    public int Capacity => _capacity;

    /// <summary>
    /// Tells the owner, after it closed windows or sessions, whether to move the live slots down (<see cref="Compact"/>) so memory
    /// goes back: yes when more than 4,096 slots exist and a quarter or less of them were in use at every moment since the
    /// previous close that released groups (the peak of that period, not only now). So a burst (one window with many groups)
    /// is given back at the next close after it, while a periodic load keeps its columns: a tumbling window's groups all close
    /// together and the next window fills the same slots again, which once cost a shrink and eight doublings every window.
    /// Call it once per close; a call with no group released since the previous one says no and keeps the period running.
    /// </summary>
    public bool ShouldCompactAfterClose()
    {
        if (!_releasedSinceCheck)
        {
            return false;
        }

        bool compact = _capacity > MinimumCapacity * 64 && _peak * 4 <= _capacity;
        _releasedSinceCheck = false;
        _peak = Live;
        return compact;
    }

    private const int MinimumCapacity = 64;

    // The most slots in use at once since the last close that released groups, and whether one has been released since.
    private int _peak;
    private bool _releasedSinceCheck;

    public int Allocate()
    {
        if (!_free.TryPop(out int slot))
        {
            if (_next == _capacity)
            {
                Grow(Math.Max(MinimumCapacity, _capacity * 2));
            }

            slot = _next++;
        }

        int live = _next - _free.Count;
        if (live > _peak)
        {
            _peak = live;
        }

        return slot;
    }

    public void Release(int slot)
    {
        foreach (var column in _columns)
        {
            column.Clear(slot);
        }

        _free.Push(slot);
        _releasedSinceCheck = true;
    }

    /// <summary>
    /// Renumbers the live slots 0, 1, 2... and shrinks the columns to fit them: <paramref name="live"/> lists every live slot in the
    /// order its owner will renumber them (the i-th becomes slot i). Boxes each live state once; runs only when <see cref="ShouldCompactAfterClose"/> says so.
    /// </summary>
    public void Compact(List<int> live)
    {
        var states = new object?[live.Count][];
        for (int i = 0; i < live.Count; i++)
        {
            var state = new object?[_columns.Length];
            for (int c = 0; c < _columns.Length; c++)
            {
                state[c] = _columns[c].CaptureSlot(live[i]);
                _columns[c].Clear(live[i]);
            }

            states[i] = state;
        }

        _free.Clear();
        _free.TrimExcess();
        _next = live.Count;
        _peak = live.Count;
        _releasedSinceCheck = false;
        int capacity = MinimumCapacity;
        while (capacity < live.Count * 2)
        {
            capacity *= 2;
        }

        // Array.Resize down keeps slots below the new capacity, which are all cleared (freed slots are cleared on Release).
        Grow(capacity);
        for (int i = 0; i < states.Length; i++)
        {
            for (int c = 0; c < _columns.Length; c++)
            {
                _columns[c].RestoreSlot(i, states[i][c]);
            }
        }
    }

    /// <summary>
    /// At the end of a run: when no slot is live, gives the columns' arrays back to the shared array pool
    /// (<see cref="AggregateColumn{T}.Release"/>) so the next run of a query in the process reuses them; the allocator is then
    /// empty and grows again if used. With live slots (a run that stopped early) it does nothing: they stay for the collector.
    /// </summary>
    /// <returns><see langword="true"/> when the columns were released.</returns>
    public bool Release()
    {
        if (Live != 0)
        {
            return false;
        }

        foreach (var column in _columns)
        {
            column.Release();
        }

        _free.Clear();
        _next = 0;
        _capacity = 0;
        _peak = 0;
        _releasedSinceCheck = false;
        return true;
    }

    private void Grow(int capacity)
    {
        _capacity = capacity;
        foreach (var column in _columns)
        {
            column.Grow(capacity);
        }
    }
}

/// <summary>The list of live slots that <see cref="SlotAllocator{T}.Compact"/> takes, built by the slots' owner in its own order.</summary>
internal static class LiveSlots
{
    /// <summary>Records <paramref name="slot"/> as the next live slot and returns its number after compaction.</summary>
    public static int Keep(List<int> live, int slot)
    {
        live.Add(slot);
        return live.Count - 1;
    }
}
