using System.Buffers.Binary;
using LinqStream.Physical.Aggregate;
using LinqStream.Runtime;
using LinqStream.Runtime.Checkpoints;
using LinqStream.Runtime.State;
using LinqStream.Temporal;
using Layout = LinqStream.Physical.Windows.Session.SpilledSessionKeys;

namespace LinqStream.Physical.Windows.Session;

/// <summary>
/// Session window aggregation per key whose state may outgrow memory: the hot sessions stay on the heap (as in
/// <see cref="SessionWindowAggregateOperator{T, TKey, TResult}"/>), the others are spilled to a <see cref="IKeyedStateStore"/>.
/// </summary>
/// <remarks>
/// Same semantics and output order as the heap operator (docs/semantics.md §8): results at the session's last tick, in order of
/// (end, stable key hash). Chosen at planning time when the job's state backend is not the heap.
/// <para>
/// The heap holds at most <see cref="IKeyedStateStoreFactory.HotKeys"/> sessions. When a batch leaves more, a sweep (a CLOCK
/// approximation of least-recently-used: each session has a bit set by its events and cleared by the sweep) writes the sessions
/// not touched since the last sweep to the store, in one write batch, until three quarters of the budget is left. An event for a
/// key not on the heap looks its current session up in the store (a bloom-filtered miss for a new key) and brings it back.
/// When the watermark passes, the sessions that end are taken in (end, hash) order from the heap and from the store's key groups
/// (each ordered by end, then hash) at once.
/// </para>
/// </remarks>
#pragma warning disable CA1001 // The streams are MemoryStreams over managed buffers (Dispose frees nothing); the store is owned and disposed by the run's IKeyedStateStoreFactory.
internal sealed partial class SpilledSessionWindowAggregateOperator<T, TKey, TResult> : SpilledWindowAggregateOperator<T, TKey, TResult>
    where TKey : notnull
{
    private readonly Dictionary<TKey, Session> _open = [];
    private PriorityQueue<Session, (long End, ulong Hash, long Sequence)> _closing = new();
    private readonly Stack<Session> _free = new();

    // Per key group: no spilled session of the group ends before this (long.MaxValue: none spilled).
    private readonly long[] _spilledFrom;
    private readonly MemoryStream _valueStream = new();
    private readonly BinaryWriter _valueWriter;
    private readonly MemoryStream _readStream = new();
    private readonly BinaryReader _reader;
    private byte[] _keyBuffer = new byte[256];
    private byte[] _valueBuffer = new byte[256];
    private Session? _nullKeySession;
    private long _sequence;
    private long _spilled;

    public SpilledSessionWindowAggregateOperator(
        IStreamObserver<TResult> downstream,
        QueryContext context,
        WindowSpec window,
        Action<T[], ulong[]?, TKey[], int> keyKernel,
        AggregatePlan<T, TKey, TResult> plan,
        string description,
        IKeyedStateStoreFactory stores)
        : base(downstream, context, window, keyKernel, plan, description, stores, "session")
    {
        _spilledFrom = new long[KeyGroupCount];
        Array.Fill(_spilledFrom, long.MaxValue);
        _valueWriter = new BinaryWriter(_valueStream);
        _reader = new BinaryReader(_readStream);
        _cut = Array.TrueForAll(plan.Columns, c => c.CaptureIsACopy) ? new(Slots, plan.Columns) : null;
    }

    /// <summary>Another name than the heap operator's: a checkpoint of one backend is refused by the other, naming both.</summary>
    public override string CheckpointName => "SessionAggregate(spilled)";

    /// <summary>Gets the number of sessions on the heap.</summary>
    public int ResidentSessions => _closing.Count;

    /// <summary>Gets the number of sessions in the store (spilled and not yet brought back or emitted).</summary>
    public override long SpilledGroups => _spilled;

    protected override void WriteWhole(BinaryWriter writer) => throw new InvalidOperationException("A spilled session aggregate is always keyed.");

    protected override void ReadWhole(BinaryReader reader) => throw new InvalidOperationException("A spilled session aggregate is always keyed.");

    /// <summary>Gets the number of slots detached from a checkpoint's frozen slots so far (tests: copy on write was exercised).</summary>
    internal long SlotsCopiedAtCut => _cut?.SlotsCopied ?? 0;

    protected override void Accumulate(EventBatch<T> batch)
    {
        _cut?.ReleaseFrozen();
        AssignSlots(batch);
        FoldColumns(batch.Count);
        if (_closing.Count > HotKeys)
        {
            Sweep();
        }

        Store.Commit();
    }

    private void AssignSlots(EventBatch<T> batch)
    {
        var start = batch.Start;
        var keys = Keys;
        for (int i = 0; i < batch.Count; i++)
        {
            if (batch.IsAbsent(i))
            {
                SlotColumn[i] = -1;
                continue;
            }

            long t = start[i];
            TKey key = keys[i];
            Session? session;
            ulong hash = 0;
            if (key is null)
            {
                session = _nullKeySession;
            }
            else if (!_open.TryGetValue(key, out session))
            {
                hash = Parallel.StableKeyHash<TKey>.Hash(key);
                session = _spilled > 0 ? LoadCurrent(key, hash) : null;
            }

            if (session is not null && t < session.End)
            {
                session.End = SessionEnd(session.Start, t);
                if (_cut is not null && _cut.IsFrozen(session.Slot))
                {
                    session.Slot = _cut.Detach(session.Slot);
                }
            }
            else
            {
                // The previous session (if any) stays queued as not current and is emitted at its end.
                if (session is not null)
                {
                    session.Current = false;
                }

                session = Create(key!, key is null ? 0 : session?.Hash ?? hash, t, t, Slots.Allocate());
                if (key is null)
                {
                    _nullKeySession = session;
                }
                else
                {
                    _open[key] = session;
                }
            }

            session.Touched = true;
            SlotColumn[i] = session.Slot;
        }
    }

    private Session Create(TKey key, ulong hash, long start, long last, int slot)
    {
        var session = _free.Count > 0 ? _free.Pop() : new Session();
        session.Key = key;
        session.Hash = hash;
        session.Start = start;
        session.End = SessionEnd(start, last);
        session.Slot = slot;
        session.Current = true;
        _closing.Enqueue(session, (session.End, session.Hash, _sequence++));
        return session;
    }

    private long SessionEnd(long start, long last)
    {
        long end = Ticks.SaturatingAdd(last, Window.Gap);
        return Window.MaxDuration > 0 ? Math.Min(end, Ticks.SaturatingAdd(start, Window.MaxDuration)) : end;
    }

    /// <summary>Brings <paramref name="key"/>'s current session back from the store, or returns null when it has none there.</summary>
    private Session? LoadCurrent(TKey key, ulong hash)
    {
        byte[] encoded = Parallel.StableKeyHash<TKey>.Encode(key);
        int group = Parallel.KeyGroups.Of(hash, KeyGroupCount);
        EnsureKeyBuffer(Layout.ByEndPrefix + encoded.Length);
        int indexLength = Layout.WriteCurrent(_keyBuffer, group, hash, encoded);
        if (Store.Get(_keyBuffer.AsSpan(0, indexLength), ref _valueBuffer) < 0)
        {
            return null;
        }

        long end = BinaryPrimitives.ReadInt64LittleEndian(_valueBuffer);
        Store.Delete(_keyBuffer.AsSpan(0, indexLength));
        int dataLength = Layout.WriteByEnd(_keyBuffer, group, end, hash, encoded);
        int length = Store.Get(_keyBuffer.AsSpan(0, dataLength), ref _valueBuffer);
        if (length < 0)
        {
            throw new InvalidDataException(
                $"The state store at '{Store.Location}' lists a current session of key '{key}' ending at {end} ticks, but holds no such session: the store is damaged.");
        }

        Store.Delete(_keyBuffer.AsSpan(0, dataLength));
        _spilled--;
        var session = ReadSpilled(_valueBuffer.AsSpan(0, length), end, hash, out _, out _);
        session.Current = true;
        _closing.Enqueue(session, (end, hash, _sequence++));
        _open[key] = session;
        return session;
    }

    /// <summary>Decodes a spilled session into a fresh slot (not queued).</summary>
    private Session ReadSpilled(ReadOnlySpan<byte> value, long end, ulong hash, out bool current, out TKey key)
    {
        _readStream.SetLength(0);
        _readStream.Write(value);
        _readStream.Position = 0;
        current = _reader.ReadBoolean();
        long start = _reader.ReadInt64();
        key = (TKey)StateCodec.Read(_reader, typeof(TKey))!;
        int slot = Slots.Allocate();
        for (int c = 0; c < Plan.Columns.Length; c++)
        {
            Plan.Columns[c].RestoreSlot(slot, StateCodec.Read(_reader, Plan.Columns[c].SlotType));
        }

        var session = _free.Count > 0 ? _free.Pop() : new Session();
        session.Key = key;
        session.Hash = hash;
        session.Start = start;
        session.End = end;
        session.Slot = slot;
        session.Touched = false;
        session.Current = current;
        return session;
    }

    /// <summary>Writes the sessions not touched since the last sweep (and more, coldest first, if needed) to the store.</summary>
    private void Sweep()
    {
        int keep = HotKeys * 3 / 4;
        var kept = new List<(Session, (long, ulong, long))>(keep);
        foreach (var (session, priority) in _closing.UnorderedItems)
        {
            if (session.Key is null || (session.Touched && kept.Count < keep))
            {
                session.Touched = false;
                kept.Add((session, priority));
            }
            else
            {
                Spill(session);
            }
        }

        var closing = new PriorityQueue<Session, (long End, ulong Hash, long Sequence)>(kept.Count * 2);
        closing.EnqueueRange(kept);
        _closing = closing;
    }

    private void Spill(Session session)
    {
        var key = session.Key;
        bool current = session.Current;
        byte[] encoded = Parallel.StableKeyHash<TKey>.Encode(key);
        int group = Parallel.KeyGroups.Of(session.Hash, KeyGroupCount);

        _valueStream.SetLength(0);
        _valueWriter.Write(current);
        _valueWriter.Write(session.Start);
        StateCodec.Write(_valueWriter, key, typeof(TKey));
        WriteSlot(_valueWriter, session.Slot);
        _valueWriter.Flush();

        EnsureKeyBuffer(Layout.ByEndPrefix + encoded.Length);
        int length = Layout.WriteByEnd(_keyBuffer, group, session.End, session.Hash, encoded);
        Store.Put(_keyBuffer.AsSpan(0, length), _valueStream.GetBuffer().AsSpan(0, (int)_valueStream.Length));
        if (current)
        {
            length = Layout.WriteCurrent(_keyBuffer, group, session.Hash, encoded);
            Span<byte> end = stackalloc byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(end, session.End);
            Store.Put(_keyBuffer.AsSpan(0, length), end);
            _open.Remove(key);
        }

        _spilledFrom[group] = Math.Min(_spilledFrom[group], session.End);
        _spilled++;
        ReleaseSlot(session.Slot);
        session.Key = default!;
        _free.Push(session);
    }

    /// <summary>Frees <paramref name="slot"/> now, or once the checkpoint's records are written when the cut froze it.</summary>
    private void ReleaseSlot(int slot)
    {
        if (_cut is not null)
        {
            _cut.Release(slot);
        }
        else
        {
            Slots.Release(slot);
        }
    }

    private void EnsureKeyBuffer(int length)
    {
        if (_keyBuffer.Length < length)
        {
            _keyBuffer = new byte[Math.Max(length, _keyBuffer.Length * 2)];
        }
    }

    protected override void Close(long watermark)
    {
        _cut?.ReleaseFrozen();
        Store.Commit();
        EventBatch<TResult>? output = null;
        var spilled = OpenSpilled(watermark);
        try
        {
            while (true)
            {
                bool fromHeap = NextOnHeap(watermark, out var session, out var priority);
                int group = -1;
                (long End, ulong Hash) next = default;
                bool fromStore = spilled is not null && spilled.TryPeek(out group, out next);
                if (!fromHeap && !fromStore)
                {
                    break;
                }

                if (fromHeap && (!fromStore || (priority.End, priority.Hash).CompareTo((next.End, next.Hash)) <= 0))
                {
                    _closing.Dequeue();
                    EmitFromHeap(ref output, session!);
                }
                else
                {
                    spilled!.Dequeue();
                    EmitFromStore(ref output, group, next.End, next.Hash, watermark, spilled);
                }
            }
        }
        finally
        {
            if (spilled is not null)
            {
                foreach (var (_, cursor) in _cursors)
                {
                    cursor.Dispose();
                }

                _cursors.Clear();
            }
        }

        Store.Commit();
        if (output is not null)
        {
            Downstream.OnBatch(output);
        }
    }

    private readonly Dictionary<int, IKeyedStateCursor> _cursors = [];

    /// <summary>Opens a cursor on each key group with a spilled session that ends by <paramref name="watermark"/>, ordered by (end, hash).</summary>
    private PriorityQueue<int, (long End, ulong Hash)>? OpenSpilled(long watermark)
    {
        PriorityQueue<int, (long End, ulong Hash)>? queue = null;
        for (int g = 0; g < KeyGroupCount; g++)
        {
            if (_spilledFrom[g] > watermark)
            {
                continue;
            }

            var cursor = Store.Scan(Layout.ByEndFrom(g, _spilledFrom[g]), Layout.ByEndLimit(g));
            if (!cursor.Valid)
            {
                _spilledFrom[g] = long.MaxValue;
                cursor.Dispose();
                continue;
            }

            long end = Layout.EndOf(cursor.Key);
            if (end > watermark)
            {
                _spilledFrom[g] = end;
                cursor.Dispose();
                continue;
            }

            _cursors[g] = cursor;
            queue ??= new();
            queue.Enqueue(g, (end, Layout.HashOf(cursor.Key)));
        }

        return queue;
    }

    private bool NextOnHeap(long watermark, out Session? session, out (long End, ulong Hash, long Sequence) priority)
    {
        while (_closing.TryPeek(out session, out priority) && priority.End <= watermark)
        {
            if (session.End == priority.End)
            {
                return true;
            }

            _closing.Dequeue();
            _closing.Enqueue(session, (session.End, session.Hash, _sequence++)); // extended since it was queued
        }

        return false;
    }

    private void EmitFromHeap(ref EventBatch<TResult>? output, Session session)
    {
        // A slot frozen by the cut is read (Result reads, it does not change a slot) and freed once the cut is written.
        bool frozen = _cut is not null && _cut.KeepIfFrozen(session.Slot);
        Emit(ref output, session.Key, session.Start, session.End, session.Slot, session.End - 1, session.End, release: !frozen);
        if (session.Key is null)
        {
            if (ReferenceEquals(_nullKeySession, session))
            {
                _nullKeySession = null;
            }
        }
        else if (session.Current)
        {
            _open.Remove(session.Key);
        }

        session.Key = default!;
        _free.Push(session);
    }

    private void EmitFromStore(ref EventBatch<TResult>? output, int group, long end, ulong hash, long watermark, PriorityQueue<int, (long End, ulong Hash)> spilled)
    {
        var cursor = _cursors[group];
        var storedKey = cursor.Key;
        Store.Delete(storedKey);
        var session = ReadSpilled(cursor.Value, end, hash, out bool current, out var key);
        if (current)
        {
            byte[] encoded = storedKey[Layout.ByEndPrefix..].ToArray();
            EnsureKeyBuffer(Layout.CurrentPrefix + encoded.Length);
            int length = Layout.WriteCurrent(_keyBuffer, group, hash, encoded);
            Store.Delete(_keyBuffer.AsSpan(0, length));
        }

        _spilled--;
        Emit(ref output, key, session.Start, session.End, session.Slot, session.End - 1, session.End);
        session.Key = default!;
        _free.Push(session);

        cursor.Next();
        if (!cursor.Valid)
        {
            _spilledFrom[group] = long.MaxValue;
            return;
        }

        long nextEnd = Layout.EndOf(cursor.Key);
        _spilledFrom[group] = nextEnd;
        if (nextEnd <= watermark)
        {
            spilled.Enqueue(group, (nextEnd, Layout.HashOf(cursor.Key)));
        }
    }

    private sealed class Session
    {
        public TKey Key = default!;
        public ulong Hash;
        public long Start;
        public long End;
        public int Slot;
        public bool Touched;

        /// <summary>Whether this is its key's current session (in <c>_open</c>, or the null key's): later events of the key may extend it.</summary>
        public bool Current;
    }
}
#pragma warning restore CA1001
