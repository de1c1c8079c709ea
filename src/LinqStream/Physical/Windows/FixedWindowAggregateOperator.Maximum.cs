using LinqStream.Runtime;

namespace LinqStream.Physical.Windows;

/// <summary>
/// When the aggregate's only consumer is a window's arg-max (<see cref="ArgMax.IWindowMaximumInput{T}"/>: NEXMark q5's counts
/// feeding <c>WindowArgMax</c>), a closing window passes on only its results at the window's maximum value, in the order it would
/// have emitted them: the arg-max then sees the same maximum and keeps the same results in the same order, and the window's other
/// groups are neither sorted into key order nor sent (issue #19).
/// </summary>
internal sealed partial class FixedWindowAggregateOperator<T, TKey, TResult>
{
    private readonly ArgMax.IWindowMaximumInput<TResult>? _maximum;
    private TResult[] _results = [];
    private long[] _values = [];
    private TKey[] _resultKeys = [];
    private int[] _resultSlots = [];

    /// <summary>
    /// Builds every group's result (the null key's, the whole window's, then the keyed ones in table order), computes the arg-max's
    /// value of each with its own kernel, and emits those at the maximum: the null key's, the whole window's, then the keyed ones
    /// in stable key order, as <see cref="EmitWindow"/> orders them. Frees every group's slot.
    /// </summary>
    /// <returns>
    /// <see langword="false"/> when a result or a value threw: nothing was emitted or freed, and the window goes the ordinary way,
    /// which reports the failure exactly as without this step (the result selector in key order; the value in the arg-max).
    /// </returns>
    private bool TryEmitMaximum(ref EventBatch<TResult>? output, OpenWindow window, int nullSlot, int singleSlot, Dictionary<TKey, int> groups)
    {
        int count = groups.Count + (nullSlot >= 0 ? 1 : 0) + (singleSlot >= 0 ? 1 : 0);
        if (count == 0)
        {
            return true;
        }

        if (_results.Length < count)
        {
            int size = Math.Max(count, _results.Length * 2);
            _results = new TResult[size];
            _values = new long[size];
            _resultKeys = new TKey[size];
            _resultSlots = new int[size];
        }

        var results = _results;
        var keys = _resultKeys;
        var slots = _resultSlots;
        long start = window.Start, end = window.End;
        int n = 0;
        try
        {
            if (nullSlot >= 0)
            {
                keys[n] = default!;
                slots[n] = nullSlot;
                results[n++] = Plan.Result(default!, start, end, nullSlot);
            }

            if (singleSlot >= 0)
            {
                keys[n] = default!;
                slots[n] = singleSlot;
                results[n++] = Plan.Result(default!, start, end, singleSlot);
            }

            foreach (var (key, slot) in groups)
            {
                keys[n] = key;
                slots[n] = slot;
                results[n++] = Plan.Result(key, start, end, slot);
            }

            _maximum!.ComputeValues(results, null, _values, count);
        }
        catch (Exception ex) when (ex is not QueryExecutionException)
        {
            ClearScratch(n);
            return false;
        }

        var values = _values;
        long max = values[0];
        for (int i = 1; i < count; i++)
        {
            if (values[i] > max)
            {
                max = values[i];
            }
        }

        // The unkeyed groups come first (their order in EmitWindow), then the keyed ones at the maximum in stable key order.
        int unkeyed = (nullSlot >= 0 ? 1 : 0) + (singleSlot >= 0 ? 1 : 0);
        for (int i = 0; i < unkeyed; i++)
        {
            if (values[i] == max)
            {
                Append(ref output, results[i], start, end);
            }

            Slots.Release(slots[i]);
        }

        var order = _keyOrder;
        order.Clear();
        for (int i = unkeyed; i < count; i++)
        {
            if (values[i] == max)
            {
                order.Add(keys[i], i);
            }
            else
            {
                Slots.Release(slots[i]);
            }
        }

        order.Sort();
        for (int j = 0; j < order.Count; j++)
        {
            int i = order.SlotAt(j);
            Append(ref output, results[i], start, end);
            Slots.Release(slots[i]);
        }

        order.Clear();
        ClearScratch(count);
        return true;
    }

    /// <summary>Drops the references the scratch columns hold (results and keys may be objects).</summary>
    private void ClearScratch(int count)
    {
        if (System.Runtime.CompilerServices.RuntimeHelpers.IsReferenceOrContainsReferences<TResult>())
        {
            Array.Clear(_results, 0, count);
        }

        if (System.Runtime.CompilerServices.RuntimeHelpers.IsReferenceOrContainsReferences<TKey>())
        {
            Array.Clear(_resultKeys, 0, count);
        }
    }
}
