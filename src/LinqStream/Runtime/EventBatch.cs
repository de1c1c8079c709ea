using System.Runtime.CompilerServices;

namespace LinqStream.Runtime;

/// <summary>
/// A few thousand events as columns: <see cref="Start"/>, <see cref="End"/>, <see cref="Payload"/>, and a bit vector
/// <see cref="Absent"/> of events filtered out. Events are ordered by <see cref="Start"/>.
/// </summary>
/// <remarks>
/// Batches come from a <see cref="BatchPool{T}"/> and go back to it: whoever receives a batch owns it and must either
/// pass it on or return it. Filters set bits instead of copying; a projection moves the time columns into a new batch.
/// </remarks>
internal sealed class EventBatch<T>
{
    public long[] Start;
    public long[] End;

    /// <summary>The payloads; always an array the engine made as <c>new T[n]</c>, never one from user code (<see cref="OwnedArrays"/>).</summary>
    public T[] Payload;

    /// <summary>Bit <c>i</c> set means event <c>i</c> was filtered out.</summary>
    public ulong[] Absent;

    public int Count;

    public EventBatch(int capacity)
    {
        Start = new long[capacity];
        End = new long[capacity];
        Payload = new T[capacity];
        Absent = new ulong[(capacity + 63) >> 6];
    }

    public int Capacity => Start.Length;

    public bool IsFull => Count == Start.Length;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool IsAbsent(int index) => (Absent[index >> 6] & (1UL << index)) != 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void SetAbsent(int index) => Absent[index >> 6] |= 1UL << index;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(long start, long end, T payload)
    {
        int i = Count;
        Start[i] = start;
        End[i] = end;
        OwnedArrays.Store(Payload, i, payload); // the engine makes every payload column as new T[]: no covariant store check
        Count = i + 1;
    }

    /// <summary>Counts the events that are not filtered out.</summary>
    public int LiveCount()
    {
        int words = (Count + 63) >> 6;
        int absent = 0;
        for (int w = 0; w < words; w++)
        {
            absent += System.Numerics.BitOperations.PopCount(Absent[w]);
        }

        return Count - absent;
    }

    /// <summary>Empties the batch so the pool can hand it out again.</summary>
    public void Reset()
    {
        if (RuntimeHelpers.IsReferenceOrContainsReferences<T>())
        {
            Array.Clear(Payload, 0, Count);
        }

        Array.Clear(Absent, 0, (Count + 63) >> 6);
        Count = 0;
    }

    /// <summary>Swaps the time columns and the filter bits with <paramref name="other"/> (a projection keeps lifetimes).</summary>
    public void SwapTimeColumns<TOther>(EventBatch<TOther> other)
    {
        (Start, other.Start) = (other.Start, Start);
        (End, other.End) = (other.End, End);
        (Absent, other.Absent) = (other.Absent, Absent);
        (Count, other.Count) = (other.Count, Count);
    }
}
