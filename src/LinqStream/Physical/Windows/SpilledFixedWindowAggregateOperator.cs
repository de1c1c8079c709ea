using System.Runtime.InteropServices;
using LinqStream.Physical.Aggregate;
using LinqStream.Runtime;
using LinqStream.Runtime.Checkpoints;
using LinqStream.Runtime.State;
using LinqStream.Temporal;
using Layout = LinqStream.Physical.Windows.SpilledWindowKeys;

namespace LinqStream.Physical.Windows;

/// <summary>
/// Tumbling and hopping window aggregation per key whose state may outgrow memory: the hot (window, key) groups stay on the heap
/// (as in <see cref="FixedWindowAggregateOperator{T, TKey, TResult}"/>), the others are spilled to a <see cref="IKeyedStateStore"/>
/// and read back in one range scan per key group when their window closes.
/// </summary>
/// <remarks>
/// Same semantics and output as the heap operator (docs/semantics.md §8): a window's results when the watermark reaches its end,
/// windows in order of end, keys in stable key order (hash, then encoding), the null key first. Chosen at planning time when the
/// job's state backend is not the heap.
/// <para>
/// The heap holds at most <see cref="IKeyedStateStoreFactory.HotKeys"/> groups. After a batch that leaves more, a sweep (CLOCK: a
/// bit per slot set by its events and cleared by the sweep) writes the groups not touched since the last sweep to the store, newest
/// windows kept first, until three quarters of the budget is left. An event for a key that is not on the heap in its window looks
/// the group up in the store only when that window has spilled groups of the key's key group (a bloom-filtered point read), and
/// brings it back.
/// </para>
/// <para>
/// Hopping windows whose size is a multiple of the hop and whose every aggregate merges are built from panes (tumbling windows of
/// one hop), as on the heap: the groups are (pane, key), each event is folded once, into its pane, and the "windows" above are then
/// panes (the sweep, the store's ranges, the checkpoint's records). A window's close merges its panes key by key in stable key
/// order: the heap's groups as the heap operator merges them, and, in each key group where a pane of the window has spilled
/// groups, a merge of those panes' store ranges (one cursor per pane, each sorted by hash then encoding); a key with spilled groups
/// is merged pane by pane, oldest first, each spilled group read into a slot of its own for the merge and freed after it. A pane's
/// groups are freed (on the heap and in the store) only when the last window that holds the pane closes. Otherwise (a size that is
/// not a multiple of the hop, an aggregate that does not merge) each event is folded into every window that holds it. NEXMark q5
/// (10 s every 2 s, auctions living about one hop) keeps 5 panes of ~12k auctions instead of 180k (window, auction) groups, within
/// the 65,536 hot groups (RESULTS.md, "Session 15 — rocks15").
/// </para>
/// </remarks>
#pragma warning disable CA1001 // The streams are MemoryStreams over managed buffers (Dispose frees nothing); the store is owned and disposed by the run's IKeyedStateStoreFactory.
internal sealed partial class SpilledFixedWindowAggregateOperator<T, TKey, TResult> : SpilledWindowAggregateOperator<T, TKey, TResult>
    where TKey : notnull
{
    private readonly List<OpenWindow> _windows = [];
    private readonly Stack<OpenWindow> _freeWindows = new();
    private readonly Parallel.KeyOrder<TKey> _keyOrder = new();
    private readonly MemoryStream _valueStream = new();
    private readonly BinaryWriter _valueWriter;
    private readonly MemoryStream _readStream = new();
    private readonly BinaryReader _reader;
    private byte[] _keyBuffer = new byte[256];
    private byte[] _valueBuffer = new byte[256];
    private bool[] _touched = new bool[64];
    private long _spilled;

    // Panes (see the remarks): a window is merged from the panes of one hop that it holds; _paneSize is the hop then, else the size.
    private readonly bool _usePanes;
    private readonly long _paneSize;

    public SpilledFixedWindowAggregateOperator(
        IStreamObserver<TResult> downstream,
        QueryContext context,
        WindowSpec window,
        Action<T[], ulong[]?, TKey[], int> keyKernel,
        AggregatePlan<T, TKey, TResult> plan,
        string description,
        IKeyedStateStoreFactory stores)
        : base(downstream, context, window, keyKernel, plan, description, stores, window.Passes > 1 ? "hopping" : "tumbling")
    {
        _valueWriter = new BinaryWriter(_valueStream);
        _reader = new BinaryReader(_readStream);
        _cut = Array.TrueForAll(plan.Columns, c => c.CaptureIsACopy) ? new(Slots, plan.Columns) : null;
        _usePanes = window.Passes > 1 && window.Size % window.Hop == 0 && Array.TrueForAll(plan.Columns, c => c.CanMerge);
        _paneSize = _usePanes ? window.Hop : window.Size;
    }

    /// <summary>Gets a value indicating whether windows are merged from one-hop panes (the heap operator's condition).</summary>
    public bool UsesPanes => _usePanes;

    /// <summary>Gets the number of groups moved out of a checkpoint's frozen slots so far (tests: copy on write was exercised).</summary>
    internal long SlotsCopiedAtCut => _cut?.SlotsCopied ?? 0;

    /// <summary>Another name than the heap operator's: a checkpoint of one backend is refused by the other, naming both. So is one of
    /// the windows' groups written before the spilled operator had panes (session 16), by a build with them.</summary>
    public override string CheckpointName =>
        _usePanes ? "HoppingAggregate(spilled, panes)" : Window.Passes > 1 ? "HoppingAggregate(spilled)" : "TumblingAggregate(spilled)";

    /// <summary>Gets the number of groups in the store (spilled and not yet brought back or emitted).</summary>
    public override long SpilledGroups => _spilled;

    /// <summary>Gets the number of open windows (of open panes when <see cref="UsesPanes"/>).</summary>
    public int OpenWindows => _windows.Count;

    protected override void WriteWhole(BinaryWriter writer) => throw new InvalidOperationException("A spilled window aggregate is always keyed.");

    protected override void ReadWhole(BinaryReader reader) => throw new InvalidOperationException("A spilled window aggregate is always keyed.");

    protected override void Accumulate(EventBatch<T> batch)
    {
        _cut?.ReleaseFrozen();
        int passes = _usePanes ? 1 : Window.Passes;
        for (int pass = 0; pass < passes; pass++)
        {
            AssignSlots(batch, pass);
            FoldColumns(batch.Count);
        }

        if (Slots.Live - (_cut?.KeptSlots ?? 0) > HotKeys) // slots kept for a cut being written hold no group
        {
            Sweep();
        }

        Store.Commit();
    }

    protected override long OutputWatermark(long watermark) =>
        watermark == Ticks.Infinity ? Ticks.Infinity : Math.Min(watermark, EarliestPossibleStart(watermark));

    /// <summary>Sets <c>slots[i]</c> to event i's group in its <paramref name="pass"/>-th newest window (-1 when none), or in its pane
    /// (one pass), as the heap operator does.</summary>
    private void AssignSlots(EventBatch<T> batch, int pass)
    {
        var start = batch.Start;
        var slots = SlotColumn;
        var keys = Keys;
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

            // Runs of one key (NEXMark's bids: half go to the newest auction) reuse the previous event's slot in the same window, as on
            // the heap: it stays the group's slot for the whole batch (a copy made for the cut is made at the run's first event).
            var key = keys[i];
            if (lastSlot < 0 || !EqualityComparer<TKey>.Default.Equals(key, lastKey))
            {
                lastSlot = Lookup(window, key);
                lastKey = key;
                if (lastSlot >= _touched.Length)
                {
                    Array.Resize(ref _touched, Slots.Capacity);
                }

                _touched[lastSlot] = true;
            }

            slots[i] = lastSlot;
        }
    }

    private int Lookup(OpenWindow window, TKey key)
    {
        if (key is null)
        {
            if (window.Null < 0)
            {
                window.Null = Slots.Allocate();
            }
            else if (_cut is not null && _cut.IsFrozen(window.Null))
            {
                window.Null = _cut.Detach(window.Null);
            }

            return window.Null;
        }

        ref int slot = ref CollectionsMarshal.GetValueRefOrAddDefault(window.Slots, key, out bool exists);
        if (!exists)
        {
            slot = window.Spilled > 0 ? LoadOrAllocate(window, key) : Slots.Allocate();
        }
        else if (_cut is not null && _cut.IsFrozen(slot))
        {
            slot = _cut.Detach(slot);
        }

        return slot;
    }

    /// <summary>Brings <paramref name="key"/>'s group in <paramref name="window"/> back from the store, or allocates an empty one when it has none there.</summary>
    private int LoadOrAllocate(OpenWindow window, TKey key)
    {
        ulong hash = Parallel.StableKeyHash<TKey>.Hash(key);
        int group = Parallel.KeyGroups.Of(hash, KeyGroupCount);
        if (!window.HasSpilled(group))
        {
            return Slots.Allocate();
        }

        int length = WriteStoreKey(window.Start, key, hash, group);
        int valueLength = Store.Get(_keyBuffer.AsSpan(0, length), ref _valueBuffer);
        if (valueLength < 0)
        {
            return Slots.Allocate();
        }

        Store.Delete(_keyBuffer.AsSpan(0, length));
        window.Spilled--;
        _spilled--;
        return ReadSpilled(_valueBuffer.AsSpan(0, valueLength), out _);
    }

    private int WriteStoreKey(long windowStart, TKey key, ulong hash, int group)
    {
        byte[] encoded = Parallel.StableKeyHash<TKey>.Encode(key);
        if (_keyBuffer.Length < Layout.Prefix + encoded.Length)
        {
            _keyBuffer = new byte[Math.Max(Layout.Prefix + encoded.Length, _keyBuffer.Length * 2)];
        }

        return Layout.Write(_keyBuffer, group, windowStart, hash, encoded);
    }

    /// <summary>Decodes a spilled group (its key and accumulators) into a fresh slot.</summary>
    private int ReadSpilled(ReadOnlySpan<byte> value, out TKey key)
    {
        _readStream.SetLength(0);
        _readStream.Write(value);
        _readStream.Position = 0;
        key = (TKey)StateCodec.Read(_reader, typeof(TKey))!;
        int slot = Slots.Allocate();
        for (int c = 0; c < Plan.Columns.Length; c++)
        {
            Plan.Columns[c].RestoreSlot(slot, StateCodec.Read(_reader, Plan.Columns[c].SlotType));
        }

        return slot;
    }

    /// <summary>Writes the groups not touched since the last sweep (and more, oldest windows first, if needed) to the store.</summary>
    private void Sweep()
    {
        if (_touched.Length < Slots.Capacity)
        {
            Array.Resize(ref _touched, Slots.Capacity);
        }

        int keep = HotKeys * 3 / 4;
        int kept = 0;
        for (int w = _windows.Count - 1; w >= 0; w--)
        {
            var window = _windows[w];
            foreach (var (key, slot) in window.Slots)
            {
                bool touched = _touched[slot];
                _touched[slot] = false;
                if (touched && kept < keep)
                {
                    kept++;
                    continue;
                }

                Spill(window, key, slot);
                window.Slots.Remove(key); // allowed while enumerating (Dictionary's Remove does not invalidate the enumerator)
            }
        }
    }

    private void Spill(OpenWindow window, TKey key, int slot)
    {
        ulong hash = Parallel.StableKeyHash<TKey>.Hash(key);
        int group = Parallel.KeyGroups.Of(hash, KeyGroupCount);
        _valueStream.SetLength(0);
        StateCodec.Write(_valueWriter, key, typeof(TKey));
        WriteSlot(_valueWriter, slot);
        _valueWriter.Flush();
        int length = WriteStoreKey(window.Start, key, hash, group);
        Store.Put(_keyBuffer.AsSpan(0, length), _valueStream.GetBuffer().AsSpan(0, (int)_valueStream.Length));
        window.MarkSpilled(group, KeyGroupCount);
        window.Spilled++;
        _spilled++;
        ReleaseSlot(slot);
    }

    private OpenWindow GetWindow(long start)
    {
        int index = StartOrderedList.IndexOf(_windows, start);
        if (index >= 0)
        {
            return _windows[index];
        }

        var window = _freeWindows.Count > 0 ? _freeWindows.Pop() : new OpenWindow();
        window.Start = start;
        window.End = Ticks.SaturatingAdd(start, _paneSize);
        _windows.Insert(~index, window);
        return window;
    }

    protected override void Close(long watermark)
    {
        _cut?.ReleaseFrozen();
        if (_usePanes)
        {
            ClosePanes(watermark);
            return;
        }

        EventBatch<TResult>? output = null;
        bool closed = false;
        while (_windows.Count > 0 && _windows[0].End <= watermark)
        {
            if (!closed)
            {
                Store.Commit(); // the scans read committed state
                closed = true;
            }

            var window = _windows[0];
            _windows.RemoveAt(0);
            if (window.Null >= 0)
            {
                EmitHot(ref output, window, default!, window.Null);
            }

            EmitInKeyOrder(ref output, window);
            window.Reset();
            _freeWindows.Push(window);
        }

        if (closed)
        {
            Store.Commit();
        }

        if (output is not null)
        {
            Downstream.OnBatch(output);
        }
    }

    /// <summary>
    /// Emits a window's keyed groups in stable key order: the heap's, sorted, merged with the store's, which come sorted (each key
    /// group's range of the window in turn, key groups in hash order); the spilled groups are deleted as they are read.
    /// </summary>
    private void EmitInKeyOrder(ref EventBatch<TResult>? output, OpenWindow window)
    {
        var order = _keyOrder;
        order.Clear();
        foreach (var (key, slot) in window.Slots)
        {
            order.Add(key, slot);
        }

        order.Sort();
        int next = 0;
        ulong nextHash = order.Count > 0 ? Parallel.StableKeyHash<TKey>.Hash(order.KeyAt(0)) : 0;
        if (window.Spilled > 0)
        {
            for (int g = window.NextSpilledGroup(0); g >= 0; g = window.NextSpilledGroup(g + 1))
            {
                using var cursor = Store.Scan(Layout.WindowFrom(g, window.Start), Layout.WindowLimit(g, window.Start));
                for (; cursor.Valid; cursor.Next())
                {
                    var storedKey = cursor.Key;
                    ulong hash = Layout.HashOf(storedKey);
                    while (next < order.Count && HeapFirst(order.KeyAt(next), nextHash, hash, storedKey))
                    {
                        EmitHot(ref output, window, order.KeyAt(next), order.SlotAt(next));
                        next++;
                        nextHash = next < order.Count ? Parallel.StableKeyHash<TKey>.Hash(order.KeyAt(next)) : 0;
                    }

                    Store.Delete(storedKey);
                    int slot = ReadSpilled(cursor.Value, out var key);
                    window.Spilled--;
                    _spilled--;
                    Emit(ref output, key, window.Start, window.End, slot, window.Start, window.End);
                }
            }

            if (window.Spilled != 0)
            {
                throw new InvalidDataException(
                    $"The state store at '{Store.Location}' lacks {window.Spilled} spilled group(s) of the window starting at {window.Start} ticks: the store is damaged.");
            }
        }

        for (; next < order.Count; next++)
        {
            EmitHot(ref output, window, order.KeyAt(next), order.SlotAt(next));
        }

        order.Clear();
    }

    /// <summary>Emits a group on the heap; a slot frozen by the cut is read (a result does not change its slot) and freed once the cut is written.</summary>
    private void EmitHot(ref EventBatch<TResult>? output, OpenWindow window, TKey key, int slot)
    {
        bool frozen = _cut is not null && _cut.KeepIfFrozen(slot);
        Emit(ref output, key, window.Start, window.End, slot, window.Start, window.End, release: !frozen);
    }

    /// <summary>Whether a heap key (with its hash) comes before a stored one in stable key order (hash, then encoding).</summary>
    private static bool HeapFirst(TKey heapKey, ulong heapHash, ulong storedHash, ReadOnlySpan<byte> storedKey)
    {
        if (heapHash != storedHash)
        {
            return heapHash < storedHash;
        }

        // A 64-bit collision: rare enough to encode the heap key again.
        return Parallel.StableKeyHash<TKey>.Encode(heapKey).AsSpan().SequenceCompareTo(storedKey[Layout.Prefix..]) < 0;
    }

    /// <summary>The start of the first window that can still produce a result once the input watermark is <paramref name="watermark"/>.</summary>
    private long EarliestPossibleStart(long watermark)
    {
        if (watermark == Ticks.MinusInfinity)
        {
            return watermark;
        }

        return Ticks.SaturatingAdd(Ticks.WindowStart(Ticks.SaturatingAdd(watermark, -Window.Size), Window.Hop), Window.Hop);
    }

    private sealed class OpenWindow : IStartOrdered
    {
        /// <summary>Tables above this size are not kept for the next window (a steady load's tables stay and are reused).</summary>
        private const int LargeTable = 1 << 16;

        private ulong[]? _spilledGroups;

        public long End;
        public int Null = -1;
        public long Spilled;
        public readonly Dictionary<TKey, int> Slots = [];

        public long Start { get; set; }

        public bool HasSpilled(int keyGroup) => _spilledGroups is { } bits && (bits[keyGroup >> 6] & (1UL << keyGroup)) != 0;

        public void MarkSpilled(int keyGroup, int keyGroups)
        {
            _spilledGroups ??= new ulong[(keyGroups + 63) >> 6];
            _spilledGroups[keyGroup >> 6] |= 1UL << keyGroup;
        }

        /// <summary>The first key group at or after <paramref name="from"/> that has spilled groups in this window, or -1.</summary>
        public int NextSpilledGroup(int from) => KeyGroupBits.Next(_spilledGroups, from);

        public void Reset()
        {
            Null = -1;
            Spilled = 0;
            if (_spilledGroups is { } bits)
            {
                Array.Clear(bits);
            }

            Slots.Clear();
            if (Slots.EnsureCapacity(0) > LargeTable)
            {
                Slots.TrimExcess();
            }
        }
    }
}
#pragma warning restore CA1001
