using LinqStream.Runtime;

namespace LinqStream.Physical.Windows;

/// <summary>
/// When the aggregate's only consumer is an arg-max step (<see cref="ArgMax.IWindowMaximumInput{T}"/>: NEXMark q5's counts feeding
/// <c>WindowArgMax</c> at parallelism 1, or a task's local step <c>TaskArgMax</c> at parallelism &gt; 1), a closing window passes on
/// only its results at the window's maximum value, in the order it would have emitted them: the step then sees the same maximum and
/// keeps the same results in the same order, and the window's other groups are neither sorted into key order nor sent (issues #16
/// and #19; docs/parallelism.md, "Only the maximum is sorted").
/// </summary>
/// <remarks>
/// Every group takes part in the maximum, the null key's and the whole window's too: one below the maximum is left out like any
/// other (the step would drop it), so what comes out is exactly the window's results at its maximum, in emission order.
/// </remarks>
internal sealed partial class FixedWindowAggregateOperator<T, TKey, TResult>
{
    /// <summary>Results whose values are computed with one call of the arg-max's kernel.</summary>
    private const int ValueChunk = 256;

    private readonly ArgMax.IWindowMaximumInput<TResult>? _maximum;
    private TResult[] _chunk = []; // allocated at the first window this step takes
    private long[] _chunkValues = [];
    private TKey[] _chunkKeys = [];
    private bool[] _chunkKeyed = [];
    private int _chunkCount;
    private TResult[] _tied = [];
    private TKey[] _tiedKeys = [];
    private bool[] _tiedKeyed = [];
    private int _tiedCount;
    private long _max;

    /// <summary>Gets the number of windows that passed on only their results at the maximum (tests).</summary>
    internal long WindowsCutToMaximum { get; private set; }

    /// <summary>
    /// Builds every group's result (the null key's, the whole window's, then the keyed ones in table order), computes the arg-max's
    /// value of each with its own kernel (a chunk of results per call), keeps those at the running maximum, and emits them: the
    /// unkeyed ones first, then the keyed ones in stable key order, as <see cref="EmitWindow"/> orders them. Then frees every group's
    /// slot. Each result is built once; what is held is a chunk and the results at the maximum, not the window.
    /// </summary>
    /// <returns>
    /// <see langword="false"/> when a result or a value threw (any exception): nothing was emitted or freed, and the window goes the
    /// ordinary way, which reports the failure exactly as without the cut (the result selector in key order, for the key parallelism 1
    /// meets it for, under the query's error policy; the value in the step).
    /// </returns>
    private bool TryEmitMaximum(ref EventBatch<TResult>? output, OpenWindow window, int nullSlot, int singleSlot, Dictionary<TKey, int> groups)
    {
        long start = window.Start, end = window.End;
        if (_chunk.Length == 0)
        {
            _chunk = new TResult[ValueChunk];
            _chunkValues = new long[ValueChunk];
            _chunkKeys = new TKey[ValueChunk];
            _chunkKeyed = new bool[ValueChunk];
            _tied = new TResult[16];
            _tiedKeys = new TKey[16];
            _tiedKeyed = new bool[16];
        }

        _chunkCount = 0;
        _tiedCount = 0;
        try
        {
            if (nullSlot >= 0)
            {
                AddCandidate(default!, keyed: false, Plan.Result(default!, start, end, nullSlot));
            }

            if (singleSlot >= 0)
            {
                AddCandidate(default!, keyed: false, Plan.Result(default!, start, end, singleSlot));
            }

            foreach (var (key, slot) in groups)
            {
                AddCandidate(key, keyed: true, Plan.Result(key, start, end, slot));
            }

            TakeChunk();
        }
        catch (Exception)
        {
            ClearCandidates();
            return false;
        }

        // The unkeyed groups at the maximum come first (they were added first), then the keyed ones in stable key order.
        var order = _keyOrder;
        order.Clear();
        for (int i = 0; i < _tiedCount; i++)
        {
            if (_tiedKeyed[i])
            {
                order.Add(_tiedKeys[i], i);
            }
            else
            {
                Append(ref output, _tied[i], start, end);
            }
        }

        order.Sort();
        for (int j = 0; j < order.Count; j++)
        {
            Append(ref output, _tied[order.SlotAt(j)], start, end);
        }

        order.Clear();
        ClearCandidates();
        if (nullSlot >= 0)
        {
            Slots.Release(nullSlot);
        }

        if (singleSlot >= 0)
        {
            Slots.Release(singleSlot);
        }

        foreach (var slot in groups.Values)
        {
            Slots.Release(slot);
        }

        WindowsCutToMaximum++;
        return true;
    }

    /// <summary>Gives back the held arrays after a burst (<see cref="Compact"/>): the next window that is cut allocates them again.</summary>
    private void TrimMaximum()
    {
        _chunk = [];
        _chunkValues = [];
        _chunkKeys = [];
        _chunkKeyed = [];
        _tied = [];
        _tiedKeys = [];
        _tiedKeyed = [];
    }

    private void AddCandidate(TKey key, bool keyed, TResult result)
    {
        int n = _chunkCount;
        _chunk[n] = result;
        _chunkKeys[n] = key;
        _chunkKeyed[n] = keyed;
        _chunkCount = n + 1;
        if (n + 1 == ValueChunk)
        {
            TakeChunk();
        }
    }

    /// <summary>Computes the chunk's values (one kernel call) and keeps its results at the running maximum, in order.</summary>
    private void TakeChunk()
    {
        int count = _chunkCount;
        if (count == 0)
        {
            return;
        }

        _maximum!.ComputeValues(_chunk, null, _chunkValues, count);
        var values = _chunkValues;
        for (int i = 0; i < count; i++)
        {
            long v = values[i];
            if (_tiedCount == 0 || v > _max)
            {
                ClearTied();
                _max = v;
            }
            else if (v != _max)
            {
                continue;
            }

            if (_tiedCount == _tied.Length)
            {
                Array.Resize(ref _tied, _tiedCount * 2);
                Array.Resize(ref _tiedKeys, _tiedCount * 2);
                Array.Resize(ref _tiedKeyed, _tiedCount * 2);
            }

            _tied[_tiedCount] = _chunk[i];
            _tiedKeys[_tiedCount] = _chunkKeys[i];
            _tiedKeyed[_tiedCount] = _chunkKeyed[i];
            _tiedCount++;
        }

        ClearChunk();
    }

    private void ClearCandidates()
    {
        ClearChunk();
        ClearTied();
    }

    private void ClearChunk()
    {
        ClearReferences(_chunk, _chunkKeys, _chunkCount);
        _chunkCount = 0;
    }

    private void ClearTied()
    {
        ClearReferences(_tied, _tiedKeys, _tiedCount);
        _tiedCount = 0;
    }

    /// <summary>Drops the references the first <paramref name="count"/> results and keys hold (either may be objects).</summary>
    private static void ClearReferences(TResult[] results, TKey[] keys, int count)
    {
        if (System.Runtime.CompilerServices.RuntimeHelpers.IsReferenceOrContainsReferences<TResult>())
        {
            Array.Clear(results, 0, count);
        }

        if (System.Runtime.CompilerServices.RuntimeHelpers.IsReferenceOrContainsReferences<TKey>())
        {
            Array.Clear(keys, 0, count);
        }
    }
}
