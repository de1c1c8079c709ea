using LinqStream.Parallel;
using LinqStream.Runtime;
using LinqStream.Runtime.Checkpoints;
using LinqStream.Runtime.State;
using Layout = LinqStream.Physical.Join.Window.SpilledWindowJoinKeys;

// TKey may be a nullable type (the user's key selector decides it); null keys never reach the buffers, they are dropped on arrival.
#pragma warning disable CS8714

namespace LinqStream.Physical.Join.Window;

/// <summary>
/// The window join whose waiting events may outgrow memory: up to <see cref="IKeyedStateStoreFactory.HotKeys"/> waiting events
/// stay in the heap operator's buffers; when an input batch leaves more, every waiting event of both inputs is written to a
/// <see cref="IKeyedStateStore"/> (one batch), and a window that has events there is joined from the store and the heap when both
/// watermarks pass its start.
/// </summary>
/// <remarks>
/// <para>
/// Same output as <see cref="WindowJoinOperator{TLeft, TRight, TKey, TResult}"/>, event for event and in the same order: each right
/// event of the window in arrival order (the spilled ones, merged from the key groups' ranges by sequence number, then the ones on
/// the heap), meeting the left events of its key newest first (those on the heap, then the spilled ones, newest first: a spill moves
/// every waiting event, so the events on the heap are always newer than the spilled ones of their window). A window with nothing
/// spilled is joined by the heap operator's code. Chosen at planning time when the job's state backend is not the heap.
/// </para>
/// <para>
/// Per spilled right event of a window whose key group has spilled left events: one range read of its key's spilled left events
/// (the last key's are kept, so a run of one key's right events reads them once). Spill and join paths allocate per spilled
/// event (the key's stable encoding, the payload's boxes through <see cref="StateCodec"/>), as the spilled aggregates do; the
/// per-event path of a window that spilled nothing is the heap operator's.
/// </para>
/// </remarks>
#pragma warning disable CA1001 // The streams are MemoryStreams over managed buffers (Dispose frees nothing); the store is owned and disposed by the run's IKeyedStateStoreFactory.
internal sealed class SpilledWindowJoinOperator<TLeft, TRight, TKey, TResult>
    : WindowJoinOperator<TLeft, TRight, TKey, TResult>, IDeferredCheckpointed, ICheckpointWarmup
{
    private readonly int _hotEvents;
    private readonly int _keyGroups;
    private readonly List<SpilledWindow> _windows = []; // by start
    private readonly Stack<SpilledWindow> _freeWindows = new();
    private readonly MemoryStream _valueStream = new();
    private readonly BinaryWriter _valueWriter;
    private readonly StoredValueReader _read = new();
    private readonly PriorityQueue<int, long> _merge = new();
    private readonly List<IKeyedStateCursor> _cursors = [];

    // The spilled left events of the last key probed in the window being joined (arrival order), and that key's left prefix.
    private readonly List<long> _loadedEnds = [];
    private readonly List<TLeft> _loadedPayloads = [];
    private byte[] _loadedPrefix = [];
    private byte[] _keyBuffer = new byte[256];
    private long _nextSequence;
    private long _spilled;

    public SpilledWindowJoinOperator(IStreamObserver<TResult> downstream, QueryContext context, JoinKernels<TLeft, TRight, TKey, TResult> kernels, long size, IKeyedStateStoreFactory stores)
        : base(downstream, context, kernels, size)
    {
        _hotEvents = Math.Max(16, stores.HotKeys);
        _keyGroups = context.Options.KeyGroups;
        Store = stores.Create("window-join");
        _valueWriter = new BinaryWriter(_valueStream);
    }

    /// <summary>Gets the store (tests).</summary>
    internal IKeyedStateStore Store { get; }

    /// <summary>Another name than the heap operator's: a checkpoint of one backend is refused by the other, naming both.</summary>
    public override string CheckpointName => "WindowJoin(spilled)";

    /// <summary>Gets the number of waiting events in the store (both inputs).</summary>
    public override long SpilledGroups => Volatile.Read(ref _spilled);

    /// <summary>Gets the number of windows with events in the store (tests).</summary>
    internal int SpilledWindows => _windows.Count;

    protected override void AcceptLeft(EventBatch<TLeft> batch, TKey[] keys)
    {
        base.AcceptLeft(batch, keys);
        SpillIfOver();
    }

    protected override void AcceptRight(EventBatch<TRight> batch, TKey[] keys)
    {
        base.AcceptRight(batch, keys);
        SpillIfOver();
    }

    /// <summary>Once per input batch: when more events wait on the heap than the budget, writes them all to the store (one batch).</summary>
    private void SpillIfOver()
    {
        if (LeftBuffer.Waiting + RightBuffer.Waiting <= _hotEvents)
        {
            return;
        }

        Interlocked.Add(ref SpilledWindowJoinCounters.EventsSpilled, LeftBuffer.Waiting + RightBuffer.Waiting);
        Spill(LeftBuffer, left: true);
        Spill(RightBuffer, left: false);
        Store.Commit();
    }

    private void Spill<T>(WindowJoinBuffer<T, TKey> buffer, bool left)
    {
        for (int i = buffer.Head; i < buffer.Count; i++)
        {
            var key = buffer.Key[i];
            ulong hash = StableKeyHash<TKey>.Hash(key);
            int group = KeyGroups.Of(hash, _keyGroups);
            long window = buffer.Start[i];
            long sequence = _nextSequence++;
            _valueStream.SetLength(0);
            _valueWriter.Write(buffer.End[i]);
            int length;
            if (left)
            {
                byte[] encoding = StableKeyHash<TKey>.Encode(key);
                StoredValueReader.Ensure(ref _keyBuffer, Layout.LeftPrefix + encoding.Length + 8);
                length = Layout.WriteLeft(_keyBuffer, group, window, hash, encoding, sequence);
            }
            else
            {
                StateCodec.Write(_valueWriter, key, typeof(TKey));
                Layout.WriteRight(_keyBuffer, group, window, sequence);
                length = Layout.RightLength;
            }

            StateCodec.Write(_valueWriter, buffer.Payload[i], typeof(T));
            _valueWriter.Flush();
            Store.Put(_keyBuffer.AsSpan(0, length), _valueStream.GetBuffer().AsSpan(0, (int)_valueStream.Length));
            GetWindow(window).Mark(group, left, _keyGroups);
            _spilled++;
        }

        buffer.Consume(buffer.Count);
        buffer.Compact();
    }

    private protected override long NextWindow()
    {
        long heap = base.NextWindow();
        return _windows.Count > 0 && _windows[0].Start < heap ? _windows[0].Start : heap;
    }

    private protected override void CloseWindow(long window)
    {
        if (_windows.Count == 0 || _windows[0].Start != window)
        {
            base.CloseWindow(window);
            return;
        }

        var spilled = _windows[0];
        _windows.RemoveAt(0);
        Interlocked.Increment(ref SpilledWindowJoinCounters.WindowsJoinedFromStore);
        JoinSpilledWindow(window, spilled);
        spilled.Reset();
        _freeWindows.Push(spilled);
    }

    /// <summary>Joins a window with events in the store: its right events in arrival order, each with its key's left events newest first.</summary>
    private void JoinSpilledWindow(long window, SpilledWindow spilled)
    {
        Store.Commit(); // the scans read committed state
        var (leftEnd, rightEnd) = HeapRuns(window);
        IndexLeft(leftEnd);
        try
        {
            // The spilled right events: one range per key group, each in arrival order; merged by sequence number.
            for (int g = spilled.NextRight(0); g >= 0; g = spilled.NextRight(g + 1))
            {
                var cursor = Store.Scan(Layout.WindowFrom(g, Layout.RightTable, window), Layout.WindowLimit(g, Layout.RightTable, window));
                _cursors.Add(cursor);
                if (cursor.Valid)
                {
                    _merge.Enqueue(_cursors.Count - 1, Layout.SequenceOf(cursor.Key));
                }
            }

            while (_merge.TryDequeue(out int c, out _))
            {
                var cursor = _cursors[c];
                Store.Delete(cursor.Key);
                _spilled--;
                var reader = _read.Load(cursor.Value);
                long end = reader.ReadInt64();
                var key = (TKey)StateCodec.Read(reader, typeof(TKey))!;
                var payload = (TRight)StateCodec.Read(reader, typeof(TRight))!;
                Probe(window, spilled, key, end, payload);
                cursor.Next();
                if (cursor.Valid)
                {
                    _merge.Enqueue(c, Layout.SequenceOf(cursor.Key));
                }
            }

            // Then the right events on the heap, which arrived after every spilled one.
            var right = RightBuffer;
            for (int j = right.Head; j < rightEnd; j++)
            {
                Probe(window, spilled, right.Key[j], right.End[j], right.Payload[j]);
            }
        }
        finally
        {
            _merge.Clear();
            foreach (var cursor in _cursors)
            {
                cursor.Dispose();
            }

            _cursors.Clear();
            ClearLeftIndex();
            _loadedPrefix = [];
            _loadedEnds.Clear();
            _loadedPayloads.Clear();
        }

        // The window's spilled left events go too (the right ones were deleted as they were read).
        for (int g = spilled.NextLeft(0); g >= 0; g = spilled.NextLeft(g + 1))
        {
            using var cursor = Store.Scan(Layout.WindowFrom(g, Layout.LeftTable, window), Layout.WindowLimit(g, Layout.LeftTable, window));
            for (; cursor.Valid; cursor.Next())
            {
                Store.Delete(cursor.Key);
                _spilled--;
            }
        }

        Store.Commit();
        LeftBuffer.Consume(leftEnd);
        RightBuffer.Consume(rightEnd);
    }

    /// <summary>Gives a right event's pairs: with its key's left events on the heap (newest first), then with the spilled ones (newest first).</summary>
    private void Probe(long window, SpilledWindow spilled, TKey key, long rightEnd, TRight right)
    {
        ProbeLeft(window, key, rightEnd, right);
        ulong hash = StableKeyHash<TKey>.Hash(key);
        int group = KeyGroups.Of(hash, _keyGroups);
        if (!spilled.HasLeft(group))
        {
            return;
        }

        LoadLefts(window, key, hash, group);
        for (int i = _loadedEnds.Count - 1; i >= 0; i--)
        {
            long le = _loadedEnds[i];
            Writer.Add(window, le < rightEnd ? le : rightEnd, _loadedPayloads[i], right);
        }
    }

    /// <summary>Reads <paramref name="key"/>'s spilled left events of the window (one range), unless they are the last key's.</summary>
    private void LoadLefts(long window, TKey key, ulong hash, int group)
    {
        byte[] encoding = StableKeyHash<TKey>.Encode(key);
        int length = Layout.LeftPrefix + encoding.Length;
        StoredValueReader.Ensure(ref _keyBuffer, length);
        Layout.WriteLeftPrefix(_keyBuffer, group, window, hash, encoding);
        var prefix = _keyBuffer.AsSpan(0, length);
        if (prefix.SequenceEqual(_loadedPrefix))
        {
            return;
        }

        _loadedEnds.Clear();
        _loadedPayloads.Clear();
        _loadedPrefix = prefix.ToArray();

        // Every key with this prefix is the prefix and an 8-byte sequence number (non-negative: its first byte is below 0xFF).
        var limit = new byte[length + 9];
        prefix.CopyTo(limit);
        limit.AsSpan(length).Fill(0xFF);
        using var cursor = Store.Scan(_loadedPrefix, limit);
        for (; cursor.Valid; cursor.Next())
        {
            var reader = _read.Load(cursor.Value);
            _loadedEnds.Add(reader.ReadInt64());
            _loadedPayloads.Add((TLeft)StateCodec.Read(reader, typeof(TLeft))!);
        }
    }

    private SpilledWindow GetWindow(long start)
    {
        int index = Windows.StartOrderedList.IndexOf(_windows, start);
        if (index >= 0)
        {
            return _windows[index];
        }

        var window = _freeWindows.Count > 0 ? _freeWindows.Pop() : new SpilledWindow();
        window.Start = start;
        _windows.Insert(~index, window);
        return window;
    }

    private protected override void ReleaseSpilled()
    {
        _windows.Clear();
        _spilled = 0;
    }

    /// <summary>The waiting events on the heap and the store's checkpoint, written at once (a savepoint; jobs use <see cref="BeginWriteState"/>).</summary>
    public override void WriteState(BinaryWriter writer)
    {
        Store.Commit();
        SpilledJoinSection.WriteNow(writer, Store, CaptureState(), _nextSequence);
    }

    /// <summary>The waiting events on the heap now; the section once the store's checkpoint (its flush, off this thread) has its manifest.</summary>
    public DeferredSection? BeginWriteState() => SpilledJoinSection.Begin(Store, CaptureState, _nextSequence);

    /// <summary>The cut's code with an empty manifest instead of the store's checkpoint, kept nowhere (<see cref="ICheckpointWarmup"/>).</summary>
    public void WarmCheckpointPath() => SpilledJoinSection.Write(BinaryWriter.Null, CaptureState(), _nextSequence, []);

    /// <summary>Loads the store from the manifest, finds its windows, then the events that waited on the heap (through the key kernels again).</summary>
    public override void ReadState(BinaryReader reader)
    {
        var state = SpilledJoinSection.Read<WindowJoinState<TLeft, TRight>>(reader, Store, _keyGroups, out _nextSequence);
        for (int g = 0; g < _keyGroups; g++)
        {
            FindSpilled(g, left: true);
            FindSpilled(g, left: false);
        }

        Restore(state);
    }

    private void FindSpilled(int group, bool left)
    {
        byte table = left ? Layout.LeftTable : Layout.RightTable;
        using var cursor = Store.Scan(Layout.TableFrom(group, table), Layout.TableLimit(group, table));
        for (; cursor.Valid; cursor.Next())
        {
            GetWindow(Layout.WindowOf(cursor.Key)).Mark(group, left, _keyGroups);
            _spilled++;
        }
    }

    /// <summary>A window with events in the store: which key groups have its left and its right events there.</summary>
    private sealed class SpilledWindow : Windows.IStartOrdered
    {
        private ulong[]? _left;
        private ulong[]? _right;

        public long Start { get; set; }

        public void Mark(int keyGroup, bool left, int keyGroups)
        {
            ref ulong[]? bits = ref left ? ref _left : ref _right;
            bits ??= new ulong[(keyGroups + 63) >> 6];
            bits[keyGroup >> 6] |= 1UL << keyGroup;
        }

        public bool HasLeft(int keyGroup) => _left is { } bits && (bits[keyGroup >> 6] & (1UL << keyGroup)) != 0;

        public int NextLeft(int from) => Windows.KeyGroupBits.Next(_left, from);

        public int NextRight(int from) => Windows.KeyGroupBits.Next(_right, from);

        public void Reset()
        {
            if (_left is not null)
            {
                Array.Clear(_left);
            }

            if (_right is not null)
            {
                Array.Clear(_right);
            }
        }
    }
}
#pragma warning restore CA1001

/// <summary>Process-wide counts of the spilled window joins' work (tests: the store was really used). Updated once per spill or window, not per event.</summary>
internal static class SpilledWindowJoinCounters
{
    /// <summary>Events written to a store so far.</summary>
    public static long EventsSpilled;

    /// <summary>Windows joined with events from a store so far.</summary>
    public static long WindowsJoinedFromStore;
}
