using LinqStream.Physical.Aggregate;
using LinqStream.Runtime;
using LinqStream.Runtime.Checkpoints;
using LinqStream.Temporal;

namespace LinqStream.Physical.Windows;

/// <summary>
/// What every window aggregate does the same way: per batch, compute keys and aggregate inputs once, let the window kind
/// assign slots and fold; per watermark, let it close what is complete, then forward the watermark it may promise.
/// User-code failures become stream errors; input batches always go back to the pool.
/// </summary>
internal abstract class WindowAggregateOperator<T, TKey, TResult> : UnaryOperator<T, TResult>, IKeyGroupedState, IDeferredCheckpointed, Runtime.State.IStateMeter
    where TKey : notnull
{
    private readonly BatchPool<T> _inputPool;
    private readonly BatchPool<TResult> _outputPool;
    private readonly string _description;
    private readonly UserCodeFailures _failures;

    protected WindowAggregateOperator(
        IStreamObserver<TResult> downstream,
        QueryContext context,
        WindowSpec window,
        Action<T[], ulong[]?, TKey[], int>? keyKernel,
        AggregatePlan<T, TKey, TResult> plan,
        string description)
        : base(downstream, context)
    {
        Window = window;
        KeyKernel = keyKernel;
        Plan = plan;
        Slots = new SlotAllocator<T>(plan.Columns);
        _inputPool = context.Pool<T>();
        _outputPool = context.Pool<TResult>();
        _description = description;
        _failures = new UserCodeFailures(context, "GroupBy/Select", description);
    }

    public abstract string CheckpointName { get; }

    /// <summary>Gets a value indicating whether the state is keyed, and so written per key group (at every parallelism, also 1).</summary>
    public bool IsKeyGrouped => KeyKernel is not null;

    public void WriteState(BinaryWriter writer)
    {
        if (!IsKeyGrouped)
        {
            WriteWhole(writer);
            return;
        }

        int groups = Context.Options.KeyGroups;
        KeyGroupedSection.Write(writer, groups, [WriteKeyGroups(0, groups, groups)]);
    }

    /// <summary>The keyed state's records now, its section when the slice is ready (a spilled aggregate's store checkpoint runs on).</summary>
    public DeferredSection? BeginWriteState()
    {
        if (!IsKeyGrouped)
        {
            return null;
        }

        int groups = Context.Options.KeyGroups;
        var slice = WriteKeyGroups(0, groups, groups);
        return new DeferredSection(slice.Ready, writer => KeyGroupedSection.Write(writer, groups, [slice]));
    }

    public void ReadState(BinaryReader reader)
    {
        if (!IsKeyGrouped)
        {
            ReadWhole(reader);
            return;
        }

        int groups = Context.Options.KeyGroups;
        ReadKeyGroups(KeyGroupedSection.Read(reader, groups, CheckpointName), 0, groups);
    }

    public abstract KeyGroupSlice WriteKeyGroups(int first, int end, int keyGroups);

    public abstract void ReadKeyGroups(KeyGroupedSection section, int first, int end);

    /// <summary>Writes the state of an aggregate with no key (one blob).</summary>
    protected abstract void WriteWhole(BinaryWriter writer);

    /// <summary>Reads what <see cref="WriteWhole"/> wrote.</summary>
    protected abstract void ReadWhole(BinaryReader reader);

    /// <summary>The key group of <paramref name="key"/> (null keys are in group 0, as the hash exchange routes them).</summary>
    protected static int KeyGroupOf(TKey key, int keyGroups) => Parallel.KeyGroups.Of(Parallel.StableKeyHash<TKey>.Hash(key), keyGroups);

    /// <summary>Reads the records of key groups [<paramref name="first"/>, <paramref name="end"/>) one at a time.</summary>
    protected static void ReadRecords(KeyGroupedSection section, int first, int end, Action<BinaryReader> readRecord)
    {
        for (int g = first; g < end; g++)
        {
            using var reader = new BinaryReader(new MemoryStream(section.Groups[g], writable: false));
            for (int i = 0; i < section.Counts[g]; i++)
            {
                readRecord(reader);
            }
        }
    }

    /// <summary>Gets the number of open groups: what the state holds now.</summary>
    public int LiveGroups => Slots.Live;

    /// <summary>Gets the number of open groups on the heap (progress reports).</summary>
    public long HeapGroups => Slots.Live;

    /// <summary>Gets the number of open groups spilled to a state store (none on the heap backend).</summary>
    public virtual long SpilledGroups => 0;

    /// <summary>Gets how many groups the aggregate columns have room for (it shrinks again after a window with many groups closes).</summary>
    public int GroupCapacity => Slots.Capacity;

    protected WindowSpec Window { get; }

    protected Action<T[], ulong[]?, TKey[], int>? KeyKernel { get; }

    protected AggregatePlan<T, TKey, TResult> Plan { get; }

    protected SlotAllocator<T> Slots { get; }

    /// <summary>Gets the keys of the current batch (valid for present events when <see cref="KeyKernel"/> is set).</summary>
    protected TKey[] Keys { get; private set; } = [];

    /// <summary>Gets the slot of each event of the current batch, filled by the window kind (-1: not folded).</summary>
    protected int[] SlotColumn { get; private set; } = [];

    /// <summary>Gets or sets the last watermark sent downstream.</summary>
    protected long LastWatermark { get; set; } = Ticks.MinusInfinity;

    public sealed override void OnBatch(EventBatch<T> batch)
    {
        if (Faulted)
        {
            _inputPool.Return(batch);
            return;
        }

        bool prepared = false;
        try
        {
            int count = batch.Count;
            if (SlotColumn.Length < count)
            {
                SlotColumn = new int[batch.Capacity];
                Keys = new TKey[batch.Capacity];
            }

            Prepare(batch);
            prepared = true;
            Accumulate(batch);
        }
        catch (Exception ex) when (!prepared && ex is not QueryExecutionException)
        {
            // A key selector or an aggregate's input threw, before any state changed: find the event(s) one at a time, then go on
            // without them (ErrorPolicy.SkipAndDeadLetter) or stop naming the first (ErrorPolicy.Fail).
            if (IsolateFailingEvents(batch))
            {
                try
                {
                    Prepare(batch);
                    Accumulate(batch);
                }
                catch (Exception again)
                {
                    Fail(again, "GroupBy/Select", _description);
                }
            }
        }
        catch (Exception ex)
        {
            Fail(ex, "GroupBy/Select", _description);
        }
        finally
        {
            _inputPool.Return(batch);
        }
    }

    private void Prepare(EventBatch<T> batch)
    {
        KeyKernel?.Invoke(batch.Payload, batch.Absent, Keys, batch.Count);
        foreach (var column in Plan.Columns)
        {
            column.Prepare(batch);
        }
    }

    /// <summary>Re-runs the key selector and the aggregates' inputs one event at a time, under the query's per-event error policy.</summary>
    /// <returns><see langword="true"/> when the failing events were marked absent and the batch may go on.</returns>
    private bool IsolateFailingEvents(EventBatch<T> batch)
    {
        var single = new EventBatch<T>(1);
        var key = new TKey[1];
        var stop = _failures.IsolateFailingEvents(batch, i =>
        {
            single.Reset();
            single.Add(batch.Start[i], batch.End[i], batch.Payload[i]);
            KeyKernel?.Invoke(single.Payload, single.Absent, key, 1);
            foreach (var column in Plan.Columns)
            {
                column.Prepare(single);
            }
        });
        if (stop is not null)
        {
            FailWith(stop);
            return false;
        }

        return true;
    }

    public sealed override void OnWatermark(long watermark)
    {
        if (Faulted)
        {
            return;
        }

        try
        {
            Close(watermark);
        }
        catch (QueryExecutionException ex)
        {
            FailWith(ex);
            return;
        }
        catch (Exception ex)
        {
            Fail(ex, "Select", Plan.ResultExpression.Value.ToString());
            return;
        }

        long output = OutputWatermark(watermark);
        if (output > LastWatermark)
        {
            LastWatermark = output;
            Downstream.OnWatermark(output);
        }
    }

    /// <summary>Completes downstream, then gives the run's tables back to their pools (<see cref="ReleaseTables"/>).</summary>
    public sealed override void OnCompleted()
    {
        if (Faulted)
        {
            return;
        }

        Downstream.OnCompleted();
        ReleaseTables();
    }

    /// <summary>
    /// At the end of the run (after completion was sent downstream): gives what the run grew back to the process's pools, so the
    /// next run of a query reuses it (the tumbling/hopping aggregate and the two-phase local one, whose state is all on the heap;
    /// nothing by default: a spilled aggregate's checkpoint cut may still read its columns). An operator whose state is not empty
    /// at the end (a stop before the end of the input) keeps it for the collector.
    /// </summary>
    protected virtual void ReleaseTables()
    {
    }

    /// <summary>Assigns <see cref="SlotColumn"/> for the batch and folds the prepared columns into it (once per window kind's pass).</summary>
    protected abstract void Accumulate(EventBatch<T> batch);

    /// <summary>Emits every group that the watermark completes and frees its slots.</summary>
    protected abstract void Close(long watermark);

    /// <summary>The watermark this operator may forward once the input's is <paramref name="watermark"/> and everything complete is out.</summary>
    protected virtual long OutputWatermark(long watermark) => watermark;

    /// <summary>Merges slot <paramref name="source"/>'s accumulators into <paramref name="target"/> (allocated, empty, when it is -1), as if
    /// target's events came first: a window built from panes, its panes oldest first.</summary>
    protected void MergeInto(ref int target, int source)
    {
        if (target < 0)
        {
            target = Slots.Allocate();
        }

        foreach (var column in Plan.Columns)
        {
            column.Merge(target, source);
        }
    }

    /// <summary>Merges a pane's keyed groups into a window's merged groups (<paramref name="merged"/>), key by key: a key's first pane
    /// into a fresh slot.</summary>
    protected void MergeGroups(Dictionary<TKey, int> merged, Dictionary<TKey, int> pane)
    {
        foreach (var (key, slot) in pane)
        {
            ref int target = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(merged, key, out bool exists);
            if (!exists)
            {
                target = -1;
            }

            MergeInto(ref target, slot);
        }
    }

    /// <summary>Folds the prepared columns into the slots of <see cref="SlotColumn"/>.</summary>
    protected void FoldColumns(int count)
    {
        foreach (var column in Plan.Columns)
        {
            column.Accumulate(SlotColumn, count);
        }
    }

    /// <summary>Builds the result of <paramref name="slot"/>, frees the slot (unless <paramref name="release"/> is false: a spilled
    /// aggregate's slot frozen by a checkpoint's cut is freed once the cut is written) and appends the result with lifetime [start, end).</summary>
    protected void Emit(ref EventBatch<TResult>? output, TKey key, long windowStart, long windowEnd, int slot, long start, long end, bool release = true)
    {
        TResult result;
        try
        {
            result = Plan.Result(key, windowStart, windowEnd, slot);
        }
        catch (Exception ex)
        {
            if (release)
            {
                Slots.Release(slot);
            }

            ResultFailed(ex, key, windowStart, windowEnd);
            return;
        }

        if (release)
        {
            Slots.Release(slot);
        }

        Append(ref output, result, start, end);
    }

    /// <summary>Appends a result built already, with lifetime [start, end) (a full batch goes downstream at once).</summary>
    protected void Append(ref EventBatch<TResult>? output, TResult result, long start, long end)
    {
        output ??= _outputPool.Rent();
        output.Add(start, end, result);
        if (output.IsFull)
        {
            Downstream.OnBatch(output);
            output = null;
        }
    }

    /// <summary>
    /// One window's result threw (an empty group's Average, Min or Max; an overflowing sum): dead-letter that window and key and go
    /// on under <see cref="ErrorPolicy.SkipAndDeadLetter"/>, or stop naming them under <see cref="ErrorPolicy.Fail"/>.
    /// </summary>
    private void ResultFailed(Exception error, TKey key, long windowStart, long windowEnd)
    {
        object? shownKey = key is NoKey ? "(the whole window)" : key;
        string message = Internal.Strings.WindowResultFailed(_description, windowStart, windowEnd, shownKey, error);
        if (_failures.SkipWindow(error, "Select", windowStart, shownKey, message) is { } stop)
        {
            throw stop;
        }
    }

    /// <summary>Copies one slot's accumulators out as plain data, one entry per aggregate column.</summary>
    protected object?[] CaptureAccumulators(int slot)
    {
        var states = new object?[Plan.Columns.Length];
        for (int c = 0; c < states.Length; c++)
        {
            states[c] = Plan.Columns[c].CaptureSlot(slot);
        }

        return states;
    }

    /// <summary>Writes a live slot's accumulators as <see cref="WriteAccumulators"/> would, without an array per group.</summary>
    protected void WriteSlot(BinaryWriter writer, int slot)
    {
        for (int c = 0; c < Plan.Columns.Length; c++)
        {
            StateCodec.Write(writer, Plan.Columns[c].CaptureSlot(slot), Plan.Columns[c].SlotType);
        }
    }

    /// <summary>Writes one group's accumulators, each as its column's slot type.</summary>
    protected void WriteAccumulators(BinaryWriter writer, object?[] accumulators)
    {
        for (int c = 0; c < Plan.Columns.Length; c++)
        {
            StateCodec.Write(writer, accumulators[c], Plan.Columns[c].SlotType);
        }
    }

    /// <summary>Reads what <see cref="WriteAccumulators"/> wrote.</summary>
    protected object?[] ReadAccumulators(BinaryReader reader)
    {
        var accumulators = new object?[Plan.Columns.Length];
        for (int c = 0; c < accumulators.Length; c++)
        {
            accumulators[c] = StateCodec.Read(reader, Plan.Columns[c].SlotType);
        }

        return accumulators;
    }

    /// <summary>Puts back what <see cref="CaptureAccumulators"/> gave into a newly allocated slot.</summary>
    protected int RestoreAccumulators(object?[] accumulators)
    {
        int slot = Slots.Allocate();
        for (int c = 0; c < Plan.Columns.Length; c++)
        {
            Plan.Columns[c].RestoreSlot(slot, accumulators[c]);
        }

        return slot;
    }
}
