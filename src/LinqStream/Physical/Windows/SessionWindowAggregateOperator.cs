using System.Runtime.InteropServices;
using LinqStream.Physical.Aggregate;
using LinqStream.Runtime;
using LinqStream.Temporal;

namespace LinqStream.Physical.Windows;

/// <summary>Session window aggregation, per key: a key's session ends after <c>gap</c> with no events (or at <c>maxDuration</c>).</summary>
/// <remarks>
/// <c>Window.Start</c> is the session's first event time and <c>Window.End</c> its last event time plus the gap (capped at
/// start + maxDuration). Results come out when the watermark reaches <c>Window.End</c>, in order of <c>Window.End</c>; because
/// sessions of different keys overlap, a result is stamped at the session's last tick, <c>[End - 1, End)</c> (Flink's
/// <c>window_time</c>), so the output stays ordered by start. The output watermark is the input watermark.
/// </remarks>
internal sealed class SessionWindowAggregateOperator<T, TKey, TResult> : UnaryOperator<T, TResult>
    where TKey : notnull
{
    private readonly WindowSpec _window;
    private readonly Action<T[], ulong[]?, TKey[], int>? _keyKernel;
    private readonly AggregatePlan<T, TKey, TResult> _plan;
    private readonly SlotAllocator<T> _slots;
    private readonly BatchPool<T> _inputPool;
    private readonly BatchPool<TResult> _outputPool;
    private readonly Dictionary<TKey, Session?> _open = [];
    private readonly PriorityQueue<Session, (long End, long Sequence)> _closing = new();
    private readonly Stack<Session> _free = new();
    private readonly string _description;
    private Session? _nullKeySession;
    private TKey[] _keys = [];
    private int[] _slotColumn = [];
    private long _sequence;
    private long _lastWatermark = Ticks.MinusInfinity;

    public SessionWindowAggregateOperator(
        IStreamObserver<TResult> downstream,
        QueryContext context,
        WindowSpec window,
        Action<T[], ulong[]?, TKey[], int>? keyKernel,
        AggregatePlan<T, TKey, TResult> plan,
        string description)
        : base(downstream, context)
    {
        _window = window;
        _keyKernel = keyKernel;
        _plan = plan;
        _slots = new SlotAllocator<T>(plan.Columns);
        _inputPool = context.Pool<T>();
        _outputPool = context.Pool<TResult>();
        _description = description;
    }

    /// <summary>Gets the number of sessions not yet emitted.</summary>
    public int LiveGroups => _slots.Live;

    /// <summary>Copies every session not yet emitted out as plain data.</summary>
    public SessionAggregateState<TKey> CaptureState()
    {
        var sessions = new List<SessionState<TKey>>();
        foreach (var (session, _) in _closing.UnorderedItems)
        {
            var accumulators = new object?[_plan.Columns.Length];
            for (int c = 0; c < accumulators.Length; c++)
            {
                accumulators[c] = _plan.Columns[c].CaptureSlot(session.Slot);
            }

            bool current = session.Key is null ? ReferenceEquals(_nullKeySession, session)
                : _open.TryGetValue(session.Key, out var open) && ReferenceEquals(open, session);
            sessions.Add(new SessionState<TKey>(session.Key!, session.Start, session.End, current, accumulators));
        }

        sessions.Sort(static (a, b) => a.End != b.End ? a.End.CompareTo(b.End) : a.Start.CompareTo(b.Start));
        return new SessionAggregateState<TKey>(sessions, _lastWatermark);
    }

    /// <summary>Loads state captured by <see cref="CaptureState"/> into this fresh operator.</summary>
    public void RestoreState(SessionAggregateState<TKey> state)
    {
        _lastWatermark = state.Watermark;
        foreach (var saved in state.Sessions)
        {
            var session = new Session { Key = saved.Key!, Start = saved.Start, End = saved.End, Slot = _slots.Allocate() };
            for (int c = 0; c < _plan.Columns.Length; c++)
            {
                _plan.Columns[c].RestoreSlot(session.Slot, saved.Accumulators[c]);
            }

            _closing.Enqueue(session, (session.End, _sequence++));
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

    public override void OnBatch(EventBatch<T> batch)
    {
        if (Faulted)
        {
            _inputPool.Return(batch);
            return;
        }

        try
        {
            int count = batch.Count;
            if (_slotColumn.Length < count)
            {
                _slotColumn = new int[batch.Capacity];
                _keys = new TKey[batch.Capacity];
            }

            _keyKernel?.Invoke(batch.Payload, batch.Absent, _keys, count);
            foreach (var column in _plan.Columns)
            {
                column.Prepare(batch);
            }

            AssignSlots(batch);
            foreach (var column in _plan.Columns)
            {
                column.Accumulate(_slotColumn, count);
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

    public override void OnWatermark(long watermark)
    {
        if (Faulted)
        {
            return;
        }

        try
        {
            Close(watermark);
        }
        catch (Exception ex)
        {
            Fail(ex, "Select", _plan.ResultExpression.ToString());
            return;
        }

        if (watermark > _lastWatermark)
        {
            _lastWatermark = watermark;
            Downstream.OnWatermark(watermark);
        }
    }

    private void AssignSlots(EventBatch<T> batch)
    {
        var start = batch.Start;
        bool keyed = _keyKernel is not null;
        for (int i = 0; i < batch.Count; i++)
        {
            if (batch.IsAbsent(i))
            {
                _slotColumn[i] = -1;
                continue;
            }

            long t = start[i];
            TKey key = keyed ? _keys[i] : default!;
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
                created.Start = t;
                created.End = SessionEnd(t, t);
                created.Slot = _slots.Allocate();
                _closing.Enqueue(created, (created.End, _sequence++));
                session = created;
            }

            _slotColumn[i] = session.Slot;
        }
    }

    private long SessionEnd(long start, long last)
    {
        long end = Ticks.SaturatingAdd(last, _window.Gap);
        return _window.MaxDuration > 0 ? Math.Min(end, Ticks.SaturatingAdd(start, _window.MaxDuration)) : end;
    }

    private void Close(long watermark)
    {
        EventBatch<TResult>? output = null;
        while (_closing.TryPeek(out var session, out var priority) && priority.End <= watermark)
        {
            _closing.Dequeue();
            if (session.End != priority.End)
            {
                _closing.Enqueue(session, (session.End, _sequence++)); // extended since it was queued
                continue;
            }

            var result = _plan.Result(session.Key, session.Start, session.End, session.Slot);
            _slots.Release(session.Slot);
            output ??= _outputPool.Rent();
            output.Add(session.End - 1, session.End, result);
            if (output.IsFull)
            {
                Downstream.OnBatch(output);
                output = null;
            }

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
            _free.Push(session);
        }

        if (output is not null)
        {
            Downstream.OnBatch(output);
        }
    }

    private sealed class Session
    {
        public TKey Key = default!;
        public long Start;
        public long End;
        public int Slot;
    }
}
