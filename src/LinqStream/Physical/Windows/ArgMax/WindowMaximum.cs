using System.Runtime.CompilerServices;
using LinqStream.Runtime;

namespace LinqStream.Physical.Windows.ArgMax;

/// <summary>
/// The running maximum of the open window of a start-ordered input (a window is the events that share a start) and the events
/// at it, in input order: what <see cref="WindowArgMaxOperator{TIn, TRow, TKey, TResult}"/> emits from and what
/// <see cref="TaskArgMaxOperator{T}"/> ships to the merge.
/// </summary>
/// <remarks>
/// Per event: one compare against the running maximum and, at the maximum, a copy into the tied list; nothing is allocated once the
/// list has grown to the largest tie seen. Events with an empty lifetime are skipped (they overlap nothing). The owner is called
/// once per completed window, never per event.
/// </remarks>
/// <typeparam name="T">The events' payload.</typeparam>
internal sealed class WindowMaximum<T>
{
    private T[] _tied = new T[16];
    private long[] _tiedEnd = new long[16];

    /// <summary>Gets a value indicating whether a window is open (an event was seen since the last close).</summary>
    public bool IsOpen { get; private set; }

    /// <summary>Gets the open window's start.</summary>
    public long Start { get; private set; }

    /// <summary>Gets the open window's maximum so far.</summary>
    public long Max { get; private set; }

    /// <summary>Gets the number of events at the maximum.</summary>
    public int Count { get; private set; }

    /// <summary>Gets the <paramref name="index"/>-th event at the maximum, in input order.</summary>
    public T Payload(int index) => _tied[index];

    /// <summary>Gets the end of the <paramref name="index"/>-th event at the maximum.</summary>
    public long End(int index) => _tiedEnd[index];

    /// <summary>
    /// Adds a batch's present events, <paramref name="values"/> being their compared values. When an event of a later start arrives,
    /// <paramref name="closed"/> runs for the window before it (its <see cref="Start"/>, <see cref="Max"/> and tied events are those of
    /// the complete window; it must take the tied events with <see cref="Clear"/>); when it returns <see langword="false"/> the batch
    /// is abandoned and this returns <see langword="false"/>.
    /// </summary>
    public bool Add(EventBatch<T> batch, long[] values, Func<bool> closed)
    {
        var start = batch.Start;
        var end = batch.End;
        var payload = batch.Payload;
        var absent = batch.Absent;
        int count = batch.Count;
        bool open = IsOpen;
        long groupStart = Start;
        long max = Max;
        for (int i = 0; i < count; i++)
        {
            if ((absent[i >> 6] & (1UL << i)) != 0)
            {
                continue;
            }

            long s = start[i];
            long e = end[i];
            if (e <= s)
            {
                continue;
            }

            long v = values[i];
            if (!open || s != groupStart)
            {
                if (open)
                {
                    Max = max;
                    Start = groupStart;
                    if (!closed())
                    {
                        return false;
                    }
                }

                open = true;
                groupStart = s;
                max = v;
                Clear();
            }
            else if (v > max)
            {
                max = v;
                Clear();
            }
            else if (v != max)
            {
                continue;
            }

            Keep(payload[i], e);
        }

        IsOpen = open;
        Start = groupStart;
        Max = max;
        return true;
    }

    /// <summary>Closes the open window if it starts before <paramref name="watermark"/>: <paramref name="closed"/> runs for it as in <see cref="Add"/>.</summary>
    /// <returns><see langword="false"/> when <paramref name="closed"/> did.</returns>
    public bool CloseBefore(long watermark, Func<bool> closed)
    {
        if (!IsOpen || Start >= watermark)
        {
            return true;
        }

        if (!closed())
        {
            return false;
        }

        IsOpen = false;
        return true;
    }

    /// <summary>Forgets the tied events; the window, if open, stays open with its maximum.</summary>
    public void Clear()
    {
        if (RuntimeHelpers.IsReferenceOrContainsReferences<T>())
        {
            Array.Clear(_tied, 0, Count);
        }

        Count = 0;
    }

    /// <summary>Forgets everything (the query failed).</summary>
    public void Reset()
    {
        Clear();
        IsOpen = false;
    }

    /// <summary>Loads a window captured from <see cref="IsOpen"/>, <see cref="Start"/>, <see cref="Max"/> and the tied events.</summary>
    public void Restore(bool open, long start, long max, IEnumerable<StreamEvent<T>> tied)
    {
        IsOpen = open;
        Start = start;
        Max = max;
        Clear();
        foreach (var e in tied)
        {
            Keep(e.Payload, e.End);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Keep(T payload, long end)
    {
        int n = Count;
        if (n == _tied.Length)
        {
            Array.Resize(ref _tied, n * 2);
            Array.Resize(ref _tiedEnd, n * 2);
        }

        _tied[n] = payload;
        _tiedEnd[n] = end;
        Count = n + 1;
    }
}
