using LinqStream.Runtime;
using LinqStream.Runtime.Tables;
using LinqStream.Temporal;

namespace LinqStream.Physical.Windows.KeyedFold;

/// <summary>
/// Folds each tagged value into the state of its group (its close time and key) as it arrives, and when the watermark passes a
/// close emits one result per group of that close.
/// </summary>
/// <remarks>
/// <para>
/// Per value: one table lookup and one <c>Add</c> of the user aggregate (a struct aggregate is inlined: the operator is generic
/// over it). Nothing is allocated per value once the tables have grown to the largest number of open groups. The aggregate is
/// marked commutative, so folding in arrival order gives the answer the replaced window gave folding in its own order.
/// </para>
/// <para>
/// A value tagged <c>c</c> starts at or before <c>c</c> (it was matched with a key event still alive at <c>c</c>), so once the
/// watermark is above <c>c</c> the group is complete. Groups come out by close time, then a null key, then the other keys in stable
/// key order (docs/semantics.md §8), each with the lifetime <c>[c, c + 1)</c>.
/// </para>
/// </remarks>
internal sealed class KeyedFoldOperator<TX, TKey, TIn, TState, TAggResult, TAggregate, TResult>
    : UnaryOperator<Closing<TX>, TResult>, Runtime.Checkpoints.ICheckpointed, Runtime.State.IStateMeter
    where TKey : notnull
    where TAggregate : IAggregate<TIn, TState, TAggResult>
{
    private const string OperatorName = "KeyedFold";

    private readonly KeyedFoldKernels<TX, TKey, TIn, TAggResult, TResult> _kernels;
    private readonly BatchPool<Closing<TX>> _inputPool;
    private readonly BatchPool<TResult> _outputPool;
    private readonly KeySlotTable<Group, GroupHasher> _groups = new();
    private readonly CloseQueue _closes = new();
    private readonly Parallel.KeyOrder<TKey> _keyOrder = new();
    private readonly TAggregate _aggregate;
    private TKey[] _keyColumn = [];
    private TIn[] _inputColumn = [];

    // Slots of the open groups; a free slot is linked through _nextFree.
    private long[] _close = new long[16];
    private TKey[] _key = new TKey[16];
    private TState[] _state = new TState[16];
    private int[] _nextFree = new int[16];
    private int _free = -1;
    private int _used;

    private long _watermark = Ticks.MinusInfinity;

    public KeyedFoldOperator(IStreamObserver<TResult> downstream, QueryContext context, KeyedFoldKernels<TX, TKey, TIn, TAggResult, TResult> kernels, TAggregate aggregate)
        : base(downstream, context)
    {
        _kernels = kernels;
        _aggregate = aggregate;
        _inputPool = context.Pool<Closing<TX>>();
        _outputPool = context.Pool<TResult>();
    }

    /// <summary>Gets the number of open groups (one state each; no input value is held).</summary>
    public int OpenGroups => _groups.Count;

    /// <summary>Gets the number of open groups (progress reports and the out-of-memory message; the keyed fold does not spill).</summary>
    public long HeapGroups => OpenGroups;

    public long SpilledGroups => 0;

    public override void OnBatch(EventBatch<Closing<TX>> batch)
    {
        if (Faulted)
        {
            _inputPool.Return(batch);
            return;
        }

        int count = batch.Count;
        if (_keyColumn.Length < count)
        {
            _keyColumn = new TKey[batch.Capacity];
            _inputColumn = new TIn[batch.Capacity];
        }

        var payload = batch.Payload;
        var absent = batch.Absent;
        try
        {
            _kernels.Key(payload, absent, _keyColumn, count);
        }
        catch (Exception ex) when (ex is not QueryExecutionException)
        {
            _inputPool.Return(batch);
            Fail(ex, OperatorName, _kernels.Lambdas.Key.ToString());
            return;
        }

        try
        {
            _kernels.Input(payload, absent, _inputColumn, count);
        }
        catch (Exception ex) when (ex is not QueryExecutionException)
        {
            _inputPool.Return(batch);
            Fail(ex, OperatorName, _kernels.Lambdas.Input.ToString());
            return;
        }

        var keys = _keyColumn;
        var inputs = _inputColumn;
        var start = batch.Start;
        var end = batch.End;
        try
        {
            for (int i = 0; i < count; i++)
            {
                if ((absent[i >> 6] & (1UL << i)) != 0 || end[i] <= start[i])
                {
                    continue;
                }

                long close = payload[i].Close;
                ref int slot = ref _groups.GetValueRefOrAddDefault(new Group(close, keys[i]), out bool exists);
                if (!exists)
                {
                    slot = Open(close, keys[i], _aggregate.Initial());
                }

                int s = slot;
                _state[s] = _aggregate.Add(_state[s], inputs[i]);
            }
        }
        catch (Exception ex) when (ex is not QueryExecutionException)
        {
            _inputPool.Return(batch);
            Fail(ex, OperatorName, _kernels.Lambdas.Input.ToString());
            return;
        }

        if (System.Runtime.CompilerServices.RuntimeHelpers.IsReferenceOrContainsReferences<TKey>())
        {
            Array.Clear(keys, 0, count);
        }

        if (System.Runtime.CompilerServices.RuntimeHelpers.IsReferenceOrContainsReferences<TIn>())
        {
            Array.Clear(inputs, 0, count);
        }

        _inputPool.Return(batch);
    }

    public override void OnWatermark(long watermark)
    {
        if (Faulted || watermark <= _watermark)
        {
            return;
        }

        _watermark = watermark;
        if (!EmitBefore(watermark))
        {
            return;
        }

        Downstream.OnWatermark(watermark);
    }

    public override void OnCompleted()
    {
        if (Faulted)
        {
            return;
        }

        OnWatermark(Ticks.Infinity);
        if (!Faulted)
        {
            Downstream.OnCompleted();
        }
    }

    public string CheckpointName => OperatorName;

    public void WriteState(BinaryWriter writer) =>
        Runtime.Checkpoints.StateCodec.Write(writer, CaptureState(), typeof(KeyedFoldState<TKey, TState>));

    public void ReadState(BinaryReader reader) =>
        RestoreState((KeyedFoldState<TKey, TState>)Runtime.Checkpoints.StateCodec.Read(reader, typeof(KeyedFoldState<TKey, TState>))!);

    /// <summary>Copies the state out as plain data, in close order; the operator is not changed.</summary>
    public KeyedFoldState<TKey, TState> CaptureState()
    {
        var groups = new List<KeyedFoldGroup<TKey, TState>>(_groups.Count);
        foreach (var (group, slot) in _groups)
        {
            groups.Add(new KeyedFoldGroup<TKey, TState>(group.Close, group.Key, _state[slot]));
        }

        groups.Sort(static (a, b) => a.Close.CompareTo(b.Close));
        return new KeyedFoldState<TKey, TState>(_watermark, groups);
    }

    /// <summary>Loads a state captured by <see cref="CaptureState"/>; call before the operator receives any input.</summary>
    public void RestoreState(KeyedFoldState<TKey, TState> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        _groups.Clear();
        _closes.Clear();
        _free = -1;
        _used = 0;
        _watermark = state.Watermark;
        foreach (var group in state.Groups)
        {
            _groups.GetValueRefOrAddDefault(new Group(group.Close, group.Key), out _) = Open(group.Close, group.Key, group.State);
        }
    }

    private int Open(long close, TKey key, TState state)
    {
        int slot;
        if (_free >= 0)
        {
            slot = _free;
            _free = _nextFree[slot];
        }
        else
        {
            if (_used == _close.Length)
            {
                int size = _used * 2;
                Array.Resize(ref _close, size);
                Array.Resize(ref _key, size);
                Array.Resize(ref _state, size);
                Array.Resize(ref _nextFree, size);
            }

            slot = _used++;
        }

        _close[slot] = close;
        _key[slot] = key;
        _state[slot] = state;
        _closes.Enqueue(slot, close);
        return slot;
    }

    private void Release(int slot)
    {
        _groups.Remove(new Group(_close[slot], _key[slot]));
        _key[slot] = default!;
        _state[slot] = default!;
        _nextFree[slot] = _free;
        _free = slot;
    }

    /// <summary>Emits every group whose close is below <paramref name="watermark"/>; false when user code failed and the query stopped.</summary>
    private bool EmitBefore(long watermark)
    {
        EventBatch<TResult>? output = null;
        while (_closes.TryPeek(out int first, out long close) && close < watermark)
        {
            _closes.Dequeue();
            if (!_closes.TryPeek(out _, out long following) || following != close)
            {
                // The only group of this close (q4/q9: one auction per close): there is no key order to find.
                if (!Emit(ref output, first))
                {
                    return false;
                }

                continue;
            }

            // Every group of this close: a null key first, then the others in stable key order.
            int nullSlot = -1;
            var order = _keyOrder;
            order.Clear();
            if (_key[first] is null)
            {
                nullSlot = first;
            }
            else
            {
                order.Add(_key[first], first);
            }

            while (_closes.TryPeek(out int slot, out long next) && next == close)
            {
                _closes.Dequeue();
                if (_key[slot] is null)
                {
                    nullSlot = slot;
                }
                else
                {
                    order.Add(_key[slot], slot);
                }
            }

            order.Sort();
            if (nullSlot >= 0 && !Emit(ref output, nullSlot))
            {
                return false;
            }

            for (int i = 0; i < order.Count; i++)
            {
                if (!Emit(ref output, order.SlotAt(i)))
                {
                    return false;
                }
            }

            order.Clear();
        }

        if (output is { Count: > 0 })
        {
            Downstream.OnBatch(output);
        }
        else if (output is not null)
        {
            _outputPool.Return(output);
        }

        return true;
    }

    private bool Emit(ref EventBatch<TResult>? output, int slot)
    {
        long close = _close[slot];
        long end = Ticks.SaturatingAdd(close, 1);
        TResult result;
        try
        {
            result = _kernels.Result(_key[slot], close, end, _aggregate.Result(_state[slot]));
        }
        catch (Exception ex) when (ex is not QueryExecutionException)
        {
            _keyOrder.Clear();
            if (output is not null)
            {
                _outputPool.Return(output);
                output = null;
            }

            Fail(ex, OperatorName, _kernels.Lambdas.Result.ToString());
            return false;
        }

        Release(slot);
        output ??= _outputPool.Rent();
        output.Add(close, end, result);
        if (output.IsFull)
        {
            Downstream.OnBatch(output);
            output = null;
        }

        return true;
    }

    /// <summary>A group: its close time and key (a null key is a key like any other here).</summary>
    private readonly record struct Group(long Close, TKey Key);

    /// <summary>Open addressing for a group whose key is primitive (q4/q9: the auction id); a dictionary of groups for other keys.</summary>
    private readonly struct GroupHasher : IKeyHasher<Group>
    {
        public static bool IsSupported => PrimitiveKeyHasher<TKey>.IsSupported;

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        public static ulong Hash(Group group) =>
            PrimitiveKeyHasher<TKey>.Hash(group.Key) ^ ((ulong)group.Close * 0xC2B2AE3D27D4EB4FUL);

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        public static bool Equal(Group a, Group b) => a.Close == b.Close && PrimitiveKeyHasher<TKey>.Equal(a.Key, b.Key);
    }
}
