using System.Runtime.InteropServices;
using LinqStream.Physical.Aggregate;
using LinqStream.Physical.Windows;
using LinqStream.Runtime;
using LinqStream.Runtime.Checkpoints;
using LinqStream.Runtime.Tables;
using LinqStream.Temporal;

namespace LinqStream.Parallel.TwoPhase;

/// <summary>
/// The first phase of a two-phase window aggregate, on a source task: folds each event into its (pane, key) group in a local
/// table and ships each group as one <see cref="PartialGroup{TKey, TWords}"/> when the watermark passes the pane's end, when the table
/// holds more than <see cref="TableLimit"/> groups, or at a checkpoint barrier (then the table is empty, so it has no state in
/// a checkpoint). A pane is the window for tumbling windows and one hop for hopping windows built from panes.
/// </summary>
/// <remarks>
/// Per batch: the key kernel and each aggregate's input kernel once (as at parallelism 1), then a table lookup per event and one
/// fold loop per aggregate. Per group shipped: one call of the export delegate. The output watermark is the start of the pane
/// that holds the input watermark: every later group starts there or later, and the merging operator closes a window exactly
/// when parallelism 1's would (a window's end is a pane start).
/// Key selector and aggregate input failures are handled as at parallelism 1 (the base class), on this task.
/// </remarks>
internal sealed class LocalAggregateOperator<T, TKey, TWords> : WindowAggregateOperator<T, TKey, PartialGroup<TKey, TWords>>, IFlushAtBarrier
    where TKey : notnull
    where TWords : struct
{
    /// <summary>The number of groups the local table holds before it ships them all (a bound on a source task's memory).</summary>
    internal const int TableLimit = 1 << 16;

    private readonly long _pane;
    private readonly List<LocalPane> _panes = [];
    private readonly Stack<LocalPane> _free = new();

    public LocalAggregateOperator(
        IStreamObserver<PartialGroup<TKey, TWords>> downstream,
        QueryContext context,
        WindowSpec window,
        Action<T[], ulong[]?, TKey[], int> keyKernel,
        AggregatePlan<T, TKey, PartialGroup<TKey, TWords>> plan,
        string description)
        : base(downstream, context, window, keyKernel, plan, description)
    {
        _pane = window.Hop;
        // Flushed at every barrier, so a checkpoint holds nothing of it: the checkpoint keeps parallelism 1's sections.
        context.Checkpointed.Remove(this);
    }

    /// <summary>Builds the plan of the local phase from the aggregate's own plan: the same columns, and a result that exports a group's accumulators.</summary>
    public static AggregatePlan<T, TKey, PartialGroup<TKey, TWords>> PlanOf<TResult>(AggregatePlan<T, TKey, TResult> plan)
    {
        var columns = plan.Columns;
        var offsets = new int[columns.Length];
        for (int c = 1; c < columns.Length; c++)
        {
            offsets[c] = offsets[c - 1] + columns[c - 1].PartialWordCount;
        }

        return new AggregatePlan<T, TKey, PartialGroup<TKey, TWords>>
        {
            Columns = columns,
            Result = (key, _, _, slot) =>
            {
                var group = new PartialGroup<TKey, TWords> { Key = key };
                var words = PartialGroup<TKey, TWords>.WordsOf(ref group);
                for (int c = 0; c < columns.Length; c++)
                {
                    columns[c].ExportPartial(slot, words.Slice(offsets[c], columns[c].PartialWordCount));
                }

                return group;
            },
            ResultExpression = plan.ResultExpression,
        };
    }

    /// <summary>Gets the number of groups in the local table now (tests).</summary>
    public int TableGroups => Slots.Live;

    public override string CheckpointName => "LocalAggregate";

    public override KeyGroupSlice WriteKeyGroups(int first, int end, int keyGroups) => throw NotCheckpointed();

    public override void ReadKeyGroups(KeyGroupedSection section, int first, int end) => throw NotCheckpointed();

    protected override void WriteWhole(BinaryWriter writer) => throw NotCheckpointed();

    protected override void ReadWhole(BinaryReader reader) => throw NotCheckpointed();

    private static InvalidOperationException NotCheckpointed() =>
        new("The local phase of a two-phase aggregate ships its groups at every checkpoint barrier; it has no state to write or read.");

    protected override void Accumulate(EventBatch<T> batch)
    {
        var start = batch.Start;
        var slots = SlotColumn;
        var keys = Keys;
        long paneStart = 0, paneEnd = 0;
        LocalPane? pane = null;
        TKey lastKey = default!;
        int lastSlot = -1; // the slot of lastKey in pane, or -1
        int count = batch.Count;
        for (int i = 0; i < count; i++)
        {
            if (batch.IsAbsent(i))
            {
                slots[i] = -1;
                continue;
            }

            long t = start[i];
            if (pane is null || t < paneStart || t >= paneEnd)
            {
                paneStart = Ticks.WindowStart(t, _pane);
                paneEnd = Ticks.SaturatingAdd(paneStart, _pane);
                pane = PaneAt(paneStart, paneEnd);
                lastSlot = -1;
            }

            // Runs of one key (NEXMark's bids: half go to the hot auction) reuse the previous event's slot in the same pane, which
            // stays its group's slot for the whole batch (nothing is shipped or freed within a batch): one key compare instead of a
            // table lookup, as parallelism 1's window aggregate does.
            var key = keys[i];
            if (lastSlot < 0 || !EqualityComparer<TKey>.Default.Equals(key, lastKey))
            {
                lastSlot = Lookup(pane, key);
                lastKey = key;
            }

            slots[i] = lastSlot;
        }

        FoldColumns(count);
        if (Slots.Live > TableLimit)
        {
            ShipAll();
        }
    }

    private int Lookup(LocalPane pane, TKey key)
    {
        if (key is null)
        {
            return pane.Null >= 0 ? pane.Null : pane.Null = Slots.Allocate();
        }

        ref int slot = ref CollectionsMarshal.GetValueRefOrAddDefault(pane.Slots, key, out bool exists);
        if (!exists)
        {
            slot = Slots.Allocate();
        }

        return slot;
    }

    private LocalPane PaneAt(long start, long end)
    {
        // Events come in start order, so the pane is nearly always the last one.
        int index = _panes.Count - 1;
        while (index >= 0 && _panes[index].Start > start)
        {
            index--;
        }

        if (index >= 0 && _panes[index].Start == start)
        {
            return _panes[index];
        }

        var pane = _free.Count > 0 ? _free.Pop() : new LocalPane();
        pane.Presize(_panes.Count > 0 ? _panes[^1].Slots.Count : 0);
        pane.Start = start;
        pane.End = end;
        _panes.Insert(index + 1, pane);
        return pane;
    }

    /// <summary>At the end of the run, every pane shipped: the free panes' key tables and the columns' arrays back to their pools.</summary>
    protected override void ReleaseTables()
    {
        if (_panes.Count != 0 || !Slots.Release())
        {
            return;
        }

        while (_free.TryPop(out var pane))
        {
            PooledDictionaries<TKey>.Return(pane.Slots);
            pane.Slots = null!; // not used again: the operator's run is over
        }
    }

    protected override void Close(long watermark)
    {
        EventBatch<PartialGroup<TKey, TWords>>? output = null;
        while (_panes.Count > 0 && _panes[0].End <= watermark)
        {
            Ship(ref output, _panes[0]);
            _panes.RemoveAt(0);
        }

        if (output is not null)
        {
            Downstream.OnBatch(output);
        }
    }

    protected override long OutputWatermark(long watermark) =>
        watermark is Ticks.Infinity or Ticks.MinusInfinity ? watermark : Math.Min(watermark, Ticks.WindowStart(watermark, _pane));

    /// <summary>Ships every group of the table (at a checkpoint barrier, on the source task's thread, between two steps).</summary>
    public void FlushAtBarrier()
    {
        if (!Faulted)
        {
            ShipAll();
        }
    }

    private void ShipAll()
    {
        EventBatch<PartialGroup<TKey, TWords>>? output = null;
        foreach (var pane in _panes)
        {
            Ship(ref output, pane);
        }

        _panes.Clear();
        if (output is not null)
        {
            Downstream.OnBatch(output);
        }
    }

    /// <summary>Appends one partial group per group of <paramref name="pane"/> (in table order: the merging task orders keys), frees the pane.</summary>
    private void Ship(ref EventBatch<PartialGroup<TKey, TWords>>? output, LocalPane pane)
    {
        if (pane.Null >= 0)
        {
            Emit(ref output, default!, pane.Start, pane.End, pane.Null, pane.Start, pane.End);
        }

        foreach (var (key, slot) in pane.Slots)
        {
            Emit(ref output, key, pane.Start, pane.End, slot, pane.Start, pane.End);
        }

        pane.Reset();
        _free.Push(pane);
    }

    private sealed class LocalPane
    {
        public long Start;
        public long End;
        public int Null = -1;

        /// <summary>The pane's key table: rented (<see cref="PooledDictionaries{TKey}"/>) and given back at the end of the run.</summary>
        public Dictionary<TKey, int> Slots = PooledDictionaries<TKey>.Rent();

        /// <summary>Sizes the table of a pane about to open for <paramref name="expected"/> keys (the newest open pane's): allocated once, not doubled up from empty.</summary>
        public void Presize(int expected) => Slots.EnsureCapacity(Math.Min(expected, TableLimit));

        public void Reset()
        {
            Null = -1;
            Slots.Clear();
            if (Slots.EnsureCapacity(0) > TableLimit)
            {
                Slots.TrimExcess();
            }
        }
    }
}

/// <summary>An operator on a source task (a two-phase local aggregate) or a task (a local step after the aggregate) that holds data it must send before a checkpoint barrier (it then has no state in the checkpoint).</summary>
internal interface IFlushAtBarrier
{
    /// <summary>Sends everything held downstream, on its task's thread, just before the barrier.</summary>
    void FlushAtBarrier();
}
