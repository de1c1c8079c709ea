using System.Runtime.CompilerServices;
using LinqStream.Runtime.Tables;

namespace LinqStream.Physical.Join;

/// <summary>The processed events of one join input that are still alive: a slab of slots, each on its key's doubly linked list.</summary>
/// <remarks>
/// Columns instead of objects: nothing allocated per event. Freed slots are chained through <see cref="Next"/> and reused first,
/// so the slab's size follows the number of live events, not the stream's length. The columns come from the shared array pool
/// (<see cref="PooledArrays"/>) and go back when they grow, compact or are released (<see cref="Release"/>, at the end of a run),
/// so a query run again in the process grows into the last run's arrays (issue #19). They are not zeroed: every column of a
/// slot is written when the slot is taken, except <see cref="Next"/>/<see cref="Prev"/>, which only a linked slot
/// (<see cref="Entry"/> at least 0) has and only such a slot's are read.
/// </remarks>
internal sealed class LiveEvents<T>
{
    /// <summary>The event waits in the left-outer queue for its decision (matched or not); its slot is not freed yet.</summary>
    public const byte Pinned = 1;

    /// <summary>The event overlapped at least one event of the other side with an equal key.</summary>
    public const byte Matched = 2;

    /// <summary>The event's end has passed: it left its key's list and only waits for the left-outer queue.</summary>
    public const byte Expired = 4;

    public long[] Start = PooledArrays.Rent<long>(MinimumCapacity);
    public long[] End = PooledArrays.Rent<long>(MinimumCapacity);
    public T[] Payload = PooledArrays.Rent<T>(MinimumCapacity);
    public int[] Next = PooledArrays.Rent<int>(MinimumCapacity);
    public int[] Prev = PooledArrays.Rent<int>(MinimumCapacity);

    /// <summary>The key entry of each slot, or -1 for a left event with a null key or one that left its key's list (it is on no list).</summary>
    public int[] Entry = PooledArrays.Rent<int>(MinimumCapacity);
    public byte[] Flags = PooledArrays.Rent<byte>(MinimumCapacity);

    private int _free = -1;
    private int _used;

    // New events in a row that found the columns a quarter full or less (see ShouldCompact).
    private int _quietAllocations;

    /// <summary>Gets the number of slots in use (alive, or waiting for a left-outer decision).</summary>
    public int Count { get; private set; }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Allocate(long start, long end, T payload, int entry)
    {
        int slot = _free;
        if (slot >= 0)
        {
            _free = Next[slot];
        }
        else
        {
            slot = _used++;
            if (slot == Start.Length)
            {
                Grow();
            }
        }

        Start[slot] = start;
        End[slot] = end;
        Runtime.OwnedArrays.Store(Payload, slot, payload);
        Entry[slot] = entry;
        Flags[slot] = 0;
        Count++;
        _quietAllocations = Count * 4 > Start.Length ? 0 : _quietAllocations + 1;
        return slot;
    }

    /// <summary>Adds an event with a key: a slot, the front of its key's list (side <paramref name="side"/> of <paramref name="keys"/>) and its end in <paramref name="expiry"/>; returns the slot.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int AddLinked<TKey>(long start, long end, T payload, int entry, KeyTable<TKey> keys, int side, ExpiryHeap expiry)
    {
        int slot = Allocate(start, end, payload, entry);
        Link(slot, ref keys.Head(entry, side));
        expiry.Push(end, slot);
        return slot;
    }

