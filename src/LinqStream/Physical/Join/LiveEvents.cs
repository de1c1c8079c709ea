using System.Runtime.CompilerServices;

namespace LinqStream.Physical.Join;

/// <summary>The processed events of one join input that are still alive: a slab of slots, each on its key's doubly linked list.</summary>
/// <remarks>
/// Columns instead of objects: one allocation per growth, none per event. Freed slots are chained through
/// <see cref="Next"/> and reused first, so the slab's size follows the number of live events, not the stream's length.
/// </remarks>
internal sealed class LiveEvents<T>
{
    /// <summary>The event waits in the left-outer queue for its decision (matched or not); its slot is not freed yet.</summary>
    public const byte Pinned = 1;

    /// <summary>The event overlapped at least one event of the other side with an equal key.</summary>
    public const byte Matched = 2;

    /// <summary>The event's end has passed: it left its key's list and only waits for the left-outer queue.</summary>
    public const byte Expired = 4;

    public long[] Start = new long[16];
    public long[] End = new long[16];
    public T[] Payload = new T[16];
    public int[] Next = new int[16];
    public int[] Prev = new int[16];

    /// <summary>The key entry of each slot, or -1 for a left event with a null key (it is on no list).</summary>
    public int[] Entry = new int[16];
    public byte[] Flags = new byte[16];

    private int _free = -1;
    private int _used;

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
        Payload[slot] = payload;
        Entry[slot] = entry;
        Flags[slot] = 0;
        Count++;
        return slot;
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

    public void Clear()
    {
        if (RuntimeHelpers.IsReferenceOrContainsReferences<T>())
        {
            Array.Clear(Payload);
        }

        _free = -1;
        _used = 0;
        Count = 0;
    }

    private void Grow()
    {
        int size = Start.Length * 2;
        Array.Resize(ref Start, size);
        Array.Resize(ref End, size);
        Array.Resize(ref Payload, size);
        Array.Resize(ref Next, size);
        Array.Resize(ref Prev, size);
        Array.Resize(ref Entry, size);
        Array.Resize(ref Flags, size);
    }
}
