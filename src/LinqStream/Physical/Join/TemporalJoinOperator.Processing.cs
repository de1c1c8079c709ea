using LinqStream.Temporal;

namespace LinqStream.Physical.Join;

/// <summary>The merge of the two buffered inputs in start order, the probes, and the eviction of ended events.</summary>
internal partial class TemporalJoinOperator<TLeft, TRight, TKey, TResult>
{
    /// <summary>Processes the left head batch's events up to start <paramref name="bound"/> (inclusive).</summary>
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

        // Right slots do not move while left events are processed.
        var rightNext = _right.Next;
        var rightEnd = _right.End;
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

            if ((_leftExpiry.Count > 0 && _leftExpiry.MinEnd <= s) || (_rightExpiry.Count > 0 && _rightExpiry.MinEnd <= s) || StoredQueueMinEnd <= s)
            {
                Evict(s);
            }

            var key = keys[i];
            if (key is null)
            {
                if (_kind != JoinKind.Inner)
                {
                    AddUndecidedLeft(s, e, payload[i], -1);
                }

                continue;
            }

            int id = _keys.GetOrAdd(key);
            int r = _keys.Head(id, KeyTable<TKey>.Right);
            bool matched = r >= 0;
            if (_kind == JoinKind.Inner)
            {
                for (; r >= 0; r = rightNext[r])
                {
                    long re = rightEnd[r];
                    Writer.Add(s, e < re ? e : re, payload[i], rightPayload[r]);
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
                        Writer.Add(s, e < re ? e : re, payload[i], rightPayload[r]);
                    }
                    else
                    {
                        _pending.Enqueue(s, e < re ? e : re, payload[i], rightPayload[r]);
                    }
                }
            }

            // The live right events of the key in a store (RocksDB backend) are older than those on the heap: after them.
            if (StoreHasRight && ProbeStoredRight(key, s, e, payload[i], NothingUndecided))
            {
                matched = true;
            }

            if (matched && _kind == JoinKind.Anti)
            {
                // Anti-join: a right event exists, so this left event is decided and needs no state at all.
                continue;
            }

            if (matched || _kind == JoinKind.Inner)
            {
                int slot = _left.Allocate(s, e, payload[i], id);
                _left.Link(slot, ref _keys.Head(id, KeyTable<TKey>.Left));
                _leftExpiry.Push(e, slot);
                if (_kind != JoinKind.Inner)
                {
                    _left.Flags[slot] = LiveEvents<TLeft>.Matched;
                }
            }
            else
            {
                AddUndecidedLeft(s, e, payload[i], id);
            }
        }

        input.Index = i;
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

    /// <summary>Processes the right head batch's events up to start <paramref name="bound"/> (inclusive).</summary>
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

        // Left slots do not move while right events are processed.
        var leftNext = _left.Next;
        var leftEnd = _left.End;
        var leftPayload = _left.Payload;
        var leftFlags = _left.Flags;

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

            if ((_leftExpiry.Count > 0 && _leftExpiry.MinEnd <= s) || (_rightExpiry.Count > 0 && _rightExpiry.MinEnd <= s) || StoredQueueMinEnd <= s)
            {
                Evict(s);
            }

            var key = keys[j];
            if (key is null)
            {
                continue;
            }

            // Every left event still to come starts after s (left wins ties, and this run stops before the next left start), so
            // a right event that ends at s + 1 (a point: NEXMark's bids, q3's auctions) overlaps none of them: it probes the left
            // events alive now and is not kept (issue #19: no live slot, key entry, expiry or eviction per such event). It would
            // have been evicted by the end of this round anyway, since the round's limit is above s.
            bool keep = unchecked((ulong)(e - s)) > 1UL;
            int id;
            if (keep)
            {
                id = _keys.GetOrAdd(key);
            }
            else if (!_keys.TryGet(key, out id))
            {
                if (StoreHasLeft)
                {
                    ProbeStoredLeft(key, s, e, payload[j], NothingUndecided);
                }

                continue;
            }

            int l = _keys.Head(id, KeyTable<TKey>.Left);
            if (l >= 0)
            {
                if (_kind == JoinKind.Inner)
                {
                    for (; l >= 0; l = leftNext[l])
                    {
                        long le = leftEnd[l];
                        Writer.Add(s, e < le ? e : le, leftPayload[l], payload[j]);
                    }
                }
                else if (_kind == JoinKind.LeftOuter)
                {
                    bool direct = NothingUndecided;
                    for (; l >= 0; l = leftNext[l])
                    {
                        leftFlags[l] |= LiveEvents<TLeft>.Matched;
                        long le = leftEnd[l];
                        if (direct)
                        {
                            Writer.Add(s, e < le ? e : le, leftPayload[l], payload[j]);
                        }
                        else
                        {
                            _pending.Enqueue(s, e < le ? e : le, leftPayload[l], payload[j]);
                        }
                    }
                }
                else
                {
                    for (; l >= 0; l = leftNext[l])
                    {
                        leftFlags[l] |= LiveEvents<TLeft>.Matched;
                    }
                }
            }

            if (StoreHasLeft)
            {
                ProbeStoredLeft(key, s, e, payload[j], NothingUndecided);
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

        while (_rightExpiry.Count > 0 && _rightExpiry.MinEnd <= time)
        {
            int slot = _rightExpiry.Pop();
            int id = _right.Entry[slot];
            _right.Unlink(slot, ref _keys.Head(id, KeyTable<TKey>.Right));
            _keys.MarkIfEmpty(id);
            _right.Free(slot);
        }

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
}
