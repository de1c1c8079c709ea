namespace LinqStream.Physical.Join;

/// <summary>The operator's state as plain data (<see cref="JoinState{TLeft, TRight, TKey}"/>), for checkpoints.</summary>
internal partial class TemporalJoinOperator<TLeft, TRight, TKey, TResult> : Runtime.Checkpoints.ICheckpointed, Runtime.State.IStateMeter
{
    /// <summary>Gets the number of live events held on the heap, both inputs (progress reports and the out-of-memory message).</summary>
    public long HeapGroups => (long)_left.Count + _right.Count;

    /// <summary>Gets the number of live events in a state store (none on the heap backend).</summary>
    public virtual long SpilledGroups => 0;

    public virtual string CheckpointName => "Join(" + _kind + ")";

    public virtual void WriteState(BinaryWriter writer) => Runtime.Checkpoints.StateCodec.Write(writer, CaptureState(), typeof(JoinState<TLeft, TRight, TKey>));

    public virtual void ReadState(BinaryReader reader) => Restore((JoinState<TLeft, TRight, TKey>)Runtime.Checkpoints.StateCodec.Read(reader, typeof(JoinState<TLeft, TRight, TKey>))!);

    /// <summary>Copies the whole state between two calls; the operator is not changed.</summary>
    public JoinState<TLeft, TRight, TKey> CaptureState() => CaptureJoin(_kind, Capture(_left, _undecided), Capture(_right, null), _pending.Snapshot());

    /// <summary>Loads <paramref name="state"/> into this operator, which must be new (no input seen yet).</summary>
    /// <remarks>Buffered events go through the key kernels again; live events keep their captured keys.</remarks>
    public void Restore(JoinState<TLeft, TRight, TKey> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Kind != _kind)
        {
            throw new ArgumentException($"The state of a {state.Kind} join cannot be restored into a {_kind} join.", nameof(state));
        }

        RestoreProgress(state);
        foreach (var e in state.LeftLive)
        {
            int slot = RestoreLive(_left, _leftExpiry, KeyTable<TKey>.Left, e);
            if (e.AwaitingDecision)
            {
                _undecided.Enqueue(slot);
            }
        }

        foreach (var e in state.RightLive)
        {
            RestoreLive(_right, _rightExpiry, KeyTable<TKey>.Right, e);
        }

        foreach (var p in state.PendingResults)
        {
            _pending.Enqueue(p.Start, p.End, p.Left, p.Right);
        }

        RefillBuffered(state);
    }

    private List<LiveEvent<T, TKey>> Capture<T>(LiveEvents<T> live, Queue<int>? undecided) => LiveEventsState.Capture(live, _keys, undecided);

    private int RestoreLive<T>(LiveEvents<T> live, ExpiryHeap expiry, int side, LiveEvent<T, TKey> e) => LiveEventsState.Restore(live, expiry, _keys, side, e);
}
