using System.Runtime.CompilerServices;

namespace LinqStream.Physical.Join;

/// <summary>The live-event slots of one join input ordered by end time: the next event to leave the state comes out first.</summary>
/// <remarks>
/// Events enter in start order, and most streams give them equal durations (point events, windows), so their ends mostly
/// arrive in order too. Those go to a first-in first-out ring, O(1) each way; only an end smaller than the ring's last
/// goes to a binary min-heap (O(log n)). The smallest end is the smaller of the two fronts.
/// </remarks>
internal sealed class ExpiryHeap
{
    private long[] _ringEnd = new long[16];
    private int[] _ringSlot = new int[16];
    private int _ringHead;
    private int _ringCount;

    private long[] _heapEnd = new long[16];
    private int[] _heapSlot = new int[16];
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

    /// <summary>Renumbers every queued slot through <paramref name="map"/> (old slot to new) and shrinks the arrays to fit.</summary>
    /// <remarks>Ends are unchanged, so the ring stays in order and the heap stays a heap.</remarks>
    public void Remap(int[] map)
    {
        int ringSize = 16;
        while (ringSize < _ringCount * 2)
        {
            ringSize *= 2;
        }

        var ends = new long[ringSize];
        var slots = new int[ringSize];
        for (int k = 0; k < _ringCount; k++)
        {
            int i = (_ringHead + k) & (_ringEnd.Length - 1);
            ends[k] = _ringEnd[i];
            slots[k] = map[_ringSlot[i]];
        }

        _ringEnd = ends;
        _ringSlot = slots;
        _ringHead = 0;

        int heapSize = Math.Max(16, _heapCount * 2);
        Array.Resize(ref _heapEnd, heapSize);
        Array.Resize(ref _heapSlot, heapSize);
        for (int i = 0; i < _heapCount; i++)
        {
            _heapSlot[i] = map[_heapSlot[i]];
        }
    }

    /// <summary>Gets the number of entries the ring and the heap have room for.</summary>
    public int Capacity => _ringEnd.Length + _heapEnd.Length;

    private void GrowRing()
    {
        // Capacity stays a power of two so the index wraps with a mask.
        int size = _ringEnd.Length * 2;
        var ends = new long[size];
        var slots = new int[size];
        for (int k = 0; k < _ringCount; k++)
        {
            int i = (_ringHead + k) & (_ringEnd.Length - 1);
            ends[k] = _ringEnd[i];
            slots[k] = _ringSlot[i];
        }

        _ringEnd = ends;
        _ringSlot = slots;
        _ringHead = 0;
    }

    private void HeapPush(long end, int slot)
    {
        if (_heapCount == _heapEnd.Length)
        {
            Array.Resize(ref _heapEnd, _heapCount * 2);
            Array.Resize(ref _heapSlot, _heapCount * 2);
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
