using System.Runtime.CompilerServices;
using LinqStream.Temporal;

namespace LinqStream.Physical.Join;

/// <summary>The loop over a run of each side (the merge of the two inputs is <c>BufferedJoinOperator</c>'s, the walk <see cref="JoinRun"/>'s), the probes, and the eviction of ended events.</summary>
internal partial class TemporalJoinOperator<TLeft, TRight, TKey, TResult>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void EvictBefore(long s)
    {
        if ((_leftExpiry.Count > 0 && _leftExpiry.MinEnd <= s) || (_rightExpiry.Count > 0 && _rightExpiry.MinEnd <= s) || StoredQueueMinEnd <= s)
        {
            Evict(s);
        }
    }

    /// <summary>A left event with a key: its pairs with the live right events of its key (on the heap, then in a store), then its live slot or its place in the outer queue.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void AddLeft(long s, long e, TLeft payload, TKey key)
    {
        // Right slots do not move while left events are processed.
        var rightNext = _right.Next;
        var rightEnd = _right.End;
        var rightPayload = _right.Payload;
        int id = _keys.GetOrAdd(key);
        int r = _keys.Head(id, KeyTable<TKey>.Right);
        bool matched = r >= 0;
        if (_kind == JoinKind.Inner)
        {
            for (; r >= 0; r = rightNext[r])
            {
                long re = rightEnd[r];
                Writer.Add(s, e < re ? e : re, payload, rightPayload[r]);
            }
        }
        else if (_kind == JoinKind.LeftOuter)
        {
            bool direct = NothingUndecided;
            for (; r >= 0; r = rightNext[r])
            {
                long re = rightEnd[r];
                if (direct)
                {
                    Writer.Add(s, e < re ? e : re, payload, rightPayload[r]);
                }
                else
                {
                    _pending.Enqueue(s, e < re ? e : re, payload, rightPayload[r]);
                }
            }
        }

        // The live right events of the key in a store (RocksDB backend) are older than those on the heap: after them.
        if (StoreHasRight && ProbeStoredRight(key, s, e, payload, NothingUndecided))
        {
            matched = true;
        }

        if (matched && _kind == JoinKind.Anti)
        {
            // Anti-join: a right event exists, so this left event is decided and needs no state at all.
            return;
        }

        if (matched || _kind == JoinKind.Inner)
        {
            int slot = _left.AddLinked(s, e, payload, id, _keys, KeyTable<TKey>.Left, _leftExpiry);
            if (_kind != JoinKind.Inner)
            {
                _left.Flags[slot] = LiveEvents<TLeft>.Matched;
            }
        }
        else
        {
            AddUndecidedLeft(s, e, payload, id);
        }
    }

    /// <summary>Outer modes: keeps a left event with no match yet, in the queue that releases results in start order.</summary>
    private void AddUndecidedLeft(long start, long end, TLeft payload, int id)
    {
        int slot = _left.Allocate(start, end, payload, id);
        if (id >= 0)
        {
            _left.Link(slot, ref _keys.Head(id, KeyTable<TKey>.Left));
        }

        _leftExpiry.Push(end, slot);
        _left.Flags[slot] = LiveEvents<TLeft>.Pinned;
        _undecided.Enqueue(slot);
    }

    /// <summary>A right event with a key: its pairs with (or, in outer modes, marks) the live left events of its key, on the heap then in a store; kept unless it is a point.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void AddRight(long s, long e, TRight payload, TKey key)
    {
        // A right point event probes the left events alive now and is not kept (KeyTable.TryGetForRight says why).
        if (!_keys.TryGetForRight(key, s, e, out int id, out bool keep))
        {
            if (StoreHasLeft)
            {
                ProbeStoredLeft(key, s, e, payload, NothingUndecided);
            }

            return;
        }

        int l = _keys.Head(id, KeyTable<TKey>.Left);
        if (l >= 0)
        {
            // Left slots do not move while right events are processed.
            var leftNext = _left.Next;
            var leftEnd = _left.End;
            var leftPayload = _left.Payload;
            if (_kind == JoinKind.Inner)
            {
                for (; l >= 0; l = leftNext[l])
                {
                    long le = leftEnd[l];
                    Writer.Add(s, e < le ? e : le, leftPayload[l], payload);
                }
            }
            else if (_kind == JoinKind.LeftOuter)
            {
                var leftFlags = _left.Flags;
                bool direct = NothingUndecided;
                for (; l >= 0; l = leftNext[l])
                {
                    leftFlags[l] |= LiveEvents<TLeft>.Matched;
                    long le = leftEnd[l];
                    if (direct)
                    {
                        Writer.Add(s, e < le ? e : le, leftPayload[l], payload);
                    }
                    else
                    {
                        _pending.Enqueue(s, e < le ? e : le, leftPayload[l], payload);
                    }
                }
            }
            else
            {
                var leftFlags = _left.Flags;
                for (; l >= 0; l = leftNext[l])
                {
                    leftFlags[l] |= LiveEvents<TLeft>.Matched;
                }
            }
        }

        if (StoreHasLeft)
        {
            ProbeStoredLeft(key, s, e, payload, NothingUndecided);
        }

        if (keep)
        {
            _right.AddLinked(s, e, payload, id, _keys, KeyTable<TKey>.Right, _rightExpiry);
        }
    }

    /// <summary>Removes from both sides every live event with <c>End &lt;= time</c>: no event starting at or after <paramref name="time"/> can overlap it.</summary>
    private void Evict(long time)
    {
        bool decided = false;
        while (_leftExpiry.Count > 0 && _leftExpiry.MinEnd <= time)
        {
            int slot = _leftExpiry.Pop();
            int id = _left.Entry[slot];
            if (id >= 0)
            {
                _left.Unlink(slot, ref _keys.Head(id, KeyTable<TKey>.Left));
                _keys.MarkIfEmpty(id);
                _left.Entry[slot] = -1;
            }

            if ((_left.Flags[slot] & LiveEvents<TLeft>.Pinned) != 0)
            {
                _left.Flags[slot] |= LiveEvents<TLeft>.Expired;
                decided = true;
            }
            else
            {
                _left.Free(slot);
            }
        }

        _right.FreeEnded(_rightExpiry, _keys, KeyTable<TKey>.Right, time);

        // Queued left events in a store (RocksDB backend) end as those on the heap would; StoredQueueMinEnd is long.MaxValue on the heap.
        if (StoredQueueMinEnd <= time && EvictStoredQueue(time))
        {
            decided = true;
        }

        if (decided)
        {
            Pump(time);
        }
    }

    /// <summary>Left events up to start <paramref name="bound"/>: each pairs with the live right events of its key; one with a null key matches nothing (kept undecided in the outer modes).</summary>
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
            else if (_kind != JoinKind.Inner)
            {
                AddUndecidedLeft(run.Start, run.End, payload[run.Index], -1);
            }
        }

        input.Index = run.Stop;
    }

    /// <summary>Right events up to start <paramref name="bound"/>: each pairs with (or marks) the live left events of its key; one with a null key matches nothing and is not kept.</summary>
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
