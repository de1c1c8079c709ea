using System.Runtime.CompilerServices;
using LinqStream.Runtime;

namespace LinqStream.Physical.Over;

/// <summary>For each event, folds a user aggregate over the last rows of its key (the event last) and emits the result at the event's lifetime.</summary>
/// <remarks>
/// <para>
/// Each key owns a slot: a ring of <c>rows</c> payloads in one flat array (oldest at <c>_head</c>), its row count, the start of its
/// latest event, and links in a list of slots by latest start (input is in start order, so appending on each event keeps the list
/// sorted). A key is freed when an event start or the watermark reaches its latest start plus the idle timeout: the list's head
/// expires first, so freeing is amortized O(1). An event of a key whose latest start is at least the timeout ago sees only itself
/// (the same rule, decided by event times alone, so the answer does not depend on when watermarks come).
/// </para>
/// <para>
/// Per event: one table lookup and <c>min(rows, count + 1)</c> calls of the aggregate's <c>Add</c> (the operator is generic over the
/// aggregate, so a struct aggregate is inlined); nothing is allocated once the tables have grown. An event whose aggregate throws
/// is skipped (dead-lettered) or stops the query, by <c>QueryOptions.OnError</c>; a skipped event is not a row of its key.
/// </para>
/// </remarks>
internal sealed class OverRowsOperator<T, TKey, TState, TResult, TAggregate> : UnaryOperator<T, TResult>, Runtime.Checkpoints.ICheckpointed, Runtime.State.IStateMeter
    where TKey : notnull
    where TAggregate : IAggregate<T, TState, TResult>
{
    private const string OperatorName = "Over";

    private readonly Action<T[], ulong[]?, TKey[], int> _keyKernel;
    private readonly UserCodeFailures _failures;
    private readonly BatchPool<T> _inputPool;
    private readonly BatchPool<TResult> _outputPool;
    private readonly int _rows;
    private readonly long _idleTicks;
    private readonly TAggregate _aggregate;
    private readonly Dictionary<TKey, int> _slots = [];
    private int _nullSlot = -1;
    private TKey[] _keys = [];

    // Per slot; a free slot is linked through _next from _free.
    private TKey[] _slotKey = new TKey[16];
    private long[] _last = new long[16];
    private int[] _head = new int[16];
    private int[] _count = new int[16];
    private int[] _prev = new int[16];
    private int[] _next = new int[16];
    private T[] _ring;
    private int _used;
    private int _free = -1;
    private int _oldest = -1;
    private int _newest = -1;

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
        _ring = new T[16 * rows];
    }

    /// <summary>Gets the number of keys with rows held.</summary>
    public int KeyCount => _slots.Count + (_nullSlot >= 0 ? 1 : 0);

    /// <summary>Gets the number of rows held over all keys.</summary>
    public long RowCount
    {
        get
        {
            long rows = 0;
            for (int s = _oldest; s >= 0; s = _next[s])
            {
                rows += _count[s];
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

        var start = batch.Start;
        var end = batch.End;
        var payload = batch.Payload;
        var keys = _keys;
        long latest = long.MinValue;
        for (int i = 0; i < count; i++)
        {
            if (batch.IsAbsent(i))
            {
                continue;
            }

            latest = start[i];
            if (!Process(start[i], end[i], payload[i], keys[i]))
            {
                ClearKeys(count);
                _inputPool.Return(batch);
                Discard();
                return;
            }
        }

        ClearKeys(count);
        _inputPool.Return(batch);
        if (latest != long.MinValue)
        {
            // Input is in start order: no later event starts before `latest`, so keys idle since then are gone for good.
            Expire(latest);
        }

        Flush();
    }

    public override void OnWatermark(long watermark)
    {
        if (Faulted)
        {
            return;
        }

        Flush();
        Expire(watermark);
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

    /// <summary>Copies the state out: the live keys in expiry order, each with its rows oldest first.</summary>
    public OverRowsState<T, TKey> CaptureState()
    {
        var keys = new List<OverRowsKey<T, TKey>>(KeyCount);
        for (int s = _oldest; s >= 0; s = _next[s])
        {
            var rows = new T[_count[s]];
            for (int j = 0; j < rows.Length; j++)
            {
                rows[j] = _ring[RingIndex(s, _head[s] + j)];
            }

            keys.Add(new OverRowsKey<T, TKey>(_slotKey[s], _last[s], rows));
        }

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

            int s = Allocate(key.Key, key.LastStart);
            for (int j = 0; j < key.Rows.Count; j++)
            {
                _ring[RingIndex(s, j)] = key.Rows[j];
            }

            _count[s] = key.Rows.Count;
        }
    }

    /// <summary>Computes and emits the result of one event, then makes it a row of its key.</summary>
    /// <returns>False when the query stopped.</returns>
    private bool Process(long start, long end, T payload, TKey key)
    {
        int slot = Find(key);
        bool expired = slot >= 0 && Expired(_last[slot], start);
        TResult result;
        try
        {
            var state = _aggregate.Initial();
            if (slot >= 0 && !expired)
            {
                // The newest min(count, rows - 1) rows, oldest first.
                int have = _count[slot];
                int take = have < _rows ? have : _rows - 1;
                int first = _head[slot] + have - take;
                for (int j = 0; j < take; j++)
                {
                    state = _aggregate.Add(state, _ring[RingIndex(slot, first + j)]);
                }
            }

            state = _aggregate.Add(state, payload);
            result = _aggregate.Result(state);
        }
        catch (Exception ex)
        {
            if (_failures.Skip(ex, start, payload) is { } stop)
            {
                FailWith(stop);
                return false;
            }

            return true; // skipped into the dead letters: not a row of its key
        }

        Commit(slot, expired, start, payload, key);
        var output = _output ??= _outputPool.Rent();
        output.Add(start, end, result);
        if (output.IsFull)
        {
            _output = null;
            Downstream.OnBatch(output);
        }

        return true;
    }

    private void Commit(int slot, bool expired, long start, T payload, TKey key)
    {
        if (slot < 0)
        {
            slot = Allocate(key, start);
        }
        else
        {
            if (expired)
            {
                ClearRing(slot);
                _count[slot] = 0;
                _head[slot] = 0;
            }

            _last[slot] = start;
            MoveToNewest(slot);
        }

        int have = _count[slot];
        if (have < _rows)
        {
            _ring[RingIndex(slot, _head[slot] + have)] = payload;
            _count[slot] = have + 1;
        }
        else
        {
            _ring[RingIndex(slot, _head[slot])] = payload;
            _head[slot] = _head[slot] + 1 == _rows ? 0 : _head[slot] + 1;
        }
    }

    /// <summary>Whether a key whose latest event started at <paramref name="last"/> is forgotten at time <paramref name="now"/>.</summary>
    private bool Expired(long last, long now) => now >= last && unchecked((ulong)now - (ulong)last) >= (ulong)_idleTicks;

    /// <summary>Frees the keys whose latest start is at least the idle timeout before <paramref name="now"/>.</summary>
    private void Expire(long now)
    {
        while (_oldest >= 0 && Expired(_last[_oldest], now))
        {
            Free(_oldest);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int RingIndex(int slot, int position) => (slot * _rows) + (position >= _rows ? position - _rows : position);

    private int Find(TKey key)
    {
        if (key is null)
        {
            return _nullSlot;
        }

        return _slots.TryGetValue(key, out int slot) ? slot : -1;
    }

    private int Allocate(TKey key, long start)
    {
        int slot;
        if (_free >= 0)
        {
            slot = _free;
            _free = _next[slot];
        }
        else
        {
            if (_used == _last.Length)
            {
                Grow();
            }

            slot = _used++;
        }

        if (key is null)
        {
            _nullSlot = slot;
        }
        else
        {
            _slots.Add(key, slot);
        }

        _slotKey[slot] = key!; // null only for the null key's slot, which TKey's annotation does not admit
        _last[slot] = start;
        _head[slot] = 0;
        _count[slot] = 0;
        _prev[slot] = _newest;
        _next[slot] = -1;
        if (_newest >= 0)
        {
            _next[_newest] = slot;
        }
        else
        {
            _oldest = slot;
        }

        _newest = slot;
        return slot;
    }

    private void Free(int slot)
    {
        Unlink(slot);
        var key = _slotKey[slot];
        if (key is null)
        {
            _nullSlot = -1;
        }
        else
        {
            _slots.Remove(key);
        }

        ClearRing(slot);
        if (RuntimeHelpers.IsReferenceOrContainsReferences<TKey>())
        {
            _slotKey[slot] = default!;
        }

        _count[slot] = 0;
        _next[slot] = _free;
        _free = slot;
    }

    private void MoveToNewest(int slot)
    {
        if (slot == _newest)
        {
            return;
        }

        Unlink(slot);
        _prev[slot] = _newest;
        _next[slot] = -1;
        _next[_newest] = slot;
        _newest = slot;
    }

    private void Unlink(int slot)
    {
        int prev = _prev[slot], next = _next[slot];
        if (prev >= 0)
        {
            _next[prev] = next;
        }
        else
        {
            _oldest = next;
        }

        if (next >= 0)
        {
            _prev[next] = prev;
        }
        else
        {
            _newest = prev;
        }
    }

    private void ClearRing(int slot)
    {
        if (RuntimeHelpers.IsReferenceOrContainsReferences<T>())
        {
            Array.Clear(_ring, slot * _rows, _rows);
        }
    }

    private void Grow()
    {
        int capacity = _last.Length * 2;
        Array.Resize(ref _slotKey, capacity);
        Array.Resize(ref _last, capacity);
        Array.Resize(ref _head, capacity);
        Array.Resize(ref _count, capacity);
        Array.Resize(ref _prev, capacity);
        Array.Resize(ref _next, capacity);
        Array.Resize(ref _ring, capacity * _rows);
    }

    private void Flush()
    {
        if (_output is { Count: > 0 } output)
        {
            _output = null;
            Downstream.OnBatch(output);
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
        _oldest = -1;
        _newest = -1;
    }
}
