using LinqStream.Runtime;
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
    private readonly FoldGroups<TKey, TState> _groups = new();
    private readonly TAggregate _aggregate;
    private TKey[] _keyColumn = [];
    private TIn[] _inputColumn = [];

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

                int s = _groups.GetOrOpen(payload[i].Close, keys[i], out bool opened);
                ref var group = ref _groups.Slots[s];
                group.State = _aggregate.Add(opened ? _aggregate.Initial() : group.State, inputs[i]);
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

        _groups.Release(); // every group was emitted (or the fold failed): the arrays back to the shared array pool (issue #19)
    }

    public string CheckpointName => OperatorName;

    public void WriteState(BinaryWriter writer) =>
        Runtime.Checkpoints.StateCodec.Write(writer, CaptureState(), typeof(KeyedFoldState<TKey, TState>));

    public void ReadState(BinaryReader reader) =>
        RestoreState((KeyedFoldState<TKey, TState>)Runtime.Checkpoints.StateCodec.Read(reader, typeof(KeyedFoldState<TKey, TState>))!);

    /// <summary>Copies the state out as plain data, in close order; the operator is not changed.</summary>
    public KeyedFoldState<TKey, TState> CaptureState() => new(_watermark, _groups.Capture());

    /// <summary>Loads a state captured by <see cref="CaptureState"/>; call before the operator receives any input.</summary>
    public void RestoreState(KeyedFoldState<TKey, TState> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        _watermark = state.Watermark;
        _groups.Restore(state.Groups);
    }

    /// <summary>Emits every group whose close is below <paramref name="watermark"/>; false when user code failed and the query stopped.</summary>
    private bool EmitBefore(long watermark)
    {
        EventBatch<TResult>? output = null;
        while (_groups.TryTakeNext(watermark, out int slot))
        {
            ref var group = ref _groups.Slots[slot];
            long close = group.Close;
            long end = Ticks.SaturatingAdd(close, 1);
            TResult result;
            try
            {
                result = _kernels.Result(group.Key, close, end, _aggregate.Result(group.State));
            }
            catch (Exception ex) when (ex is not QueryExecutionException)
            {
                _groups.Release();
                if (output is not null)
                {
                    _outputPool.Return(output);
                }

                Fail(ex, OperatorName, _kernels.Lambdas.Result.ToString());
                return false;
            }

            _groups.Release(slot);
            output ??= _outputPool.Rent();
            output.Add(close, end, result);
            if (output.IsFull)
            {
                Downstream.OnBatch(output);
                output = null;
            }
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
}
