using System.Runtime.CompilerServices;

namespace LinqStream.Physical.Join.Window;

/// <summary>
/// The events of one window join input that are not joined yet, in arrival order (so in start order, a window's events side by
/// side), as columns: start, end, key and payload. Events are appended as their batch arrives and consumed a window at a time.
/// </summary>
/// <remarks>
/// Only events that can match are kept (present, a non-empty lifetime, a non-null key); the batch goes back to the pool at once.
/// The consumed prefix is dropped when it is at least as long as what is left (so each event is moved at most once on average),
/// and the columns grow by doubling to the largest backlog seen (one window's events, in a steady run): no allocation per event.
/// </remarks>
internal sealed class WindowJoinBuffer<T, TKey>
{
    public long[] Start = new long[16];
    public long[] End = new long[16];
    public TKey[] Key = new TKey[16];
    public T[] Payload = new T[16];

    /// <summary>Gets the index of the first event not joined yet.</summary>
    public int Head { get; private set; }

    /// <summary>Gets the index after the last event.</summary>
    public int Count { get; private set; }

    /// <summary>Gets the number of events waiting.</summary>
    public int Waiting => Count - Head;

    public int Capacity => Start.Length;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Append(long start, long end, TKey key, T payload)
    {
        int n = Count;
        if (n == Start.Length)
        {
            Grow();
        }

        Start[n] = start;
        End[n] = end;
        Key[n] = key;
        Payload[n] = payload;
        Count = n + 1;
    }

    /// <summary>Gets the index after the run of events that start with the event at <see cref="Head"/> (one window's events).</summary>
    public int WindowEnd()
    {
        var start = Start;
        long s = start[Head];
        int i = Head + 1;
        int count = Count;
        while (i < count && start[i] == s)
        {
            i++;
        }

        return i;
    }

    /// <summary>Marks the events before <paramref name="to"/> as joined, dropping their references.</summary>
    public void Consume(int to)
    {
        if (RuntimeHelpers.IsReferenceOrContainsReferences<T>())
        {
            Array.Clear(Payload, Head, to - Head);
        }

        if (RuntimeHelpers.IsReferenceOrContainsReferences<TKey>())
        {
            Array.Clear(Key, Head, to - Head);
        }

        Head = to;
    }

    /// <summary>Moves the waiting events to the front when the joined prefix is at least as long as they are.</summary>
    public void Compact()
    {
        int head = Head, waiting = Count - head;
        if (head == 0 || waiting > head)
        {
            return;
        }

        if (waiting > 0)
        {
            Array.Copy(Start, head, Start, 0, waiting);
            Array.Copy(End, head, End, 0, waiting);
            Array.Copy(Key, head, Key, 0, waiting);
            Array.Copy(Payload, head, Payload, 0, waiting);
            if (RuntimeHelpers.IsReferenceOrContainsReferences<T>())
            {
                Array.Clear(Payload, waiting, head);
            }

            if (RuntimeHelpers.IsReferenceOrContainsReferences<TKey>())
            {
                Array.Clear(Key, waiting, head);
            }
        }

        Head = 0;
        Count = waiting;
    }

    /// <summary>Lists the waiting events (state capture; not a hot path).</summary>
    public List<StreamEvent<T>> Snapshot()
    {
        var events = new List<StreamEvent<T>>(Waiting);
        for (int i = Head; i < Count; i++)
        {
            events.Add(new StreamEvent<T>(Start[i], End[i], Payload[i]));
        }

        return events;
    }

    public void Clear()
    {
        Consume(Count);
        Head = 0;
        Count = 0;
    }

    private void Grow()
    {
        int size = Start.Length * 2;
        Array.Resize(ref Start, size);
        Array.Resize(ref End, size);
        Array.Resize(ref Key, size);
        Array.Resize(ref Payload, size);
    }
}
