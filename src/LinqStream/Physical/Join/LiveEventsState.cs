namespace LinqStream.Physical.Join;

/// <summary>The live events of one join input as plain data and back (the checkpoints of <c>TemporalJoinOperator</c> and <c>JoinKeyedFoldOperator</c>).</summary>
internal static class LiveEventsState
{
    /// <summary>
    /// The live events in an order they could have been processed in (<see cref="LiveEvents{T}.InsertionOrder"/>), so a restore
    /// rebuilds each key's list and the outer join's queue as they were, ties included.
    /// </summary>
    public static List<LiveEvent<T, TKey>> Capture<T, TKey>(LiveEvents<T> live, KeyTable<TKey> keys, Queue<int>? undecided)
    {
        var list = new List<LiveEvent<T, TKey>>(live.Count);
        foreach (int slot in live.InsertionOrder(undecided))
        {
            byte f = live.Flags[slot];
            int id = live.Entry[slot];
            list.Add(new LiveEvent<T, TKey>(
                live.Start[slot],
                live.End[slot],
                id >= 0,
                id >= 0 ? keys.KeyOf(id) : default,
                live.Payload[slot],
                (f & LiveEvents<T>.Matched) != 0,
                (f & LiveEvents<T>.Pinned) != 0,
                (f & LiveEvents<T>.Expired) != 0));
        }

        return list;
    }

    /// <summary>Puts a captured live event back: its slot, its key's list and its expiry; returns the slot.</summary>
    public static int Restore<T, TKey>(LiveEvents<T> live, ExpiryHeap expiry, KeyTable<TKey> keys, int side, LiveEvent<T, TKey> e)
    {
        int id = e.HasKey && !e.Expired ? keys.GetOrAdd(e.Key!) : -1;
        int slot = live.Allocate(e.Start, e.End, e.Payload, id);
        byte flags = 0;
        flags |= e.Matched ? LiveEvents<T>.Matched : (byte)0;
        flags |= e.AwaitingDecision ? LiveEvents<T>.Pinned : (byte)0;
        flags |= e.Expired ? LiveEvents<T>.Expired : (byte)0;
        live.Flags[slot] = flags;
        if (!e.Expired)
        {
            if (id >= 0)
            {
                live.Link(slot, ref keys.Head(id, side));
            }

            expiry.Push(e.End, slot);
        }

        return slot;
    }
}
