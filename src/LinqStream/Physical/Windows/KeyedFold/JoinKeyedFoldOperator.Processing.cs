using System.Runtime.CompilerServices;
using LinqStream.Physical.Join;

namespace LinqStream.Physical.Windows.KeyedFold;

/// <summary>
/// The join part: the merge of the two buffered inputs in start order and the walk of each run are <see cref="BufferedJoinOperator{TLeft, TRight, TKey, TResult}"/>'s
/// (shared with <c>TemporalJoinOperator</c>); here only what an event does: the probes (each pair into the pair columns) and the eviction of ended events.
/// </summary>
internal sealed partial class JoinKeyedFoldOperator<TLeft, TRight, TKey, TFoldKey, TIn, TState, TAggResult, TAggregate, TResult>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void EvictBefore(long time)
    {
        if ((_leftExpiry.Count > 0 && _leftExpiry.MinEnd <= time) || (_rightExpiry.Count > 0 && _rightExpiry.MinEnd <= time))
        {
            Evict(time);
        }
    }

    /// <summary>A close with a key: its live slot first (the pairs name it), then its pairs with the live right events of its key.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void AddLeft(long s, long e, TLeft payload, TKey key)
    {
        int id = _keys.GetOrAdd(key);
        int slot = _left.AddLinked(s, e, payload, id, _keys, KeyTable<TKey>.Left, _leftExpiry);
        if (slot >= _groupOf.Length)
        {
            GrowGroupOf();
        }

        _groupOf[slot] = -1;
        var rightNext = _right.Next; // right slots do not move while left events are processed
        var rightPayload = _right.Payload;
        for (int r = _keys.Head(id, KeyTable<TKey>.Right); r >= 0; r = rightNext[r])
        {
            AddPair(slot, rightPayload[r]);
        }
    }

    /// <summary>A right event with a key: pairs with the live closes of its key; kept only when it is not a point.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void AddRight(long s, long e, TRight payload, TKey key)
    {
        // A right point event overlaps no close still to come: it probes and is not kept (KeyTable.TryGetForRight).
        if (!_keys.TryGetForRight(key, s, e, out int id, out bool keep))
        {
            return;
        }

        var leftNext = _left.Next; // left slots do not move while right events are processed
        for (int l = _keys.Head(id, KeyTable<TKey>.Left); l >= 0; l = leftNext[l])
        {
            AddPair(l, payload);
        }

        if (keep)
        {
            _right.AddLinked(s, e, payload, id, _keys, KeyTable<TKey>.Right, _rightExpiry);
        }
    }

    /// <summary>Removes from both sides every live event with <c>End &lt;= time</c>, after folding the pairs that name their slots.</summary>
    private void Evict(long time)
    {
        FoldPairs();
        _left.FreeEnded(_leftExpiry, _keys, KeyTable<TKey>.Left, time);
        _right.FreeEnded(_rightExpiry, _keys, KeyTable<TKey>.Right, time);
    }

    /// <summary>The left side's step.</summary>
    private RunStep<TLeft, LeftSide> ForLeft() => new(this);

    /// <summary>The right side's step.</summary>
    private RunStep<TRight, RightSide> ForRight() => new(this);

    /// <summary>
    /// The events of a run of one side, one by one (<c>BufferedJoinOperator.ForEachInRun</c>): a close (left) takes a live slot and pairs
    /// with the live right events of its key, a right event pairs with the live closes of its key; an event with a null key matches
    /// nothing and is not kept. <typeparamref name="TSide"/> says which side (<typeparamref name="T"/> is that side's payload type:
    /// <see cref="ForLeft"/> and <see cref="ForRight"/> make the only two), so each side's loop is compiled with its own branch only.
    /// </summary>
    private readonly struct RunStep<T, TSide>(JoinKeyedFoldOperator<TLeft, TRight, TKey, TFoldKey, TIn, TState, TAggResult, TAggregate, TResult> fold)
        : IJoinRunStep<T, TKey>
        where TSide : struct, IJoinSide
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Before(long start) => fold.EvictBefore(start);

        public void WithoutKey(long start, long end, T payload)
        {
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Add(long start, long end, T payload, TKey key)
        {
            // T is TLeft on the left side and TRight on the right (ForLeft/ForRight): the reinterpretation is the identity.
            if (TSide.IsLeft)
            {
                fold.AddLeft(start, end, Unsafe.As<T, TLeft>(ref payload), key);
            }
            else
            {
                fold.AddRight(start, end, Unsafe.As<T, TRight>(ref payload), key);
            }
        }
    }
}
