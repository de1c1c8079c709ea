using System.Numerics;
using System.Runtime.CompilerServices;
using LinqStream.Physical.Kernels;
using LinqStream.Runtime.Tables;

namespace LinqStream.Physical.Aggregate;

/// <summary>
/// <c>Sum(f)</c> and <c>Average(f)</c> over <see cref="int"/> or <see cref="long"/> values: an exact <see cref="Int128"/> sum plus
/// the lowest and highest running sum, so that the window says, when it is emitted, whether LINQ-to-objects' checked addition
/// in event order would have overflowed its accumulator (<typeparamref name="TValue"/> for <c>Sum</c>, <see cref="long"/> for
/// <c>Average</c>). Merging panes keeps that answer exact: a pane's running sums shift by the sum of the panes before it.
/// </summary>
internal sealed class IntegerSumColumn<T, TValue> : ValueAggregateColumn<T, TValue>
    where TValue : struct, IBinaryInteger<TValue>, IMinMaxValue<TValue>
{
    private readonly Int128 _lowest;
    private readonly Int128 _highest;
    private Int128[] _sums = [];
    private Int128[] _lows = [];
    private Int128[] _highs = [];
    private long[] _counts = [];

    public IntegerSumColumn(string description, AggregateInput input, bool average, KernelCompiler kernels)
        : base(description, input, kernels)
    {
        // LINQ's Average over int or long adds in a checked long; its Sum adds in the element type.
        _lowest = average ? long.MinValue : Int128.CreateTruncating(TValue.MinValue);
        _highest = average ? long.MaxValue : Int128.CreateTruncating(TValue.MaxValue);
    }

    public override void Grow(int capacity)
    {
        PooledArrays.ResizeCleared(ref _sums, capacity);
        PooledArrays.ResizeCleared(ref _lows, capacity);
        PooledArrays.ResizeCleared(ref _highs, capacity);
        PooledArrays.ResizeCleared(ref _counts, capacity);
    }

    public override void Release()
    {
        PooledArrays.ReleaseColumn(ref _sums);
        PooledArrays.ReleaseColumn(ref _lows);
        PooledArrays.ReleaseColumn(ref _highs);
        PooledArrays.ReleaseColumn(ref _counts);
    }

    public override void Accumulate(int[] slots, int count)
    {
        var include = Include;
        var values = Values;
        var sums = _sums;
        var lows = _lows;
        var highs = _highs;
        var counts = _counts;
        for (int i = 0; i < count; i++)
        {
            int s = slots[i];
            if (s >= 0 && include[i])
            {
                var sum = sums[s] + Int128.CreateTruncating(values[i]);
                sums[s] = sum;
                if (sum < lows[s])
                {
                    lows[s] = sum;
                }
                else if (sum > highs[s])
                {
                    highs[s] = sum;
                }

                counts[s]++;
            }
        }
    }

    public override void Clear(int slot)
    {
        _sums[slot] = Int128.Zero;
        _lows[slot] = Int128.Zero;
        _highs[slot] = Int128.Zero;
        _counts[slot] = 0;
    }

    public override Type SlotType => typeof((Int128, Int128, Int128, long));

    public override object? CaptureSlot(int slot) => (_sums[slot], _lows[slot], _highs[slot], _counts[slot]);

    public override bool CaptureIsACopy => true;

    public override void RestoreSlot(int slot, object? state) =>
        (_sums[slot], _lows[slot], _highs[slot], _counts[slot]) = ((Int128, Int128, Int128, long))state!;

    public override void CopySlot(int source, int target)
    {
        _sums[target] = _sums[source];
        _lows[target] = _lows[source];
        _highs[target] = _highs[source];
        _counts[target] = _counts[source];
    }

    public override bool CanMerge => true;

    public override void Merge(int target, int source)
    {
        var before = _sums[target];
        _lows[target] = Int128.Min(_lows[target], before + _lows[source]);
        _highs[target] = Int128.Max(_highs[target], before + _highs[source]);
        _sums[target] = before + _sums[source];
        _counts[target] += _counts[source];
    }

    public TValue Result(int slot)
    {
        Check(slot);
        return TValue.CreateTruncating(_sums[slot]);
    }

    public double ResultDouble(int slot)
    {
        if (_counts[slot] == 0)
        {
            throw AggregateErrors.NoElements();
        }

        Check(slot);
        return (double)(long)_sums[slot] / _counts[slot];
    }

    public double? ResultDoubleOrNull(int slot) => _counts[slot] == 0 ? null : ResultDouble(slot);

    private void Check(int slot)
    {
        if (_lows[slot] < _lowest || _highs[slot] > _highest)
        {
            throw new OverflowException(Internal.Strings.SumOverflowed(typeof(TValue).Name));
        }
    }
}

