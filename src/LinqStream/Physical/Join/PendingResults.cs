using System.Runtime.CompilerServices;

namespace LinqStream.Physical.Join;

/// <summary>A first-in first-out ring of matched pairs held back by a left-outer join until earlier left events are decided.</summary>
/// <remarks>Pairs enter in start order (they start when the later event of the pair is processed), so the ring stays sorted.</remarks>
internal sealed class PendingResults<TLeft, TRight>
{
    private long[] _start = new long[16];
    private long[] _end = new long[16];
    private TLeft[] _left = new TLeft[16];
    private TRight[] _right = new TRight[16];
    private int _head;

    public int Count { get; private set; }

    /// <summary>Gets the start of the oldest pair; only valid when <see cref="Count"/> is positive.</summary>
    public long HeadStart => _start[_head];

    public void Enqueue(long start, long end, TLeft left, TRight right)
    {
        if (Count == _start.Length)
        {
            Grow();
        }

        int i = (_head + Count) & (_start.Length - 1);
        _start[i] = start;
        _end[i] = end;
        _left[i] = left;
        _right[i] = right;
        Count++;
    }

    public void Dequeue(out long start, out long end, out TLeft left, out TRight right)
    {
        int i = _head;
        start = _start[i];
        end = _end[i];
        left = _left[i];
        right = _right[i];
        if (RuntimeHelpers.IsReferenceOrContainsReferences<TLeft>())
        {
            _left[i] = default!;
        }

        if (RuntimeHelpers.IsReferenceOrContainsReferences<TRight>())
        {
            _right[i] = default!;
        }

        _head = (i + 1) & (_start.Length - 1);
        Count--;
    }

    /// <summary>Lists the pairs in order (state capture; not a hot path).</summary>
    public List<PendingResult<TLeft, TRight>> Snapshot()
    {
        var list = new List<PendingResult<TLeft, TRight>>(Count);
        for (int k = 0; k < Count; k++)
        {
            int i = (_head + k) & (_start.Length - 1);
            list.Add(new PendingResult<TLeft, TRight>(_start[i], _end[i], _left[i], _right[i]));
        }

        return list;
    }

    public void Clear()
    {
        Array.Clear(_left);
        Array.Clear(_right);
        _head = 0;
        Count = 0;
    }

    /// <summary>Shrinks the ring to twice the pairs it holds (at least 16) after a burst; order is kept.</summary>
    public void TrimExcess()
    {
        int size = 16;
        while (size < Count * 2)
        {
            size *= 2;
        }

        if (size >= _start.Length)
        {
            return;
        }

        _start = Unwrap(_start, size);
        _end = Unwrap(_end, size);
        _left = Unwrap(_left, size);
        _right = Unwrap(_right, size);
        _head = 0;
    }

    /// <summary>Gets the number of pairs the ring has room for.</summary>
    public int Capacity => _start.Length;

    private void Grow()
    {
        // Capacity stays a power of two so the index wraps with a mask.
        int size = _start.Length * 2;
        _start = Unwrap(_start, size);
        _end = Unwrap(_end, size);
        _left = Unwrap(_left, size);
        _right = Unwrap(_right, size);
        _head = 0;
    }

    private T[] Unwrap<T>(T[] array, int size)
    {
        var grown = new T[size];
        int first = array.Length - _head;
        Array.Copy(array, _head, grown, 0, Math.Min(first, Count));
        if (first < Count)
        {
            Array.Copy(array, 0, grown, first, Count - first);
        }

        return grown;
    }
}
