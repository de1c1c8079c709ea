namespace LinqStream.Physical.Aggregate;

/// <summary>The fallback for a window expression with no incremental form: every event of the slot is kept until the window closes.</summary>
internal sealed class BufferColumn<T> : AggregateColumn<T>
{
    private List<T>?[] _lists = [];
    private readonly Stack<List<T>> _free = new();
    private T[] _payload = [];

    public BufferColumn(string description)
        : base(description)
    {
    }

    public override bool Buffers => true;

    public override void Grow(int capacity) => Array.Resize(ref _lists, capacity);

    public override void Prepare(Runtime.EventBatch<T> batch)
    {
        _payload = batch.Payload;
    }

    public override void Accumulate(int[] slots, int count)
    {
        for (int i = 0; i < count; i++)
        {
            int s = slots[i];
            if (s >= 0)
            {
                (_lists[s] ??= _free.Count > 0 ? _free.Pop() : []).Add(_payload[i]);
            }
        }
    }

    public override void Clear(int slot)
    {
        var list = _lists[slot];
        if (list is not null)
        {
            list.Clear();
            _free.Push(list);
            _lists[slot] = null;
        }
    }

    public override Type SlotType => typeof(T[]);

    public override object? CaptureSlot(int slot) => _lists[slot]?.ToArray() ?? [];

    public override bool CaptureIsACopy => true;

    public override void RestoreSlot(int slot, object? state)
    {
        var events = (T[])state!;
        if (events.Length > 0)
        {
            _lists[slot] = [.. events];
        }
    }

    public override bool CanMerge => true;

    public override void Merge(int target, int source)
    {
        var from = _lists[source];
        if (from is not null)
        {
            (_lists[target] ??= _free.Count > 0 ? _free.Pop() : []).AddRange(from);
        }
    }

    public WindowGroup<TKey, T> Group<TKey>(TKey key, long start, long end, int slot) =>
        new(key, new WindowBounds(start, end), _lists[slot]?.ToArray() ?? []);
}
