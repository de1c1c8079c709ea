namespace LinqStream.Physical.Join;

/// <summary>
/// Left-outer and anti-join: whether a left event overlaps no match is known only when its end has passed, so results
/// are released in start order behind the earliest left event still undecided.
/// </summary>
internal partial class TemporalJoinOperator<TLeft, TRight, TKey, TResult>
{
    /// <summary>
    /// Releases the decided left events at the front of the queue (an unmatched one becomes its result) and the held-back
    /// pairs that start before the earliest undecided left event.
    /// </summary>
    /// <param name="frontier">Every event that starts before this time has been processed.</param>
    /// <returns>
    /// The output watermark: the start of the earliest undecided left event, or <paramref name="frontier"/> when none is
    /// left. Every later result starts at or after it.
    /// </returns>
    private long Pump(long frontier)
    {
        // The store's part of the queue (RocksDB backend) is older than the heap's: it goes first.
        if (StoreHasQueue && !PumpStoredQueue(frontier, out long undecidedStart))
        {
            ReleasePending(undecidedStart);
            return undecidedStart;
        }

        var queue = _undecided;
        var flags = _left.Flags;
        while (queue.Count > 0)
        {
            int slot = queue.Peek();
            byte f = flags[slot];
            if ((f & LiveEvents<TLeft>.Matched) != 0)
            {
                queue.Dequeue();
                if ((f & LiveEvents<TLeft>.Expired) != 0)
                {
                    _left.Free(slot);
                }
                else
                {
                    flags[slot] = (byte)(f & ~LiveEvents<TLeft>.Pinned);
                }
            }
            else if ((f & LiveEvents<TLeft>.Expired) != 0)
            {
                queue.Dequeue();
                long start = _left.Start[slot];
                ReleasePendingThrough(start);
                Writer.Add(start, _left.End[slot], _left.Payload[slot], default!);
                _left.Free(slot);
            }
            else
            {
                break;
            }
        }

        long watermark = queue.Count > 0 ? _left.Start[queue.Peek()] : frontier;
        ReleasePending(watermark);
        return watermark;
    }

    /// <summary>
    /// Before an unmatched left result that starts at <paramref name="start"/>: moves the held-back pairs that start at or before it to
    /// the output, so that pairs come before unmatched results with the same start (docs/semantics.md §8). Every pair that starts at
    /// <paramref name="start"/> exists by now: the left event has ended, so every event starting at or before its start was processed.
    /// Whether a pair went out at once or was held back depends on when the queue was last pumped (a round's watermark, an eviction),
    /// which depends on how the input was cut into batches; comparing with "before" (as until 2026-12-05) made the order of such ties
    /// depend on it too.
    /// </summary>
    private protected void ReleasePendingThrough(long start) => ReleasePending(start + 1); // start < end <= long.MaxValue

    /// <summary>Moves the held-back pairs that start before <paramref name="limit"/> to the output.</summary>
    private protected void ReleasePending(long limit)
    {
        var pending = _pending;
        while (pending.Count > 0 && pending.HeadStart < limit)
        {
            pending.Dequeue(out long start, out long end, out var left, out var right);
            Writer.Add(start, end, left, right);
        }
    }
}
