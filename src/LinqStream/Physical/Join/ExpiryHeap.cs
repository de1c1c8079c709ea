using System.Runtime.CompilerServices;
using LinqStream.Runtime.Tables;

namespace LinqStream.Physical.Join;

/// <summary>The live-event slots of one join input ordered by end time: the next event to leave the state comes out first.</summary>
/// <remarks>
/// Events enter in start order, and most streams give them equal durations (point events, windows), so their ends mostly
/// arrive in order too. Those go to a first-in first-out ring, O(1) each way; only an end smaller than the ring's last
/// goes to a binary min-heap (O(log n)). The smallest end is the smaller of the two fronts. The arrays come from the shared
/// array pool and go back when they grow or shrink and at <see cref="Release"/> (issue #19); only entries that were pushed are read.
/// </remarks>
internal sealed class ExpiryHeap
{
    private long[] _ringEnd = PooledArrays.Rent<long>(PooledArrays.MinimumLength);
    private int[] _ringSlot = PooledArrays.Rent<int>(PooledArrays.MinimumLength);
    private int _ringHead;
    private int _ringCount;

    private long[] _heapEnd = PooledArrays.Rent<long>(PooledArrays.MinimumLength);
    private int[] _heapSlot = PooledArrays.Rent<int>(PooledArrays.MinimumLength);
    private int _heapCount;

    public int Count => _ringCount + _heapCount;

    /// <summary>Gets the smallest end time; only valid when <see cref="Count"/> is positive.</summary>
    public long MinEnd
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            if (_heapCount == 0)
            {
                return _ringEnd[_ringHead];
            }

            long heap = _heapEnd[0];
            return _ringCount == 0 ? heap : Math.Min(heap, _ringEnd[_ringHead]);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Push(long end, int slot)
    {
        if (_ringCount == 0 || end >= _ringEnd[(_ringHead + _ringCount - 1) & (_ringEnd.Length - 1)])
        {
            if (_ringCount == _ringEnd.Length)
            {
                GrowRing();
            }

            int i = (_ringHead + _ringCount) & (_ringEnd.Length - 1);
            _ringEnd[i] = end;
            _ringSlot[i] = slot;
            _ringCount++;
        }
        else
        {
            HeapPush(end, slot);
        }
    }

    /// <summary>Removes the entry with the smallest end and returns its slot.</summary>
    public int Pop()
    {
        if (_ringCount > 0 && (_heapCount == 0 || _ringEnd[_ringHead] <= _heapEnd[0]))
        {
            int slot = _ringSlot[_ringHead];
            _ringHead = (_ringHead + 1) & (_ringEnd.Length - 1);
            _ringCount--;
            return slot;
        }

        return HeapPop();
    }

    public void Clear()
    {
        _ringHead = 0;
        _ringCount = 0;
        _heapCount = 0;
    }

    /// <summary>Empties the queue and gives its arrays back to the pool (the end of a run, or a failure); it may be used again.</summary>
    public void Release()
    {
        Clear();
        PooledArrays.Release(ref _ringEnd);
        PooledArrays.Release(ref _ringSlot);
        PooledArrays.Release(ref _heapEnd);
        PooledArrays.Release(ref _heapSlot);
    }

    /// <summary>Renumbers every queued slot through <paramref name="map"/> (old slot to new) and shrinks the arrays to fit.</summary>
    /// <remarks>Ends are unchanged, so the ring stays in order and the heap stays a heap.</remarks>
    public void Remap(int[] map)
    {
        CopyRing(PooledArrays.PowerOfTwoFor(_ringCount * 2), map);

        int heapSize = PooledArrays.PowerOfTwoFor(_heapCount * 2);
        PooledArrays.Resize(ref _heapEnd, heapSize, _heapCount);
        PooledArrays.Resize(ref _heapSlot, heapSize, _heapCount);
        for (int i = 0; i < _heapCount; i++)
        {
            _heapSlot[i] = map[_heapSlot[i]];
        }
    }

    /// <summary>Gets the number of entries the ring and the heap have room for.</summary>
    public int Capacity => _ringEnd.Length + _heapEnd.Length;

    // Capacity stays a power of two so the index wraps with a mask.
    private void GrowRing() => CopyRing(Math.Max(PooledArrays.MinimumLength, _ringEnd.Length * 2), null);

    /// <summary>Moves the ring into arrays of <paramref name="size"/> (a power of two), from index 0, renumbering the slots through <paramref name="map"/> when given.</summary>
    private void CopyRing(int size, int[]? map)
    {
        var ends = PooledArrays.Rent<long>(size);
        var slots = PooledArrays.Rent<int>(size);
        int mask = _ringEnd.Length - 1;
        for (int k = 0; k < _ringCount; k++)
        {
            int i = (_ringHead + k) & mask;
            ends[k] = _ringEnd[i];
            slots[k] = map is null ? _ringSlot[i] : map[_ringSlot[i]];
        }

        var (oldEnds, oldSlots) = (_ringEnd, _ringSlot);
        (_ringEnd, _ringSlot) = (ends, slots);
        _ringHead = 0;
        PooledArrays.Return(oldEnds);
        PooledArrays.Return(oldSlots);
    }

    private void HeapPush(long end, int slot)
    {
        if (_heapCount == _heapEnd.Length)
        {
            int size = Math.Max(PooledArrays.MinimumLength, _heapCount * 2);
            PooledArrays.Resize(ref _heapEnd, size, _heapCount);
            PooledArrays.Resize(ref _heapSlot, size, _heapCount);
        }

        int i = _heapCount++;
        while (i > 0)
        {
            int parent = (i - 1) >> 1;
            if (_heapEnd[parent] <= end)
            {
                break;
            }

            _heapEnd[i] = _heapEnd[parent];
            _heapSlot[i] = _heapSlot[parent];
            i = parent;
        }

        _heapEnd[i] = end;
        _heapSlot[i] = slot;
    }

    private int HeapPop()
    {
        int top = _heapSlot[0];
        int n = --_heapCount;
        if (n > 0)
        {
            long end = _heapEnd[n];
            int slot = _heapSlot[n];
            int i = 0;
            while (true)
            {
                int child = (i << 1) + 1;
                if (child >= n)
                {
                    break;
                }

                if (child + 1 < n && _heapEnd[child + 1] < _heapEnd[child])
                {
                    child++;
                }

                if (_heapEnd[child] >= end)
                {
                    break;
                }

                _heapEnd[i] = _heapEnd[child];
                _heapSlot[i] = _heapSlot[child];
                i = child;
            }

            _heapEnd[i] = end;
            _heapSlot[i] = slot;
        }

        return top;
    }
}
