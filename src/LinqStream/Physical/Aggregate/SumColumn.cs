using System.Numerics;

namespace LinqStream.Physical.Aggregate;

/// <summary><c>Sum(f)</c> with the element type's own overflow rule (checked, as LINQ-to-objects).</summary>
internal sealed class SumColumn<T, TValue> : ValueAggregateColumn<T, TValue>
    where TValue : struct, INumber<TValue>
{
    private TValue[] _sums = [];

    public SumColumn(string description, AggregateInput input)
        : base(description, input)
    {
    }

    public override void Grow(int capacity) => Array.Resize(ref _sums, capacity);

    public override void Accumulate(int[] slots, int count)
    {
        var include = Include;
        var values = Values;
        var sums = _sums;
        for (int i = 0; i < count; i++)
        {
            int s = slots[i];
            if (s >= 0 && include[i])
            {
                sums[s] = checked(sums[s] + values[i]);
            }
        }
    }

    public override void Clear(int slot) => _sums[slot] = TValue.Zero;

    public override Type SlotType => typeof(TValue);

    public override object? CaptureSlot(int slot) => _sums[slot];

    public override void RestoreSlot(int slot, object? state) => _sums[slot] = (TValue)state!;

    public override bool CanMerge => true;

    public override void Merge(int target, int source) => _sums[target] = checked(_sums[target] + _sums[source]);

    public TValue Result(int slot) => _sums[slot];
}

/// <summary><c>Average(f)</c>: a sum in <typeparamref name="TAcc"/> and a count, divided as LINQ-to-objects does.</summary>
internal sealed class AverageColumn<T, TValue, TAcc> : ValueAggregateColumn<T, TValue>
    where TValue : struct, INumber<TValue>
    where TAcc : struct, INumber<TAcc>
{
    private TAcc[] _sums = [];
    private long[] _counts = [];

    public AverageColumn(string description, AggregateInput input)
        : base(description, input)
    {
    }

    public override void Grow(int capacity)
    {
        Array.Resize(ref _sums, capacity);
        Array.Resize(ref _counts, capacity);
    }

    public override void Accumulate(int[] slots, int count)
    {
        var include = Include;
        var values = Values;
        var sums = _sums;
        var counts = _counts;
        for (int i = 0; i < count; i++)
        {
            int s = slots[i];
            if (s >= 0 && include[i])
            {
                sums[s] = checked(sums[s] + TAcc.CreateTruncating(values[i]));
                counts[s]++;
            }
        }
    }

    public override void Clear(int slot)
    {
        _sums[slot] = TAcc.Zero;
        _counts[slot] = 0;
    }

    public override Type SlotType => typeof((TAcc, long));

    public override object? CaptureSlot(int slot) => (_sums[slot], _counts[slot]);

    public override void RestoreSlot(int slot, object? state) => (_sums[slot], _counts[slot]) = ((TAcc, long))state!;

    public override bool CanMerge => true;

    public override void Merge(int target, int source)
    {
        _sums[target] = checked(_sums[target] + _sums[source]);
        _counts[target] += _counts[source];
    }

    public double ResultDouble(int slot) => double.CreateTruncating(_sums[slot]) / _counts[slot];

    public float ResultSingle(int slot) => (float)(double.CreateTruncating(_sums[slot]) / _counts[slot]);

    public decimal ResultDecimal(int slot) => decimal.CreateTruncating(_sums[slot]) / _counts[slot];
}
