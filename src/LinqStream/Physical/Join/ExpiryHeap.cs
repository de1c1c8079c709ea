using System.Runtime.CompilerServices;

namespace LinqStream.Physical.Join;

/// <summary>A binary min-heap of live-event slots ordered by their end time: the next event to leave the state is on top.</summary>
/// <remarks>
/// Events enter in start order, so with equal durations each push lands at the bottom in one comparison; a pop is
/// O(log n). Two parallel arrays instead of tuples keep the comparisons on one cache line.
/// </remarks>
internal sealed class ExpiryHeap
{
    private long[] _end = new long[16];
    private int[] _slot = new int[16];

    public int Count { get; private set; }

    /// <summary>Gets the smallest end time; only valid when <see cref="Count"/> is positive.</summary>
    public long MinEnd
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _end[0];
    }

    public int MinSlot => _slot[0];

    public void Push(long end, int slot)
    {
        if (Count == _end.Length)
        {
            Array.Resize(ref _end, Count * 2);
            Array.Resize(ref _slot, Count * 2);
        }

        int i = Count++;
        while (i > 0)
        {
            int parent = (i - 1) >> 1;
            if (_end[parent] <= end)
            {
                break;
            }

            _end[i] = _end[parent];
            _slot[i] = _slot[parent];
            i = parent;
        }

        _end[i] = end;
        _slot[i] = slot;
    }

    /// <summary>Removes the top entry and returns its slot.</summary>
    public int Pop()
    {
        int top = _slot[0];
        int n = --Count;
        if (n > 0)
        {
            long end = _end[n];
            int slot = _slot[n];
            int i = 0;
            while (true)
            {
                int child = (i << 1) + 1;
                if (child >= n)
                {
                    break;
                }

                if (child + 1 < n && _end[child + 1] < _end[child])
                {
                    child++;
                }

                if (_end[child] >= end)
                {
                    break;
                }

                _end[i] = _end[child];
                _slot[i] = _slot[child];
                i = child;
            }

            _end[i] = end;
            _slot[i] = slot;
        }

        return top;
    }

    public void Clear() => Count = 0;
}
