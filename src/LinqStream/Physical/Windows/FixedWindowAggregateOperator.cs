using System.Runtime.InteropServices;
using LinqStream.Physical.Aggregate;
using LinqStream.Runtime;
using LinqStream.Runtime.Checkpoints;
using LinqStream.Runtime.Tables;
using LinqStream.Temporal;

namespace LinqStream.Physical.Windows;

/// <summary>Tumbling and hopping window aggregation, per key: incremental aggregates per (window, key), freed when the watermark passes the window's end.</summary>
/// <remarks>
/// An event at <c>t</c> belongs to every window <c>[s, s + size)</c> with <c>s</c> aligned to the hop and <c>s &lt;= t &lt; s + size</c>.
/// A result lives <c>[windowStart, windowEnd)</c> and comes out when the watermark reaches the window's end, windows in order of
/// end. The output watermark is held at the start of the earliest window that can still produce a result.
/// </remarks>
internal sealed partial class FixedWindowAggregateOperator<T, TKey, TResult> : WindowAggregateOperator<T, TKey, TResult>
    where TKey : notnull
{
    private readonly List<OpenWindow> _windows = [];
    private readonly Stack<OpenWindow> _freeWindows = new();

    // Hopping windows whose size is a multiple of the hop are built from panes (tumbling windows of one hop): each event is
    // folded once, into its pane, and a window's result merges its panes when it closes. Otherwise each event is folded into
    // every window that holds it (Passes times).
    private readonly bool _usePanes;
    private readonly long _paneSize;
    private Dictionary<TKey, int> _merge; // a window's groups merged from its panes: rented only when panes are used
    private readonly Parallel.KeyOrder<TKey> _keyOrder = new();
    private readonly OpenWindow _bounds = new(rented: false); // a merged window's bounds as it is emitted (its table stays empty)
    private long _nextWindowStart = Ticks.MinusInfinity;

    public FixedWindowAggregateOperator(
        IStreamObserver<TResult> downstream,
        QueryContext context,
        WindowSpec window,
        Action<T[], ulong[]?, TKey[], int>? keyKernel,
        AggregatePlan<T, TKey, TResult> plan,
        string description)
        : base(downstream, context, window, keyKernel, plan, description)
    {
        _usePanes = window.Passes > 1 && window.Size % window.Hop == 0 && plan.Columns.All(c => c.CanMerge);
        _paneSize = _usePanes ? window.Hop : window.Size;
        _merge = _usePanes ? PooledDictionaries<TKey>.Rent() : [];
        _maximum = downstream as ArgMax.IWindowMaximumInput<TResult>;
    }

    /// <summary>Gets a value indicating whether windows are merged from one-hop panes.</summary>
    public bool UsesPanes => _usePanes;

    /// <summary>Gets the number of open windows.</summary>
    public int OpenWindows => _windows.Count;

    public override string CheckpointName => _usePanes ? "HoppingAggregate(panes)" : Window.Passes > 1 ? "HoppingAggregate" : "TumblingAggregate";

    protected override void WriteWhole(BinaryWriter writer)
    {
        // Written straight from the open windows (not through CaptureState), so a checkpoint holds no second copy of the state.
        int count = 0;
        foreach (var window in _windows)
        {
            count += window.Slots.Count + (window.Null >= 0 ? 1 : 0) + (window.Single >= 0 ? 1 : 0);
        }

        writer.Write(LastWatermark);
        writer.Write(_nextWindowStart);
        writer.Write(count);
        foreach (var window in _windows)
        {
            if (window.Null >= 0)
            {
                WriteGroup(writer, window, GroupKind.NullKey, default!, window.Null);
            }

            if (window.Single >= 0)
            {
                WriteGroup(writer, window, GroupKind.Whole, default!, window.Single);
            }

            foreach (var (key, slot) in window.Slots)
            {
                WriteGroup(writer, window, GroupKind.Keyed, key, slot);
            }
        }
    }

    public override KeyGroupSlice WriteKeyGroups(int first, int end, int keyGroups) => KeyGroupSlice.Build(
        first,
        end,
        header =>
        {
            header.Write(LastWatermark);
            header.Write(_nextWindowStart);
        },
        writerOf =>
        {
            foreach (var window in _windows)
            {
                if (window.Null >= 0)
                {
                    WriteGroup(writerOf(KeyGroupOf(default!, keyGroups)), window, GroupKind.NullKey, default!, window.Null);
                }

                foreach (var (key, slot) in window.Slots)
                {
                    WriteGroup(writerOf(KeyGroupOf(key, keyGroups)), window, GroupKind.Keyed, key, slot);
                }
            }
        });

    public override void ReadKeyGroups(KeyGroupedSection section, int first, int end)
    {
        // A task restored from several tasks' state takes the latest of their promises: they saw the same watermarks, and the
        // next window to close starts no earlier than any of them had got to (a window not yet out ends after the watermark).
        long watermark = Ticks.MinusInfinity, nextWindowStart = Ticks.MinusInfinity;
        foreach (var header in section.HeadersOver(first, end))
        {
            using var reader = new BinaryReader(new MemoryStream(header, writable: false));
            watermark = Math.Max(watermark, reader.ReadInt64());
            nextWindowStart = Math.Max(nextWindowStart, reader.ReadInt64());
        }

        var groups = new List<GroupState<TKey>>();
        ReadRecords(section, first, end, reader => groups.Add(ReadGroup(reader)));
        RestoreState(new WindowAggregateState<TKey>(groups, watermark) { NextWindowStart = nextWindowStart });
    }

    private void WriteGroup(BinaryWriter writer, OpenWindow window, GroupKind kind, TKey key, int slot)
    {
        writer.Write(window.Start);
        writer.Write(window.End);
        writer.Write((byte)kind);
        if (kind == GroupKind.Keyed)
        {
            StateCodec.Write(writer, key, typeof(TKey));
        }

        WriteSlot(writer, slot);
    }

    private GroupState<TKey> ReadGroup(BinaryReader reader)
    {
        long start = reader.ReadInt64();
        long end = reader.ReadInt64();
        var kind = (GroupKind)reader.ReadByte();
        var key = kind == GroupKind.Keyed ? (TKey)StateCodec.Read(reader, typeof(TKey))! : default!;
        return new GroupState<TKey>(start, end, key, kind, ReadAccumulators(reader));
    }

    protected override void ReadWhole(BinaryReader reader)
    {
        long watermark = reader.ReadInt64();
        long nextWindowStart = reader.ReadInt64();
        int count = reader.ReadInt32();
        var groups = new List<GroupState<TKey>>(Math.Min(count, 1 << 16));
        for (int i = 0; i < count; i++)
        {
            groups.Add(ReadGroup(reader));
        }

        RestoreState(new WindowAggregateState<TKey>(groups, watermark) { NextWindowStart = nextWindowStart });
    }

    /// <summary>Copies the open groups out as plain data.</summary>
    public WindowAggregateState<TKey> CaptureState()
    {
        var groups = new List<GroupState<TKey>>();
        foreach (var window in _windows)
        {
            if (window.Null >= 0)
            {
                groups.Add(new(window.Start, window.End, default!, GroupKind.NullKey, CaptureAccumulators(window.Null)));
            }

            if (window.Single >= 0)
            {
                groups.Add(new(window.Start, window.End, default!, GroupKind.Whole, CaptureAccumulators(window.Single)));
            }

            foreach (var (key, slot) in window.Slots)
            {
                groups.Add(new(window.Start, window.End, key, GroupKind.Keyed, CaptureAccumulators(slot)));
            }
        }

        return new WindowAggregateState<TKey>(groups, LastWatermark) { NextWindowStart = _nextWindowStart };
    }

    /// <summary>Loads state captured by <see cref="CaptureState"/> into this fresh operator.</summary>
    public void RestoreState(WindowAggregateState<TKey> state)
    {
        LastWatermark = state.Watermark;
        _nextWindowStart = state.NextWindowStart;
        foreach (var group in state.Groups)
        {
            var window = GetWindow(group.Start);
            int slot = RestoreAccumulators(group.Accumulators);
            switch (group.Kind)
            {
                case GroupKind.NullKey:
                    window.Null = slot;
                    break;
                case GroupKind.Whole:
                    window.Single = slot;
                    break;
                default:
                    window.Slots.Add(group.Key, slot);
                    break;
            }
        }
    }

    protected override void Accumulate(EventBatch<T> batch)
    {
        int passes = _usePanes ? 1 : Window.Passes;
        for (int pass = 0; pass < passes; pass++)
        {
            AssignSlots(batch, pass);
            FoldColumns(batch.Count);
        }
    }

    protected override long OutputWatermark(long watermark) =>
        watermark == Ticks.Infinity ? Ticks.Infinity : Math.Min(watermark, EarliestPossibleStart(watermark));

    /// <summary>Sets <c>slots[i]</c> to event i's group in its <paramref name="pass"/>-th newest window (-1 when none).</summary>
    private void AssignSlots(EventBatch<T> batch, int pass)
    {
        var start = batch.Start;
        var slots = SlotColumn;
        var keys = Keys;
        bool keyed = KeyKernel is not null;
        if (!keyed && pass == 0 && AssignOneWindow(batch))
        {
            return;
        }

        long hop = Window.Hop, size = _paneSize;
        long lastStart = long.MinValue, lastEnd = long.MinValue;
        OpenWindow? window = null;
        TKey lastKey = default!;
        int lastSlot = -1; // the slot of lastKey in window, or -1
        int count = batch.Count;
        for (int i = 0; i < count; i++)
        {
            if (batch.IsAbsent(i))
            {
                slots[i] = -1;
                continue;
            }

            long t = start[i];
            if (t < lastStart || t >= lastEnd)
            {
                lastStart = Ticks.WindowStart(t, hop);
                lastEnd = Ticks.SaturatingAdd(lastStart, hop);
            }

            long ws = pass == 0 ? lastStart : Ticks.SaturatingAdd(lastStart, -pass * hop);
            long we = Ticks.SaturatingAdd(ws, size);

            // A window whose end saturates at long.MaxValue holds an event at long.MaxValue too (the last representable time).
            if ((we <= t && we != Ticks.Infinity) || (pass > 0 && ws == Ticks.MinusInfinity))
            {
                slots[i] = -1;
                continue;
            }

            if (window is null || window.Start != ws)
            {
                window = GetWindow(ws);
                lastSlot = -1;
            }

            if (!keyed)
            {
                slots[i] = window.Single >= 0 ? window.Single : window.Single = Slots.Allocate();
                continue;
            }

            // Runs of one key (NEXMark's bids: half go to the newest auction) reuse the previous event's slot in the same window,
            // which stays its group's slot for the whole batch: one key compare instead of a table lookup.
            var key = keys[i];
            if (lastSlot < 0 || !EqualityComparer<TKey>.Default.Equals(key, lastKey))
            {
                lastSlot = Lookup(window, key);
                lastKey = key;
            }

            slots[i] = lastSlot;
        }
    }

    /// <summary>
    /// The whole-window aggregate's common case (top-k over a 10 s window): every present event of the batch is in one pane, so every
    /// present event gets that window's one slot, written with a vector fill (absent events then get -1 a filter word at a time),
    /// instead of the per-event window test. False (nothing done) when the present events span more than one pane.
    /// </summary>
    private bool AssignOneWindow(EventBatch<T> batch)
    {
        var slots = SlotColumn;
        var absent = batch.Absent;
        int count = batch.Count;
        int firstPresent = PresentIndices.First(absent, count);
        if (firstPresent < 0)
        {
            slots.AsSpan(0, count).Fill(-1);
            return true;
        }

        long first = batch.Start[firstPresent], last = batch.Start[PresentIndices.Last(absent, count)];
        long windowStart = Ticks.WindowStart(first, Window.Hop);
        long paneEnd = Ticks.SaturatingAdd(windowStart, Window.Hop);
        if (last < first || (last >= paneEnd && paneEnd != Ticks.Infinity) || Ticks.SaturatingAdd(windowStart, _paneSize) <= first)
        {
            return false; // more than one pane (or an end of time the per-event path handles)
        }

        var window = GetWindow(windowStart);
        int slot = window.Single >= 0 ? window.Single : window.Single = Slots.Allocate();
        slots.AsSpan(0, count).Fill(slot);
        int words = (count + 63) >> 6;
        for (int w = 0; w < words; w++)
        {
            ulong bits = absent[w];
            while (bits != 0)
            {
                int i = (w << 6) + System.Numerics.BitOperations.TrailingZeroCount(bits);
                if (i >= count)
                {
                    break;
                }

                slots[i] = -1;
                bits &= bits - 1;
            }
        }

        return true;
    }

    private int Lookup(OpenWindow window, TKey key)
    {
        if (key is null)
        {
            return window.Null >= 0 ? window.Null : window.Null = Slots.Allocate();
        }

        ref int slot = ref CollectionsMarshal.GetValueRefOrAddDefault(window.Slots, key, out bool exists);
        if (!exists)
        {
            slot = Slots.Allocate();
        }

        return slot;
    }

    /// <summary>
    /// At the end of the run, once every window closed: the key tables of the free windows and the merge table go back to
    /// <see cref="PooledDictionaries{TKey}"/>, the aggregate columns' arrays to the array pool, for the next run in the process.
    /// </summary>
    protected override void ReleaseTables()
    {
        if (_windows.Count != 0 || !Slots.Release())
        {
            return; // a window still open: its groups stay for the collector
        }

        while (_freeWindows.TryPop(out var window))
        {
            PooledDictionaries<TKey>.Return(window.Slots);
            window.Slots = null!; // not used again: the operator's run is over
        }

        if (_usePanes)
        {
            PooledDictionaries<TKey>.Return(_merge);
            _merge = null!;
        }
    }

    private OpenWindow GetWindow(long start)
    {
        int index = _windows.Count - 1;
        while (index >= 0 && _windows[index].Start > start)
        {
            index--;
        }

        if (index >= 0 && _windows[index].Start == start)
        {
            return _windows[index];
        }

        var window = _freeWindows.Count > 0 ? _freeWindows.Pop() : new OpenWindow(rented: true);
        window.Presize(_windows.Count > 0 ? _windows[^1].Slots.Count : 0);
        window.Start = start;
        window.End = Ticks.SaturatingAdd(start, _paneSize);
        _windows.Insert(index + 1, window);
        return window;
    }

    protected override void Close(long watermark)
    {
        if (_usePanes)
        {
            ClosePanes(watermark);
        }
        else
        {
            CloseWindows(watermark);
        }

        if (Slots.ShouldCompactAfterClose())
        {
            Compact();
        }
    }

    /// <summary>
    /// Gives memory back after a window with many groups closed: the live slots move down to 0, 1, 2... (the columns shrink to
    /// fit) and the open windows' tables are rebuilt at their size. Runs only when three quarters of the columns stayed free since
    /// the previous close (<see cref="SlotAllocator{T}.ShouldCompactAfterClose"/>): once per burst, never every window.
    /// </summary>
    private void Compact()
    {
        var live = new List<int>(Slots.Live);
        foreach (var window in _windows)
        {
            if (window.Null >= 0)
            {
                window.Null = LiveSlots.Keep(live, window.Null);
            }

            if (window.Single >= 0)
            {
                window.Single = LiveSlots.Keep(live, window.Single);
            }

            var groups = window.Slots.ToArray();
            window.Slots.Clear();
            window.Slots.TrimExcess(groups.Length);
            foreach (var (key, slot) in groups)
            {
                window.Slots.Add(key, LiveSlots.Keep(live, slot));
            }
        }

        Slots.Compact(live);
        _merge.TrimExcess();
        _freeWindows.Clear();
        _keyOrder.TrimExcess();
        TrimMaximum();
        Context.TrimPools();
    }

    private void CloseWindows(long watermark)
    {
        EventBatch<TResult>? output = null;
        while (_windows.Count > 0 && _windows[0].End <= watermark)
        {
            var window = _windows[0];
            _windows.RemoveAt(0);
            EmitWindow(ref output, window, window.Null, window.Single, window.Slots);
            window.Reset();
            _freeWindows.Push(window);
        }

        if (output is not null)
        {
            Downstream.OnBatch(output);
        }
    }

    /// <summary>Emits every window that ends at or before the watermark, each merged from its panes, and frees panes no window needs.</summary>
    private void ClosePanes(long watermark)
    {
        EventBatch<TResult>? output = null;
        long size = Window.Size, hop = Window.Hop;
        while (_windows.Count > 0)
        {
            // The next window with at least one event: it starts no earlier than (first pane - size + hop).
            long start = Math.Max(_nextWindowStart, Ticks.SaturatingAdd(_windows[0].Start, hop - size));
            long end = Ticks.SaturatingAdd(start, size);
            if (end > watermark)
            {
                break;
            }

            int nullSlot = -1, singleSlot = -1;
            foreach (var pane in _windows)
            {
                if (pane.Start >= end)
                {
                    break;
                }

                if (pane.Null >= 0)
                {
                    MergeInto(ref nullSlot, pane.Null);
                }

                if (pane.Single >= 0)
                {
                    MergeInto(ref singleSlot, pane.Single);
                }

                MergeGroups(_merge, pane.Slots);
            }

            var bounds = _bounds;
            bounds.Start = start;
            bounds.End = end;
            EmitWindow(ref output, bounds, nullSlot, singleSlot, _merge);
            _merge.Clear();
            _nextWindowStart = Ticks.SaturatingAdd(start, hop);
            while (_windows.Count > 0 && _windows[0].Start < _nextWindowStart)
            {
                var pane = _windows[0];
                _windows.RemoveAt(0);
                Release(pane);
            }
        }

        if (output is not null)
        {
            Downstream.OnBatch(output);
        }
    }

    private void Release(OpenWindow pane)
    {
        if (pane.Null >= 0)
        {
            Slots.Release(pane.Null);
        }

        if (pane.Single >= 0)
        {
            Slots.Release(pane.Single);
        }

        foreach (var slot in pane.Slots.Values)
        {
            Slots.Release(slot);
        }

        pane.Reset();
        _freeWindows.Push(pane);
    }

    /// <summary>Emits a window's groups (the null key's, the whole window's, then the keyed ones in stable key order) and frees their slots.</summary>
    private void EmitWindow(ref EventBatch<TResult>? output, OpenWindow window, int nullSlot, int singleSlot, Dictionary<TKey, int> groups)
    {
        if (_maximum is not null && TryEmitMaximum(ref output, window, nullSlot, singleSlot, groups))
        {
            return;
        }

        if (nullSlot >= 0)
        {
            Emit(ref output, window, default!, nullSlot);
        }

        if (singleSlot >= 0)
        {
            Emit(ref output, window, default!, singleSlot);
        }

        EmitInKeyOrder(ref output, window, groups);
    }

    /// <summary>Emits a window's keyed groups in stable key order (docs/semantics.md §8): the same at every parallelism and after a restore.</summary>
    private void EmitInKeyOrder(ref EventBatch<TResult>? output, OpenWindow window, Dictionary<TKey, int> groups)
    {
        var order = _keyOrder;
        order.Clear();
        foreach (var (key, slot) in groups)
        {
            order.Add(key, slot);
        }

        order.Sort();
        for (int i = 0; i < order.Count; i++)
        {
            Emit(ref output, window, order.KeyAt(i), order.SlotAt(i));
        }

        order.Clear();
    }

    private void Emit(ref EventBatch<TResult>? output, OpenWindow window, TKey key, int slot) =>
        Emit(ref output, key, window.Start, window.End, slot, window.Start, window.End);

    /// <summary>The start of the first window that can still produce a result once the input watermark is <paramref name="watermark"/>.</summary>
    private long EarliestPossibleStart(long watermark)
    {
        if (watermark == Ticks.MinusInfinity)
        {
            return watermark;
        }

        // Every window ending at or before the watermark is out; the rest start after watermark - size.
        return Ticks.SaturatingAdd(Ticks.WindowStart(Ticks.SaturatingAdd(watermark, -Window.Size), Window.Hop), Window.Hop);
    }

    private sealed class OpenWindow
    {
        /// <summary>Tables above this size are not kept for the next window (a steady load's tables stay and are reused).</summary>
        private const int LargeTable = 1 << 16;

        public long Start;
        public long End;
        public int Null = -1;
        public int Single = -1;

        /// <summary>The window's key table: rented (<see cref="PooledDictionaries{TKey}"/>) and given back at the end of the run.</summary>
        public Dictionary<TKey, int> Slots;

        public OpenWindow(bool rented) => Slots = rented ? PooledDictionaries<TKey>.Rent() : [];

        /// <summary>
        /// Sizes the table of a window about to open for as many keys as the newest open one holds (<paramref name="expected"/>; panes
        /// of a steady load hold about as many keys each), so it is allocated once instead of doubling up from empty (issue #16).
        /// </summary>
        public void Presize(int expected) => Slots.EnsureCapacity(Math.Min(expected, LargeTable));

        public void Reset()
        {
            Null = -1;
            Single = -1;
            Slots.Clear();
            if (Slots.EnsureCapacity(0) > LargeTable)
            {
                // A window that held many keys does not keep its table for the next one: it goes back to the GC.
                Slots.TrimExcess();
            }
        }
    }
}
