using System.Runtime.InteropServices;
using LinqStream.Physical.Aggregate;
using LinqStream.Runtime;
using LinqStream.Runtime.Checkpoints;
using LinqStream.Temporal;

namespace LinqStream.Physical.Windows.Session;

/// <summary>Session window aggregation, per key: a key's session ends after <c>gap</c> with no events (or at <c>maxDuration</c>).</summary>
/// <remarks>
/// <c>Window.Start</c> is the session's first event time and <c>Window.End</c> its last event time plus the gap (capped at
/// start + maxDuration). Results come out when the watermark reaches <c>Window.End</c>, in order of <c>Window.End</c>; because
/// sessions of different keys overlap, a result is stamped at the session's last tick, <c>[End - 1, End)</c> (Flink's
/// <c>window_time</c>), so the output stays ordered by start; sessions that end together come out in stable key-hash order
/// (docs/semantics.md §8). The output watermark is the input watermark.
/// </remarks>
internal sealed class SessionWindowAggregateOperator<T, TKey, TResult> : WindowAggregateOperator<T, TKey, TResult>
    where TKey : notnull
{
    private readonly Dictionary<TKey, Session?> _open = [];
    private readonly PriorityQueue<Session, (long End, ulong Hash, long Sequence)> _closing = new();
    private readonly Stack<Session> _free = new();
    private Session? _nullKeySession;
    private long _sequence;

    public SessionWindowAggregateOperator(
        IStreamObserver<TResult> downstream,
        QueryContext context,
        WindowSpec window,
        Action<T[], ulong[]?, TKey[], int>? keyKernel,
        AggregatePlan<T, TKey, TResult> plan,
        string description)
        : base(downstream, context, window, keyKernel, plan, description)
    {
    }

    public override string CheckpointName => "SessionAggregate";

    // Written straight from the open sessions (not through CaptureState), so a checkpoint holds no second copy of the state:
    // only an array of references to sort them in the order CaptureState gives.
    protected override void WriteWhole(BinaryWriter writer)
    {
        var sessions = SessionsInOrder();
        writer.Write(LastWatermark);
        writer.Write(sessions.Length);
        foreach (var session in sessions)
        {
            WriteSession(writer, session);
        }
    }

    protected override void ReadWhole(BinaryReader reader)
    {
        long watermark = reader.ReadInt64();
        int count = reader.ReadInt32();
        var sessions = new List<SessionState<TKey>>(Math.Min(count, 1 << 16));
        for (int i = 0; i < count; i++)
        {
            sessions.Add(ReadSession(reader));
        }

        RestoreState(new SessionAggregateState<TKey>(sessions, watermark));
    }

    public override KeyGroupSlice WriteKeyGroups(int first, int end, int keyGroups)
    {
        var sessions = SessionsInOrder();
        long watermark = LastWatermark;
        return KeyGroupSlice.Build(
            first,
            end,
            header => header.Write(watermark),
            writerOf =>
            {
                foreach (var session in sessions)
                {
                    WriteSession(writerOf(KeyGroupOf(session.Key, keyGroups)), session);
                }
            });
    }

    public override void ReadKeyGroups(KeyGroupedSection section, int first, int end)
    {
        long watermark = Ticks.MinusInfinity;
        foreach (var header in section.HeadersOver(first, end))
        {
            watermark = Math.Max(watermark, BitConverter.ToInt64(header));
        }

        var sessions = new List<SessionState<TKey>>();
        ReadRecords(section, first, end, reader => sessions.Add(ReadSession(reader)));
        // Sessions come back in the order one task would have captured them, whichever tasks wrote them.
        sessions.Sort(static (a, b) => a.End != b.End ? a.End.CompareTo(b.End) : a.Start.CompareTo(b.Start));
        RestoreState(new SessionAggregateState<TKey>(sessions, watermark));
    }

    /// <summary>Writes one session as <see cref="ReadSession"/> reads it (the fields of <see cref="SessionState{TKey}"/>).</summary>
    private void WriteSession(BinaryWriter writer, Session session)
    {
        writer.Write(session.Start);
        writer.Write(session.End);
        writer.Write(IsCurrent(session));
        StateCodec.Write(writer, session.Key, typeof(TKey));
        WriteSlot(writer, session.Slot);
    }

    /// <summary>The sessions not yet emitted, by end then start (the order <see cref="CaptureState"/> gives).</summary>
    private Session[] SessionsInOrder()
    {
        var sessions = new Session[_closing.Count];
        int i = 0;
        foreach (var (session, _) in _closing.UnorderedItems)
        {
            sessions[i++] = session;
        }

        Array.Sort(sessions, static (a, b) => a.End != b.End ? a.End.CompareTo(b.End) : a.Start.CompareTo(b.Start));
        return sessions;
    }

    /// <summary>Whether <paramref name="session"/> is its key's current one (later events of the key may still extend it).</summary>
    private bool IsCurrent(Session session) =>
        session.Key is null ? ReferenceEquals(_nullKeySession, session)
            : _open.TryGetValue(session.Key, out var open) && ReferenceEquals(open, session);

    private SessionState<TKey> ReadSession(BinaryReader reader)
    {
        long start = reader.ReadInt64();
        long end = reader.ReadInt64();
        bool current = reader.ReadBoolean();
        var key = (TKey)StateCodec.Read(reader, typeof(TKey))!;
        return new SessionState<TKey>(key, start, end, current, ReadAccumulators(reader));
    }

    /// <summary>Copies every session not yet emitted out as plain data.</summary>
    public SessionAggregateState<TKey> CaptureState()
    {
        var sessions = new List<SessionState<TKey>>();
        foreach (var (session, _) in _closing.UnorderedItems)
        {
            sessions.Add(new SessionState<TKey>(session.Key!, session.Start, session.End, IsCurrent(session), CaptureAccumulators(session.Slot)));
        }

        sessions.Sort(static (a, b) => a.End != b.End ? a.End.CompareTo(b.End) : a.Start.CompareTo(b.Start));
        return new SessionAggregateState<TKey>(sessions, LastWatermark);
    }

    /// <summary>Loads state captured by <see cref="CaptureState"/> into this fresh operator.</summary>
    public void RestoreState(SessionAggregateState<TKey> state)
    {
        LastWatermark = state.Watermark;
        foreach (var saved in state.Sessions)
        {
            var session = new Session { Key = saved.Key!, Hash = Parallel.StableKeyHash<TKey>.Hash(saved.Key!), Start = saved.Start, End = saved.End, Slot = RestoreAccumulators(saved.Accumulators) };

            _closing.Enqueue(session, (session.End, session.Hash, _sequence++));
            if (saved.Current)
            {
                if (saved.Key is null)
                {
                    _nullKeySession = session;
                }
                else
                {
                    _open[saved.Key] = session;
                }
            }
        }
    }

    protected override void Accumulate(EventBatch<T> batch)
    {
        AssignSlots(batch);
        FoldColumns(batch.Count);
    }

    private void AssignSlots(EventBatch<T> batch)
    {
        var start = batch.Start;
        bool keyed = KeyKernel is not null;
        for (int i = 0; i < batch.Count; i++)
        {
            if (batch.IsAbsent(i))
            {
                SlotColumn[i] = -1;
                continue;
            }

            long t = start[i];
            TKey key = keyed ? Keys[i] : default!;
            ref Session? session = ref key is null ? ref _nullKeySession : ref CollectionsMarshal.GetValueRefOrAddDefault(_open, key, out _);
            if (session is not null && t < session.End)
            {
                session.End = SessionEnd(session.Start, t);
            }
            else
            {
                // The previous session (if any) stays in the closing queue and is emitted at its end.
                var created = _free.Count > 0 ? _free.Pop() : new Session();
                created.Key = key!;
                created.Hash = keyed ? Parallel.StableKeyHash<TKey>.Hash(key!) : 0;
                created.Start = t;
                created.End = SessionEnd(t, t);
                created.Slot = Slots.Allocate();
                _closing.Enqueue(created, (created.End, created.Hash, _sequence++));
                session = created;
            }

            SlotColumn[i] = session.Slot;
        }
    }

    private long SessionEnd(long start, long last)
    {
        long end = Ticks.SaturatingAdd(last, Window.Gap);
        return Window.MaxDuration > 0 ? Math.Min(end, Ticks.SaturatingAdd(start, Window.MaxDuration)) : end;
    }

    protected override void Close(long watermark)
    {
        EventBatch<TResult>? output = null;
        while (_closing.TryPeek(out var session, out var priority) && priority.End <= watermark)
        {
            _closing.Dequeue();
            if (session.End != priority.End)
            {
                _closing.Enqueue(session, (session.End, session.Hash, _sequence++)); // extended since it was queued
                continue;
            }

            Emit(ref output, session.Key, session.Start, session.End, session.Slot, session.End - 1, session.End);

            if (session.Key is null)
            {
                if (ReferenceEquals(_nullKeySession, session))
                {
                    _nullKeySession = null;
                }
            }
            else if (_open.TryGetValue(session.Key, out var current) && ReferenceEquals(current, session))
            {
                _open.Remove(session.Key);
            }

            session.Key = default!;
            if (_free.Count < Math.Max(MinimumFree, _closing.Count))
            {
                _free.Push(session);
            }
        }

        if (output is not null)
        {
            Downstream.OnBatch(output);
        }

        if (Slots.ShouldCompactAfterClose())
        {
            Compact();
        }
    }

    /// <summary>The session objects kept for reuse however few sessions are open (more are kept while many are open).</summary>
    private const int MinimumFree = 1_024;

    /// <summary>Gets the number of keys the open-session table has room for (tests: it shrinks after a burst of keys).</summary>
    internal int OpenTableCapacity => _open.EnsureCapacity(0);

    /// <summary>
    /// Gives memory back after many sessions closed: the open sessions' slots move down to 0, 1, 2... (the columns shrink to fit),
    /// the key table and the closing queue are rebuilt at their size and the reusable session objects are dropped. Runs only when
    /// three quarters of the columns are free (<see cref="SlotAllocator{T}.ShouldCompactAfterClose"/>), so its cost is paid once per burst.
    /// </summary>
    private void Compact()
    {
        var live = new List<int>(Slots.Live);
        foreach (var (session, _) in _closing.UnorderedItems)
        {
            session.Slot = LiveSlots.Keep(live, session.Slot);
        }

        Slots.Compact(live);
        _open.TrimExcess();
        _closing.TrimExcess();
        _free.Clear();
        _free.TrimExcess();
        Context.TrimPools();
    }

    private sealed class Session
    {
        public TKey Key = default!;
        public ulong Hash;
        public long Start;
        public long End;
        public int Slot;
    }
}
