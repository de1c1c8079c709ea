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
        Grow(64);
    }

    /// <summary>Gets the number of slots in use (the live groups).</summary>
    public int Live => _next - _free.Count;

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

    private void Grow(int capacity)
    {
        _capacity = capacity;
        foreach (var column in _columns)
        {
            column.Grow(capacity);
        }
    }
}
