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
    /// Gets a value indicating whether the columns are mostly empty (a quarter or less in use, and more than 4,096 slots): after a
    /// window with many groups closes, its operator moves the live slots down (<see cref="Compact"/>) so the memory goes back.
    /// </summary>
    public bool ShouldCompact => _capacity > MinimumCapacity * 64 && Live * 4 <= _capacity;

    private const int MinimumCapacity = 64;

    public int Allocate()
    {
        if (_free.TryPop(out int slot))
        {
            return slot;
        }

        if (_next == _capacity)
        {
            Grow(_capacity * 2);
        }

        return _next++;
    }

    public void Release(int slot)
    {
        foreach (var column in _columns)
        {
            column.Clear(slot);
        }

        _free.Push(slot);
    }

    /// <summary>
    /// Renumbers the live slots 0, 1, 2... and shrinks the columns to fit them: <paramref name="live"/> lists every live slot in the
    /// order its owner will renumber them (the i-th becomes slot i). Boxes each live state once; runs only when <see cref="ShouldCompact"/>.
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
