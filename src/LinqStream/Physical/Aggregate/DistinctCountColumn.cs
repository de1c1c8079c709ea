using LinqStream.Physical.Kernels;
namespace LinqStream.Physical.Aggregate;

/// <summary><c>Select(f).Distinct().Count()</c>: a set of values per slot (sets are reused after a window closes).</summary>
internal sealed class DistinctCountColumn<T, TValue> : ValueAggregateColumn<T, TValue>
{
    private HashSet<TValue>?[] _sets = [];
    private readonly Stack<HashSet<TValue>> _free = new();

    public DistinctCountColumn(string description, AggregateInput input, KernelCompiler kernels)
        : base(description, input, kernels)
    {
    }

    public override void Grow(int capacity) => Array.Resize(ref _sets, capacity);

    public override void Accumulate(int[] slots, int count)
    {
        var include = Include;
        var values = Values;
        var sets = _sets;
        for (int i = 0; i < count; i++)
        {
            int s = slots[i];
            if (s >= 0 && include[i])
            {
                (sets[s] ??= _free.Count > 0 ? _free.Pop() : new HashSet<TValue>()).Add(values[i]);
            }
        }
    }

    public override void Clear(int slot)
    {
        var set = _sets[slot];
        if (set is not null)
        {
            set.Clear();
            _free.Push(set);
            _sets[slot] = null;
        }
    }

    public override Type SlotType => typeof(TValue[]);

    public override object? CaptureSlot(int slot) => _sets[slot]?.ToArray() ?? [];

    public override bool CaptureIsACopy => true;

    public override void RestoreSlot(int slot, object? state)
    {
        var values = (TValue[])state!;
        if (values.Length > 0)
        {
            _sets[slot] = new HashSet<TValue>(values);
        }
    }

    public override bool CanMerge => true;

    public override void Merge(int target, int source)
    {
        var from = _sets[source];
        if (from is not null)
        {
            (_sets[target] ??= _free.Count > 0 ? _free.Pop() : new HashSet<TValue>()).UnionWith(from);
        }
    }

    public int Result(int slot) => _sets[slot]?.Count ?? 0;
}
