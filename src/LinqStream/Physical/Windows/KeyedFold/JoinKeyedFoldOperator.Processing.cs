using System.Runtime.CompilerServices;
using LinqStream.Physical.Join;

namespace LinqStream.Physical.Windows.KeyedFold;

/// <summary>The join part: the merge of the two buffered inputs in start order, the probes, and the eviction of ended events.</summary>
internal sealed partial class JoinKeyedFoldOperator<TLeft, TRight, TKey, TFoldKey, TIn, TState, TAggResult, TAggregate, TResult>
{
    /// <summary>Closes up to start <paramref name="bound"/>: each takes a live slot and pairs with the live right events of its key.</summary>
    private protected override void ProcessLeftRun(long bound)
    {
        var input = LeftInput;
        var batch = input.Head!;
        var keys = input.HeadKeys;
        var start = batch.Start;
        var end = batch.End;
        var payload = batch.Payload;
        var absent = batch.Absent;
        int count = batch.Count;
        var rightNext = _right.Next;
        var rightPayload = _right.Payload;

        int i = input.Index;
        for (; i < count; i++)
        {
            if ((absent[i >> 6] & (1UL << i)) != 0)
            {
                continue;
            }

            long s = start[i];
            if (s > bound)
            {
                break;
            }

            long e = end[i];
            if (e <= s)
            {
                continue;
            }

            if (MustEvict(s))
            {
                Evict(s);
            }

            var key = keys[i];
            if (key is null)
            {
                continue;
            }

            int id = _keys.GetOrAdd(key);
            int slot = _left.Allocate(s, e, payload[i], id);
            if (slot >= _groupOf.Length)
            {
                GrowGroupOf();
            }

            _groupOf[slot] = -1;
            for (int r = _keys.Head(id, KeyTable<TKey>.Right); r >= 0; r = rightNext[r])
            {
                AddPair(slot, rightPayload[r]);
            }

            _left.Link(slot, ref _keys.Head(id, KeyTable<TKey>.Left));
            _leftExpiry.Push(e, slot);
        }

        input.Index = i;
    }

    /// <summary>Right events up to start <paramref name="bound"/>: each pairs with the live closes of its key; only a non-point one is kept.</summary>
    private protected override void ProcessRightRun(long bound)
    {
        var input = RightInput;
        var batch = input.Head!;
        var keys = input.HeadKeys;
        var start = batch.Start;
        var end = batch.End;
        var payload = batch.Payload;
        var absent = batch.Absent;
        int count = batch.Count;
        var leftNext = _left.Next; // left slots do not move while right events are processed

        int j = input.Index;
        for (; j < count; j++)
        {
            if ((absent[j >> 6] & (1UL << j)) != 0)
            {
                continue;
            }

            long s = start[j];
            if (s > bound)
            {
                break;
            }

            long e = end[j];
            if (e <= s)
            {
                continue;
            }

            if (MustEvict(s))
            {
                Evict(s);
            }

            var key = keys[j];
            if (key is null)
            {
                continue;
            }

            // As in TemporalJoinOperator: a right point event overlaps no close still to come, so it probes and is not kept.
            bool keep = unchecked((ulong)(e - s)) > 1UL;
            int id;
            if (keep)
            {
                id = _keys.GetOrAdd(key);
            }
            else if (!_keys.TryGet(key, out id))
            {
                continue;
            }

            for (int l = _keys.Head(id, KeyTable<TKey>.Left); l >= 0; l = leftNext[l])
            {
                AddPair(l, payload[j]);
            }

            if (keep)
            {
                int slot = _right.Allocate(s, e, payload[j], id);
                _right.Link(slot, ref _keys.Head(id, KeyTable<TKey>.Right));
                _rightExpiry.Push(e, slot);
            }
        }

        input.Index = j;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool MustEvict(long time) =>
        (_leftExpiry.Count > 0 && _leftExpiry.MinEnd <= time) || (_rightExpiry.Count > 0 && _rightExpiry.MinEnd <= time);

    /// <summary>Removes from both sides every live event with <c>End &lt;= time</c>, after folding the pairs that name their slots.</summary>
    private void Evict(long time)
    {
        FoldPairs();
        while (_leftExpiry.Count > 0 && _leftExpiry.MinEnd <= time)
        {
            int slot = _leftExpiry.Pop();
            int id = _left.Entry[slot];
            _left.Unlink(slot, ref _keys.Head(id, KeyTable<TKey>.Left));
            _keys.MarkIfEmpty(id);
            _left.Free(slot);
        }

        while (_rightExpiry.Count > 0 && _rightExpiry.MinEnd <= time)
        {
            int slot = _rightExpiry.Pop();
            int id = _right.Entry[slot];
            _right.Unlink(slot, ref _keys.Head(id, KeyTable<TKey>.Right));
            _keys.MarkIfEmpty(id);
            _right.Free(slot);
        }
    }
}