    /// <summary>
    /// Frees every event whose end, by <paramref name="expiry"/>, is at or before <paramref name="time"/>, unlinked from its key's list;
    /// for events that are never pinned (the right side, and the left side of an inner join).
    /// </summary>
    public void FreeEnded<TKey>(ExpiryHeap expiry, KeyTable<TKey> keys, int side, long time)
    {
        while (expiry.Count > 0 && expiry.MinEnd <= time)
        {
            int slot = expiry.Pop();
            int id = Entry[slot];
            Unlink(slot, ref keys.Head(id, side));
            keys.MarkIfEmpty(id);
            Free(slot);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Link(int slot, ref int head)
    {
        Prev[slot] = -1;
        Next[slot] = head;
        if (head >= 0)
        {
            Prev[head] = slot;
        }

        head = slot;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Unlink(int slot, ref int head)
    {
        int prev = Prev[slot], next = Next[slot];
        if (prev >= 0)
        {
            Next[prev] = next;
        }
        else
        {
            head = next;
        }

        if (next >= 0)
        {
            Prev[next] = prev;
        }
    }

    public void Free(int slot)
    {
        if (RuntimeHelpers.IsReferenceOrContainsReferences<T>())
        {
            Payload[slot] = default!;
        }

        Flags[slot] = 0;
        Entry[slot] = -1;
        Next[slot] = _free;
        _free = slot;
        Count--;
    }

    /// <summary>Lists the slots in use, in slot order (state capture; not a hot path).</summary>
    public IEnumerable<int> UsedSlots()
    {
        var free = new HashSet<int>();
        for (int s = _free; s >= 0; s = Next[s])
        {
            free.Add(s);
        }

        for (int s = 0; s < _used; s++)
        {
            if (!free.Contains(s))
            {
                yield return s;
            }
        }
    }

    /// <summary>
    /// Lists the slots in use in an order the operator could have inserted them in (state capture; not a hot path): by start,
    /// and where starts tie, every older event of a key's list before the newer ones and the events of
    /// <paramref name="queue"/> (the outer join's undecided left events, oldest first) in the queue's order.
    /// </summary>
    /// <remarks>
    /// A restore allocates and links the events in this order, so each key's list, and with it the order in which a probe
    /// meets its matches, and the outer join's queue come back as they were; slot numbers (which only decide reuse) may not.
    /// Events of different keys with the same start that neither list nor queue orders keep slot order. Where a checkpoint
    /// was captured therefore does not change the output after a restore (docs/semantics.md §8).
    /// </remarks>
    public List<int> InsertionOrder(IEnumerable<int>? queue)
    {
        var before = new int[_used]; // events that must come first: the older one on the key's list and the one ahead in the queue
        var queueNext = new int[_used];
        queueNext.AsSpan().Fill(-1);
        var used = new List<int>(Count);
        foreach (int slot in UsedSlots())
        {
            used.Add(slot);
            if (Entry[slot] >= 0 && Next[slot] >= 0)
            {
                before[slot]++;
            }
        }

        if (queue is not null)
        {
            int previous = -1;
            foreach (int slot in queue)
            {
                if (previous >= 0)
                {
                    queueNext[previous] = slot;
                    before[slot]++;
                }

                previous = slot;
            }
        }

        var ready = new PriorityQueue<int, (long Start, int Slot)>();
        foreach (int slot in used)
        {
            if (before[slot] == 0)
            {
                ready.Enqueue(slot, (Start[slot], slot));
            }
        }

        var order = new List<int>(used.Count);
        while (ready.TryDequeue(out int slot, out _))
        {
            order.Add(slot);
            if (Entry[slot] >= 0 && Prev[slot] >= 0 && --before[Prev[slot]] == 0)
            {
                ready.Enqueue(Prev[slot], (Start[Prev[slot]], Prev[slot]));
            }

            int inQueue = queueNext[slot];
            if (inQueue >= 0 && --before[inQueue] == 0)
            {
                ready.Enqueue(inQueue, (Start[inQueue], inQueue));
            }
        }

        if (order.Count != used.Count)
        {
            throw new InvalidOperationException($"The join's live events are not in a consistent order ({order.Count} of {used.Count} placed): a key's list and the outer join's queue disagree.");
        }

        return order;
    }

    public void Clear()
    {
        if (RuntimeHelpers.IsReferenceOrContainsReferences<T>())
        {
            Array.Clear(Payload);
        }

        _free = -1;
        _used = 0;
        Count = 0;
        _quietAllocations = 0;
    }

    /// <summary>Gets the number of slots the columns have room for.</summary>
    public int Capacity => Start.Length;

    /// <summary>
    /// Gets a value indicating whether a burst passed: more than 4,096 slots, a quarter or less of them in use, and so for at
    /// least half the capacity's worth of new events in a row. A periodic load is not a burst: the events of a tumbling window
    /// all end together and the next window's climb back past a quarter within a quarter of the capacity, so its columns keep
    /// their size instead of shrinking and growing again every window (which cost NEXMark q8 2.5x its time and 4x its
    /// allocation). After a burst, memory comes back once that many events have arrived; a join that receives nothing after a
    /// burst keeps its columns until it does.
    /// </summary>
    public bool ShouldCompact => Start.Length > MinimumCapacity * 256 && Count * 4 <= Start.Length && _quietAllocations >= Start.Length / 2;

    private const int MinimumCapacity = PooledArrays.MinimumLength;

    /// <summary>
    /// Moves the slots in use down to 0, 1, 2... (in slot order, so their relative order is kept) and shrinks the columns to
    /// twice their number. Returns the map from old slot to new slot (-1 for a free one); the caller renumbers every other
    /// structure that holds slots (key lists' heads, expiry queues, the outer join's queue).
    /// </summary>
    public int[] Compact()
    {
        var map = new int[_used];
        map.AsSpan().Fill(-1);
        for (int s = _free; s >= 0; s = Next[s])
        {
            map[s] = -2;
        }

        int count = 0;
        for (int s = 0; s < _used; s++)
        {
            map[s] = map[s] == -2 ? -1 : count++;
        }

        int size = PooledArrays.PowerOfTwoFor(count * 2);
        var start = PooledArrays.Rent<long>(size);
        var end = PooledArrays.Rent<long>(size);
        var payload = PooledArrays.Rent<T>(size);
        var next = PooledArrays.Rent<int>(size);
        var prev = PooledArrays.Rent<int>(size);
        var entry = PooledArrays.Rent<int>(size);
        var flags = PooledArrays.Rent<byte>(size);
        for (int s = 0; s < _used; s++)
        {
            int n = map[s];
            if (n < 0)
            {
                continue;
            }

            // Only a linked slot's neighbours are read (an unlinked one's may be anything: the columns are not zeroed).
            bool linked = Entry[s] >= 0;
            start[n] = Start[s];
            end[n] = End[s];
            Runtime.OwnedArrays.Store(payload, n, Payload[s]);
            next[n] = linked && Next[s] >= 0 ? map[Next[s]] : -1;
            prev[n] = linked && Prev[s] >= 0 ? map[Prev[s]] : -1;
            entry[n] = Entry[s];
            flags[n] = Flags[s];
        }

        var old = (Start, End, Payload, Next, Prev, Entry, Flags);
        (Start, End, Payload, Next, Prev, Entry, Flags) = (start, end, payload, next, prev, entry, flags);
        Return(old);
        _free = -1;
        _used = count;
        _quietAllocations = 0;
        return map;
    }

    /// <summary>Renumbers the key entries of the slots in use (after the key table was compacted).</summary>
    public void RemapEntries(int[] entryMap)
    {
        for (int s = 0; s < _used; s++)
        {
            int id = Entry[s];
            if (id >= 0)
            {
                Entry[s] = entryMap[id];
            }
        }
    }

    /// <summary>
    /// Gives every column back to the pool and leaves the table empty, holding no array of the pool (the end of a run, or a failure);
    /// it may be used again and grows from nothing.
    /// </summary>
    public void Release()
    {
        Clear();
        var old = (Start, End, Payload, Next, Prev, Entry, Flags);
        Start = [];
        End = [];
        Payload = [];
        Next = [];
        Prev = [];
        Entry = [];
        Flags = [];
        Return(old);
    }

    // Columns the table no longer holds, back to the pool.
    private static void Return((long[] Start, long[] End, T[] Payload, int[] Next, int[] Prev, int[] Entry, byte[] Flags) old)
    {
        PooledArrays.Return(old.Start);
        PooledArrays.Return(old.End);
        PooledArrays.Return(old.Payload);
        PooledArrays.Return(old.Next);
        PooledArrays.Return(old.Prev);
        PooledArrays.Return(old.Entry);
        PooledArrays.Return(old.Flags);
    }

    private void Grow()
    {
        // The slots in use are 0 .. _used - 1 = the whole of the old columns (a slot is taken past them only when none is free).
        int count = Start.Length;
        int size = Math.Max(MinimumCapacity, count * 2);
        PooledArrays.Resize(ref Start, size, count);
        PooledArrays.Resize(ref End, size, count);
        PooledArrays.Resize(ref Payload, size, count);
        PooledArrays.Resize(ref Next, size, count);
        PooledArrays.Resize(ref Prev, size, count);
        PooledArrays.Resize(ref Entry, size, count);
        PooledArrays.Resize(ref Flags, size, count);
    }
}