/// <summary>
/// <c>Sum(f)</c> and <c>Average(f)</c> over <see cref="float"/>, <see cref="double"/> or <see cref="decimal"/> values, added one event
/// at a time in event order exactly as LINQ-to-objects adds them: float and double in <see cref="double"/> (a sum from 0, an
/// average from its first value), decimal in decimal (an overflow is remembered and raised when the window is emitted).
/// </summary>
/// <remarks>Not mergeable: rounding depends on the order of additions, so hopping windows fold each event into every window that
/// holds it instead of merging panes.</remarks>
internal sealed class OrderedSumColumn<T, TValue, TAcc> : ValueAggregateColumn<T, TValue>
    where TValue : struct, INumber<TValue>
    where TAcc : struct, INumber<TAcc>
{
    private readonly bool _average;
    private TAcc[] _sums = [];
    private long[] _counts = [];
    private bool[] _overflowed = [];

    public OrderedSumColumn(string description, AggregateInput input, bool average, KernelCompiler kernels)
        : base(description, input, kernels) => _average = average;

    public override void Grow(int capacity)
    {
        PooledArrays.ResizeCleared(ref _sums, capacity);
        PooledArrays.ResizeCleared(ref _counts, capacity);
        PooledArrays.ResizeCleared(ref _overflowed, capacity);
    }

    public override void Release()
    {
        PooledArrays.ReleaseColumn(ref _sums);
        PooledArrays.ReleaseColumn(ref _counts);
        PooledArrays.ReleaseColumn(ref _overflowed);
    }

    public override void Accumulate(int[] slots, int count)
    {
        var include = Include;
        var values = Values;
        var sums = _sums;
        var counts = _counts;
        bool average = _average;
        for (int i = 0; i < count; i++)
        {
            int s = slots[i];
            if (s < 0 || !include[i])
            {
                continue;
            }

            var v = TAcc.CreateTruncating(values[i]);
            if (average && counts[s] == 0)
            {
                sums[s] = v; // LINQ's Average starts from the first value (so the average of [-0.0] is -0.0).
            }
            else if (typeof(TAcc) == typeof(decimal))
            {
                if (!TryAdd(ref Unsafe.As<TAcc, decimal>(ref sums[s]), Unsafe.As<TAcc, decimal>(ref v)))
                {
                    _overflowed[s] = true;
                }
            }
            else
            {
                sums[s] += v;
            }

            counts[s]++;
        }
    }

    public override void Clear(int slot)
    {
        _sums[slot] = TAcc.Zero;
        _counts[slot] = 0;
        _overflowed[slot] = false;
    }

    public override Type SlotType => typeof((TAcc, long, bool));

    public override object? CaptureSlot(int slot) => (_sums[slot], _counts[slot], _overflowed[slot]);

    public override bool CaptureIsACopy => !System.Runtime.CompilerServices.RuntimeHelpers.IsReferenceOrContainsReferences<TAcc>();

    public override void RestoreSlot(int slot, object? state) => (_sums[slot], _counts[slot], _overflowed[slot]) = ((TAcc, long, bool))state!;

    public override void CopySlot(int source, int target)
    {
        _sums[target] = _sums[source];
        _counts[target] = _counts[source];
        _overflowed[target] = _overflowed[source];
    }

    public TAcc Result(int slot)
    {
        Check(slot);
        return _sums[slot];
    }

    public float ResultSingle(int slot) => (float)double.CreateTruncating(Result(slot));

    public double ResultAverageDouble(int slot) => double.CreateTruncating(Result(NonEmpty(slot))) / _counts[slot];

    public double? ResultAverageDoubleOrNull(int slot) => _counts[slot] == 0 ? null : ResultAverageDouble(slot);

    public float ResultAverageSingle(int slot) => (float)ResultAverageDouble(slot);

    public float? ResultAverageSingleOrNull(int slot) => _counts[slot] == 0 ? null : ResultAverageSingle(slot);

    public decimal ResultAverageDecimal(int slot) => decimal.CreateTruncating(Result(NonEmpty(slot))) / _counts[slot];

    public decimal? ResultAverageDecimalOrNull(int slot) => _counts[slot] == 0 ? null : ResultAverageDecimal(slot);

    private int NonEmpty(int slot) => _counts[slot] == 0 ? throw AggregateErrors.NoElements() : slot;

    private void Check(int slot)
    {
        if (_overflowed[slot])
        {
            throw new OverflowException(Internal.Strings.SumOverflowed(typeof(TValue).Name));
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool TryAdd(ref decimal sum, decimal value)
    {
        try
        {
            sum += value;
            return true;
        }
        catch (OverflowException)
        {
            return false;
        }
    }
}

/// <summary>The exceptions aggregates raise as LINQ-to-objects does.</summary>
internal static class AggregateErrors
{
    public static InvalidOperationException NoElements() => new(Internal.Strings.AggregateOfEmptyGroup());
}
