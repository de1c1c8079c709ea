using System.Runtime.CompilerServices;
using LinqStream.Physical.Join;

namespace LinqStream.Physical.Windows.KeyedFold;

/// <summary>
/// The join part: the merge of the two buffered inputs in start order is <see cref="BufferedJoinOperator{TLeft, TRight, TKey, TResult}"/>'s
/// (shared with <c>TemporalJoinOperator</c>); here the loop over a run of each side (the walk is <see cref="JoinRun"/>'s), what an event does
/// (the probes, each pair into the pair columns) and the eviction of ended events.
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

    /// <summary>Closes up to start <paramref name="bound"/>: each takes a live slot and pairs with the live right events of its key; a close with a null key matches nothing.</summary>
    private protected override void ProcessLeftRun(long bound)
    {
        var input = LeftInput;
        var payload = input.Head!.Payload;
        var keys = input.HeadKeys;
        var run = input.Run(bound);
        while (run.MoveNext())
        {
            EvictBefore(run.Start);
            var key = keys[run.Index];
            if (key is not null)
            {
                AddLeft(run.Start, run.End, payload[run.Index], key);
            }
        }

        input.Index = run.Stop;
    }

    /// <summary>Right events up to start <paramref name="bound"/>: each pairs with the live closes of its key; one with a null key matches nothing and is not kept.</summary>
    private protected override void ProcessRightRun(long bound)
    {
        var input = RightInput;
        var payload = input.Head!.Payload;
        var keys = input.HeadKeys;
        var run = input.Run(bound);
        while (run.MoveNext())
        {
            EvictBefore(run.Start);
            var key = keys[run.Index];
            if (key is not null)
            {
                AddRight(run.Start, run.End, payload[run.Index], key);
            }
        }

        input.Index = run.Stop;
    }
}
