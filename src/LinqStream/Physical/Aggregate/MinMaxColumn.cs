using System.Runtime.CompilerServices;
using LinqStream.Physical.Kernels;
using LinqStream.Runtime.Tables;
namespace LinqStream.Physical.Aggregate;

/// <summary><c>Min(f)</c> or <c>Max(f)</c>: the best value per slot (windows only grow, so no retraction is needed).</summary>
internal sealed class MinMaxColumn<T, TValue> : ValueAggregateColumn<T, TValue>
{
    private readonly bool _max;
    private TValue[] _best = [];
    private bool[] _has = [];

    public MinMaxColumn(string description, AggregateInput input, bool max, KernelCompiler kernels)
        : base(description, input, kernels) => _max = max;

    public override void Grow(int capacity)
    {
        PooledArrays.ResizeCleared(ref _best, capacity);
        PooledArrays.ResizeCleared(ref _has, capacity);
    }

    public override void Release()
    {
        PooledArrays.ReleaseColumn(ref _best);
        PooledArrays.ReleaseColumn(ref _has);
    }

    public override void Accumulate(int[] slots, int count)
    {
        var include = Include;
        var values = Values;
        var best = _best;
        var has = _has;
        var comparer = Comparer<TValue>.Default;
        for (int i = 0; i < count; i++)
        {
            int s = slots[i];
            if (s < 0 || !include[i])
            {
                continue;
            }

            var v = values[i];
            if (v is null)
            {
                continue; // LINQ's Min/Max skip nulls.
            }

            if (!has[s])
            {
                best[s] = v;
                has[s] = true;
            }
            else
            {
                int c = comparer.Compare(v, best[s]);
                if (_max ? c > 0 : c < 0)
                {
                    best[s] = v;
                }
            }
        }
    }

    public override void Clear(int slot)
    {
        _best[slot] = default!;
        _has[slot] = false;
    }

    public override Type SlotType => typeof((TValue, bool));

    public override object? CaptureSlot(int slot) => (_best[slot], _has[slot]);

    // The best value is an input value (the engine never changes one).
    public override bool CaptureIsACopy => true;

    public override void RestoreSlot(int slot, object? state) => (_best[slot], _has[slot]) = ((TValue, bool))state!;

    public override void CopySlot(int source, int target)
    {
        _best[target] = _best[source];
        _has[target] = _has[source];
    }

    public override bool CanMerge => true;

    public override void Merge(int target, int source)
    {
        if (!_has[source])
        {
            return;
        }

        if (!_has[target])
        {
            _best[target] = _best[source];
            _has[target] = true;
            return;
        }

        int c = Comparer<TValue>.Default.Compare(_best[source], _best[target]);
        if (_max ? c > 0 : c < 0)
        {
            _best[target] = _best[source];
        }
    }

    /// <summary>
    /// Words per partial: the value's bytes (one or two words), then whether there is one. Only for values that compare equal
    /// only when they are the same (integers, enums, <see cref="char"/>, <see cref="Guid"/>...; not <see cref="double"/>, where
    /// 0.0 and -0.0 compare equal, nor <see cref="decimal"/>): then the best value does not depend on the order partials merge in.
    /// </summary>
    private static readonly int s_valueWords = Parallel.TwoPhase.ExactTypes.IsExactValue(typeof(TValue))
        && !RuntimeHelpers.IsReferenceOrContainsReferences<TValue>() && Unsafe.SizeOf<TValue>() <= 2 * sizeof(long)
        ? (Unsafe.SizeOf<TValue>() + sizeof(long) - 1) / sizeof(long)
        : 0;

    public override int PartialWordCount => s_valueWords == 0 ? 0 : s_valueWords + 1;

    public override void ExportPartial(int slot, Span<long> words)
    {
        words[..s_valueWords].Clear();
        Unsafe.WriteUnaligned(ref Unsafe.As<long, byte>(ref words[0]), _best[slot]);
        words[s_valueWords] = _has[slot] ? 1 : 0;
    }

    public override void MergePartials(int[] slots, long[] words, int count)
    {
        int width = s_valueWords + 1;
        var best = _best;
        var has = _has;
        var comparer = Comparer<TValue>.Default;
        for (int i = 0; i < count; i++)
        {
            int s = slots[i];
            int at = i * width;
            if (s < 0 || words[at + s_valueWords] == 0)
            {
                continue;
            }

            var v = Unsafe.ReadUnaligned<TValue>(ref Unsafe.As<long, byte>(ref words[at]));
            if (!has[s])
            {
                best[s] = v;
                has[s] = true;
            }
            else
            {
                int c = comparer.Compare(v, best[s]);
                if (_max ? c > 0 : c < 0)
                {
                    best[s] = v;
                }
            }
        }
    }

    public TValue Result(int slot) => _has[slot] || default(TValue) is null ? _best[slot] : throw AggregateErrors.NoElements();
}
