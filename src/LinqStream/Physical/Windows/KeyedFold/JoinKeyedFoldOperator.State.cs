using LinqStream.Physical.Join;
using LinqStream.Runtime.Checkpoints;

namespace LinqStream.Physical.Windows.KeyedFold;

/// <summary>The operator's state as plain data (<see cref="JoinKeyedFoldState{TLeft, TRight, TKey, TFoldKey, TState}"/>), for checkpoints.</summary>
internal sealed partial class JoinKeyedFoldOperator<TLeft, TRight, TKey, TFoldKey, TIn, TState, TAggResult, TAggregate, TResult>
    : ICheckpointed, Runtime.State.IStateMeter
{
    /// <summary>The version written before the state; a reader refuses any other.</summary>
    public const int FormatVersion = 1;

    /// <summary>Gets the live events and open groups held (progress reports and the out-of-memory message; nothing spills).</summary>
    public long HeapGroups => (long)_left.Count + _right.Count + _groups.Count;

    public long SpilledGroups => 0;

    public string CheckpointName => "JoinKeyedFold";

    public void WriteState(BinaryWriter writer)
    {
        writer.Write(FormatVersion);
        StateCodec.Write(writer, CaptureState(), typeof(JoinKeyedFoldState<TLeft, TRight, TKey, TFoldKey, TState>));
    }

    public void ReadState(BinaryReader reader)
    {
        int version = reader.ReadInt32();
        if (version != FormatVersion)
        {
            throw new InvalidDataException($"The checkpoint holds JoinKeyedFold state of format {version}; this version reads format {FormatVersion}.");
        }

        Restore((JoinKeyedFoldState<TLeft, TRight, TKey, TFoldKey, TState>)StateCodec.Read(reader, typeof(JoinKeyedFoldState<TLeft, TRight, TKey, TFoldKey, TState>))!);
    }

    /// <summary>Copies the whole state between two calls (no pair is waiting then); the operator is not changed.</summary>
    public JoinKeyedFoldState<TLeft, TRight, TKey, TFoldKey, TState> CaptureState() =>
        new(CaptureJoin(Temporal.JoinKind.Inner, LiveEventsState.Capture(_left, _keys, null), LiveEventsState.Capture(_right, _keys, null), []), _groups.Capture());

    /// <summary>Loads <paramref name="state"/> into this operator, which must be new (no input seen yet).</summary>
    public void Restore(JoinKeyedFoldState<TLeft, TRight, TKey, TFoldKey, TState> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var join = state.Join;
        RestoreProgress(join);
        foreach (var e in join.LeftLive)
        {
            LiveEventsState.Restore(_left, _leftExpiry, _keys, KeyTable<TKey>.Left, e);
        }

        foreach (var e in join.RightLive)
        {
            LiveEventsState.Restore(_right, _rightExpiry, _keys, KeyTable<TKey>.Right, e);
        }

        if (_groupOf.Length < _left.Capacity)
        {
            GrowGroupOf();
        }

        Array.Fill(_groupOf, -1); // a cache: each close finds its group again on its next pair
        _groups.Restore(state.Groups);
        RefillBuffered(join);
    }
}

/// <summary>What a <c>JoinKeyedFoldOperator</c> holds between two calls, as plain data for checkpoints (format <c>FormatVersion</c>).</summary>
/// <typeparam name="TLeft">The closes' payload type.</typeparam>
/// <typeparam name="TRight">The right input's payload type.</typeparam>
/// <typeparam name="TKey">The join key type.</typeparam>
/// <typeparam name="TFoldKey">The group key type.</typeparam>
/// <typeparam name="TState">The user aggregate's state type.</typeparam>
/// <param name="Join">The join part: watermarks, buffered and live events of both inputs (an inner join: nothing held back).</param>
/// <param name="Groups">The open groups, in close order.</param>
internal sealed record JoinKeyedFoldState<TLeft, TRight, TKey, TFoldKey, TState>(JoinState<TLeft, TRight, TKey> Join, IReadOnlyList<KeyedFoldGroup<TFoldKey, TState>> Groups);
