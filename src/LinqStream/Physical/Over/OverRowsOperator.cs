using System.Runtime.CompilerServices;
using LinqStream.Runtime;
using LinqStream.Runtime.Tables;

namespace LinqStream.Physical.Over;

/// <summary>For each event, folds a user aggregate over the last rows of its key (the event last) and emits the result at the event's lifetime.</summary>
/// <remarks>
/// <para>
/// Each key owns a slot: a ring of <c>rows</c> payloads in one flat array (slot <c>s</c> owns <c>[s * rows, (s + 1) * rows)</c>, oldest at
/// the slot's head), and a <see cref="OverSlot"/> with the start of its latest event, its ring's head and row count, and when the expiry
/// queue looks at it next. Keys map to slots in a <see cref="KeySlotTable{TKey}"/> (open addressing for primitive keys, a dictionary
/// for the others; the null key has a slot of its own).
/// </para>
/// <para>
/// An event of a key whose latest start is at least the idle timeout ago sees only itself: decided by event times alone, per event, so
/// the answer does not depend on when a key's slot is freed. Freeing is lazy, so that an event only writes its slot's latest start: every
/// held slot is once in a FIFO queue, due at the latest start it had when queued plus the timeout. After each batch and at each
/// watermark the queue's due front is taken out; a slot idle for the timeout is freed, one seen since is queued again, due at its new
/// latest start plus the timeout. Input comes in start order, so a slot is freed at most one timeout after it could have been, and
/// each slot is looked at about once per timeout of event time.
/// </para>
/// <para>
/// Per event: one table lookup and <c>min(rows, count + 1)</c> calls of the aggregate's <c>Add</c> (the operator is generic over the
/// aggregate, so a struct aggregate is inlined); no virtual call and nothing allocated once the tables have grown. An event whose
/// aggregate throws is skipped (dead-lettered) or stops the query, by <c>QueryOptions.OnError</c>; a skipped event is not a row of
/// its key.
/// </para>
/// </remarks>
internal sealed class OverRowsOperator<T, TKey, TState, TResult, TAggregate> : UnaryOperator<T, TResult>, Runtime.Checkpoints.ICheckpointed, Runtime.State.IStateMeter
    where TKey : notnull
    where TAggregate : IAggregate<T, TState, TResult>
{
    private const string OperatorName = "Over";
    private const int InitialSlots = 16;

    private readonly Action<T[], ulong[]?, TKey[], int> _keyKernel;
    private readonly UserCodeFailures _failures;
    private readonly BatchPool<T> _inputPool;
    private readonly BatchPool<TResult> _outputPool;
    private readonly int _rows;
    private readonly long _idleTicks;
    private readonly TAggregate _aggregate;
    private readonly KeySlotTable<TKey> _slots = new();
    private int _nullSlot = -1;
    private TKey[] _keys = [];

    // Per slot; a free slot is linked through _nextFree from _free.
    private OverSlot[] _slot = new OverSlot[InitialSlots];
    private TKey[] _slotKey = new TKey[InitialSlots];
    private int[] _nextFree = new int[InitialSlots];
    private T[] _ring;
    private int _used;
    private int _free = -1;

    // The expiry queue: each held slot once, a ring of slot numbers (capacity a power of two, at least the slots').
    private int[] _queue = new int[InitialSlots];
    private int _queueHead;
    private int _queued;

    // The latest event start or watermark seen: no later event starts before it.
    private long _now = long.MinValue;

    private EventBatch<TResult>? _output;

    public OverRowsOperator(
        IStreamObserver<TResult> downstream, QueryContext context, Action<T[], ulong[]?, TKey[], int> keyKernel, string expression, int rows, long idleTicks, TAggregate aggregate)
        : base(downstream, context)
    {
        _keyKernel = keyKernel;
        _failures = new UserCodeFailures(context, OperatorName, expression);
        _inputPool = context.Pool<T>();
        _outputPool = context.Pool<TResult>();
        _rows = rows;
        _idleTicks = idleTicks;
        _aggregate = aggregate;
        _ring = new T[InitialSlots * rows];
    }

    /// <summary>Gets the number of keys with rows held (a key past its idle timeout is counted until the expiry queue frees it).</summary>
    public int KeyCount => _slots.Count + (_nullSlot >= 0 ? 1 : 0);

    /// <summary>Gets the number of rows held over all keys.</summary>
    public long RowCount
    {
        get
        {
            long rows = 0;
            for (int j = 0; j < _queued; j++)
            {
                rows += _slot[_queue[(_queueHead + j) & (_queue.Length - 1)]].Count;
            }

            return rows;
        }
    }

    /// <summary>Gets the number of keys held (progress reports and the out-of-memory message; <c>Over</c> does not spill).</summary>
    public long HeapGroups => KeyCount;

    public long SpilledGroups => 0;

    public string CheckpointName => "Over";

    public override void OnBatch(EventBatch<T> batch)
    {
        if (Faulted)
        {
            _inputPool.Return(batch);
            return;
        }

        int count = batch.Count;
        if (_failures.RunColumn(_keyKernel, batch, ref _keys) is { } stop)
        {
            // A key selector threw and the policy stops the query (skipped events are marked absent instead).
            ClearKeys(count);
            _inputPool.Return(batch);
            FailWith(stop);
            Discard();
            return;
        }

        bool running = Process(batch, count);
        ClearKeys(count);
        _inputPool.Return(batch);
        if (!running)
        {
            Discard();
            return;
        }

        // Input is in start order: no later event starts before the last one, so keys idle since then are gone for good.
        Expire();
        Flush();
    }

    public override void OnWatermark(long watermark)
    {
        if (Faulted)
        {
            return;
        }

        Flush();
        if (watermark > _now)
        {
            _now = watermark;
        }

        Expire();
        Downstream.OnWatermark(watermark);
    }

    public override void OnCompleted()
    {
        if (Faulted)
        {
            return;
        }

        Flush();
        Downstream.OnCompleted();
    }

    public override void OnError(Exception error)
    {
        base.OnError(error);
        Discard();
    }

    public void WriteState(BinaryWriter writer) => Runtime.Checkpoints.StateCodec.Write(writer, CaptureState(), typeof(OverRowsState<T, TKey>));

    public void ReadState(BinaryReader reader) => RestoreState((OverRowsState<T, TKey>)Runtime.Checkpoints.StateCodec.Read(reader, typeof(OverRowsState<T, TKey>))!);

    /// <summary>Copies the state out: the keys not yet idle for the timeout, least recently seen first, each with its rows oldest first.</summary>
    public OverRowsState<T, TKey> CaptureState()
    {
        var keys = new List<OverRowsKey<T, TKey>>(KeyCount);
        for (int j = 0; j < _queued; j++)
        {
            int s = _queue[(_queueHead + j) & (_queue.Length - 1)];
            ref var slot = ref _slot[s];
            if (Expired(slot.Last, _now))
            {
                continue; // forgotten for every later event, only not freed yet
            }

            var rows = new T[slot.Count];
            for (int r = 0; r < rows.Length; r++)
            {
                rows[r] = _ring[RingIndex(s, slot.Head + r)];
            }

            keys.Add(new OverRowsKey<T, TKey>(_slotKey[s], slot.Last, rows));
        }

        // The queue is in the order slots were (re)queued; a checkpoint lists them by latest start, the order they expire in.
        keys.Sort(static (a, b) => a.LastStart.CompareTo(b.LastStart));
        return new OverRowsState<T, TKey>(keys);
    }

    /// <summary>Loads a state captured by <see cref="CaptureState"/>; call before the operator receives any input.</summary>
    public void RestoreState(OverRowsState<T, TKey> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        foreach (var key in state.Keys)
        {
            if (key.Rows.Count is 0 || key.Rows.Count > _rows)
            {
                throw new InvalidDataException($"An Over checkpoint holds {key.Rows.Count} rows for a key; this query keeps 1 to {_rows}.");
            }

            if ((key.Key is null ? _nullSlot >= 0 : _slots.TryGetValue(key.Key, out _)) || key.LastStart < _now)
            {
                throw new InvalidDataException("An Over checkpoint lists a key twice or its keys out of order by latest start.");
            }

            int s = Allocate(key.Key!, key.LastStart);
            for (int r = 0; r < key.Rows.Count; r++)
            {
                _ring[RingIndex(s, r)] = key.Rows[r];
            }

            _slot[s].Count = key.Rows.Count;
            _now = key.LastStart;
        }
    }

    /// <summary>Computes and emits each present event's result, then makes the event a row of its key.</summary>
    /// <returns>False when the query stopped.</returns>
    private bool Process(EventBatch<T> batch, int count)
    {
        var start = batch.Start;
        var end = batch.End;
        var payload = batch.Payload;
        var keys = _keys;
        var output = _output ??= _outputPool.Rent();
        bool inAggregate = false; // only the aggregate's own failures are the event's; the engine's go on up
        int i = 0;
        while (i < count)
        {
            try
            {
                for (; i < count; i++)
                {
                    if (batch.IsAbsent(i))
                    {
                        continue;
                    }

                    var key = keys[i];
                    int s = Find(key);
                    bool fresh = s < 0 || Expired(_slot[s].Last, start[i]);
                    inAggregate = true;
                    var result = Compute(s, fresh, payload[i]);
                    inAggregate = false;
                    Keep(s, fresh, key, start[i], payload[i]);
                    output.Add(start[i], end[i], result);
                    if (output.IsFull)
                    {
                        i++;
                        break;
                    }
                }
            }
            catch (Exception ex) when (inAggregate)
            {
                // The aggregate threw for event i before anything of it was kept: skip it (dead letters) or stop.
                inAggregate = false;
                if (_failures.Skip(ex, start[i], payload[i]) is { } stop)
                {
                    FailWith(stop);
                    return false;
                }

                i++;
                continue;
            }

            if (output.IsFull)
            {
                Downstream.OnBatch(output);
                _output = output = _outputPool.Rent();
            }
        }

        return true;
    }

    /// <summary>Folds the aggregate over the newest <c>min(count, rows - 1)</c> rows of slot <paramref name="s"/> (none when <paramref name="fresh"/>), oldest first, then the event.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private TResult Compute(int s, bool fresh, T payload)
    {
        var state = _aggregate.Initial();
        if (!fresh)
        {
            // The slot's ring is [s * rows, s * rows + rows), oldest row at its head.
            ref var slot = ref _slot[s];
            int have = slot.Count;
            int take = have < _rows ? have : _rows - 1;
            int first = (s * _rows) + slot.Head + have - take;
            int limit = (s * _rows) + _rows;
            var ring = _ring;
            for (int j = 0; j < take; j++)
            {
                int at = first + j;
                state = _aggregate.Add(state, ring[at >= limit ? at - _rows : at]);
            }
        }

        state = _aggregate.Add(state, payload);
        return _aggregate.Result(state);
    }

    /// <summary>Makes the event a row of its key: a new slot, or the key's slot emptied first when <paramref name="fresh"/>; the oldest row goes when the ring is full.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Keep(int s, bool fresh, TKey key, long start, T payload)
    {
        _now = start;
        if (s < 0)
        {
            s = Allocate(key, start);
        }
        else if (fresh)
        {
            ClearRing(s);
            _slot[s].Head = 0;
            _slot[s].Count = 0;
        }

        ref var kept = ref _slot[s];
        kept.Last = start;
        int count = kept.Count;
        if (count < _rows)
        {
            OwnedArrays.Store(_ring, RingIndex(s, kept.Head + count), payload); // the ring is engine-made: no covariant store check
            kept.Count = count + 1;
        }
        else
        {
            OwnedArrays.Store(_ring, RingIndex(s, kept.Head), payload);
            kept.Head = kept.Head + 1 == _rows ? 0 : kept.Head + 1;
        }
    }

    /// <summary>Whether a key whose latest event started at <paramref name="last"/> is forgotten at time <paramref name="now"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Expired(long last, long now) => now >= last && unchecked((ulong)now - (ulong)last) >= (ulong)_idleTicks;

    /// <summary>When the expiry queue looks at a slot whose latest start is <paramref name="last"/>: <c>last + idle</c>, or never.</summary>
    private long DueAt(long last) => last <= long.MaxValue - _idleTicks ? last + _idleTicks : long.MaxValue;

    /// <summary>Takes the due slots out of the front of the expiry queue: frees those idle for the timeout at <see cref="_now"/>, queues the others again.</summary>
    private void Expire()
    {
        // Each slot at most once per call: a slot that can never expire (due at long.MaxValue) goes round without ending the loop.
        int mask = _queue.Length - 1;
        for (int looked = _queued; looked > 0 && _slot[_queue[_queueHead]].Due <= _now; looked--)
        {
            int s = _queue[_queueHead];
            _queueHead = (_queueHead + 1) & mask;
            _queued--;
            if (Expired(_slot[s].Last, _now))
            {
                Free(s);
            }
            else
            {
                Enqueue(s);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int RingIndex(int slot, int position) => (slot * _rows) + (position >= _rows ? position - _rows : position);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Find(TKey key)
    {
        if (key is null)
        {
            return _nullSlot;
        }

        return _slots.TryGetValue(key, out int slot) ? slot : -1;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private int Allocate(TKey key, long start)
    {
        int s;
        if (_free >= 0)
        {
            s = _free;
            _free = _nextFree[s];
        }
        else
        {
            if (_used == _slot.Length)
            {
                Grow();
            }

            s = _used++;
        }

        if (key is null)
        {
            _nullSlot = s;
        }
        else
        {
            _slots.Add(key, s);
        }

        _slotKey[s] = key!; // null only for the null key's slot, which TKey's annotation does not admit
        _slot[s] = new OverSlot { Last = start };
        Enqueue(s);
        return s;
    }

    /// <summary>Puts a slot at the back of the expiry queue, due at its latest start plus the timeout.</summary>
    private void Enqueue(int s)
    {
        _slot[s].Due = DueAt(_slot[s].Last);
        _queue[(_queueHead + _queued) & (_queue.Length - 1)] = s;
        _queued++;
    }

    private void Free(int s)
    {
        var key = _slotKey[s];
        if (key is null)
        {
            _nullSlot = -1;
        }
        else
        {
            _slots.Remove(key);
        }

        ClearRing(s);
        if (RuntimeHelpers.IsReferenceOrContainsReferences<TKey>())
        {
            _slotKey[s] = default!;
        }

        _slot[s] = default;
        _nextFree[s] = _free;
        _free = s;
    }

    private void ClearRing(int slot)
    {
        if (RuntimeHelpers.IsReferenceOrContainsReferences<T>())
        {
            Array.Clear(_ring, slot * _rows, _rows);
        }
    }

    /// <summary>Doubles the slots, their rings and the expiry queue (which holds at most one entry per slot).</summary>
    private void Grow()
    {
        int capacity = _slot.Length * 2;
        Array.Resize(ref _slot, capacity);
        Array.Resize(ref _slotKey, capacity);
        Array.Resize(ref _nextFree, capacity);
        Array.Resize(ref _ring, checked(capacity * _rows));

        // The queue's ring, unrolled from its head into a new one.
        var queue = new int[capacity];
        for (int j = 0; j < _queued; j++)
        {
            queue[j] = _queue[(_queueHead + j) & (_queue.Length - 1)];
        }

        _queue = queue;
        _queueHead = 0;
    }

    /// <summary>Sends the output batch on, or gives it back to the pool when it is empty.</summary>
    private void Flush()
    {
        if (_output is { } output)
        {
            _output = null;
            if (output.Count > 0)
            {
                Downstream.OnBatch(output);
            }
            else
            {
                _outputPool.Return(output);
            }
        }
    }

    private void ClearKeys(int count)
    {
        if (RuntimeHelpers.IsReferenceOrContainsReferences<TKey>())
        {
            Array.Clear(_keys, 0, count);
        }
    }

    /// <summary>Drops everything held after a failure, returning the partial output batch to the pool.</summary>
    private void Discard()
    {
        if (_output is not null)
        {
            _outputPool.Return(_output);
            _output = null;
        }

        _slots.Clear();
        _nullSlot = -1;
        Array.Clear(_ring);
        Array.Clear(_slotKey);
        _used = 0;
        _free = -1;
        _queueHead = 0;
        _queued = 0;
    }

    /// <summary>A key's slot: its latest start, its ring's head and row count, and when the expiry queue looks at it next.</summary>
    private struct OverSlot
    {
        public long Last;
        public long Due;
        public int Head;
        public int Count;
    }
}
