using System.Runtime.CompilerServices;

namespace LinqStream.Runtime.Ingress;

/// <summary>
/// The events a reordering ingress holds back, given out in (start, arrival) order: each pushed batch is sorted once into a run,
/// and the runs' fronts are merged through a min-heap of runs (issue #19).
/// </summary>
/// <remarks>
/// <para>
/// A reorder buffer holds every event of the last <c>MaxDelay</c> (q4/q9's auction closes: about 60,000) and gives them out a
/// batch at a time as the watermark moves. A priority queue of the events themselves costs a sift-down through the whole buffer
/// per event given out (about eight levels of a four-ary heap spread over megabytes: a cache miss per level). Here each batch is
/// sorted when it arrives (in cache, and skipped when it is already in order) and the heap holds one entry per run (about
/// <c>MaxDelay</c> divided by a batch's span: tens), so giving an event out compares a few run fronts that stay in cache.
/// </para>
/// <para>
/// The order is the one a priority queue keyed by <c>(start, sequence)</c> gives: a sequence is the event's arrival number,
/// unique, so the order is total and does not depend on how the input was cut into batches.
/// </para>
/// <para>
/// A batch of fewer than <see cref="SmallRun"/> events (a live source's few events per step, a test's tiny batches) goes into a
/// priority queue of events instead, as before: thousands of tiny runs would cost more than the events they hold. The first
/// event in order is then the earlier of the queue's front and the runs' front.
/// </para>
/// </remarks>
internal sealed class ReorderRuns<T>
{
    /// <summary>The fewest events a run holds; a smaller batch goes into the queue of single events.</summary>
    internal const int SmallRun = 64;

    private readonly Stack<Run> _free = new();
    private readonly PriorityQueue<(T Payload, long End), (long Start, long Sequence)> _single = new();
    private Run[] _heap = new Run[8];
    private int _runs;
    private Run? _pending;
    private SortKey[] _keys = [];

    /// <summary>Gets the number of events held.</summary>
    public long Count { get; private set; }

    /// <summary>Adds an event to the run being built (events come in arrival order, sequences increasing).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(long start, long end, long sequence, T payload)
    {
        var run = _pending ??= Rent(0);
        int n = run.Count;
        if (n == run.Start.Length)
        {
            run.Grow();
        }

        run.Start[n] = start;
        run.End[n] = end;
        run.Sequence[n] = sequence;
        OwnedArrays.Store(run.Payload, n, payload);
        run.Count = n + 1;
    }

    /// <summary>Sorts the run built since the last call by (start, sequence) and puts it among the held runs.</summary>
    public void Seal()
    {
        var run = _pending;
        _pending = null;
        if (run is null || run.Count == 0)
        {
            if (run is not null)
            {
                Recycle(run);
            }

            return;
        }

        int n = run.Count;
        Count += n;
        if (n < SmallRun)
        {
            for (int i = 0; i < n; i++)
            {
                _single.Enqueue((run.Payload[i], run.End[i]), (run.Start[i], run.Sequence[i]));
            }

            Recycle(run);
            return;
        }

        if (!IsSorted(run.Start, n))
        {
            run = SortedCopy(run);
        }

        if (_runs == _heap.Length)
        {
            Array.Resize(ref _heap, _runs * 2);
        }

        _heap[_runs] = run;
        SiftUp(_runs++);
    }

    /// <summary>Removes the first event in order when its start is before <paramref name="limit"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryTakeBefore(long limit, out long start, out long end, out T payload)
    {
        if (_runs > 0)
        {
            var run = _heap[0];
            int h = run.Head;
            start = run.Start[h];
            if (_single.Count > 0 && _single.TryPeek(out _, out var key) && (key.Start < start || (key.Start == start && key.Sequence < run.Sequence[h])))
            {
                return TakeSingle(limit, out start, out end, out payload);
            }

            if (start < limit)
            {
                end = run.End[h];
                payload = run.Payload[h];
                Advance(run, h);
                return true;
            }
        }
        else if (_single.Count > 0)
        {
            return TakeSingle(limit, out start, out end, out payload);
        }

        start = 0;
        end = 0;
        payload = default!;
        return false;
    }

    /// <summary>
    /// Drops every held event and gives the runs' columns back to the shared array pool (issue #19: the next run of the query in the
    /// process reuses them); the source completed, so nothing is held. The buffer may be used again (it makes new runs).
    /// </summary>
    public void Release()
    {
        _pending?.Release();
        _pending = null;
        for (int r = 0; r < _runs; r++)
        {
            _heap[r].Release();
            _heap[r] = null!;
        }

        _runs = 0;
        while (_free.TryPop(out var run))
        {
            run.Release();
        }

        _single.Clear();
        Count = 0;
    }

    /// <summary>Gets every held event (in no particular order) with its sequence, for a checkpoint.</summary>
    public IEnumerable<(long Start, long End, long Sequence, T Payload)> Items()
    {
        foreach (var (item, key) in _single.UnorderedItems)
        {
            yield return (key.Start, item.End, key.Sequence, item.Payload);
        }

        for (int r = 0; r < _runs; r++)
        {
            var run = _heap[r];
            for (int i = run.Head; i < run.Count; i++)
            {
                yield return (run.Start[i], run.End[i], run.Sequence[i], run.Payload[i]);
            }
        }
    }

    private bool TakeSingle(long limit, out long start, out long end, out T payload)
    {
        _single.TryPeek(out var item, out var key);
        if (key.Start >= limit)
        {
            start = 0;
            end = 0;
            payload = default!;
            return false;
        }

        _single.Dequeue();
        Count--;
        (start, end, payload) = (key.Start, item.End, item.Payload);
        return true;
    }

    private void Advance(Run run, int head)
    {
        if (RuntimeHelpers.IsReferenceOrContainsReferences<T>())
        {
            run.Payload[head] = default!;
        }

        Count--;
        run.Head = head + 1;
        if (run.Head == run.Count)
        {
            // The run is used up: the last run takes the root's place.
            Recycle(run);
            _runs--;
            if (_runs > 0)
            {
                _heap[0] = _heap[_runs];
                _heap[_runs] = null!;
                SiftDown(0);
            }
            else
            {
                _heap[0] = null!;
            }
        }
        else
        {
            SiftDown(0);
        }
    }

    /// <summary>Whether run <paramref name="a"/>'s front comes before run <paramref name="b"/>'s.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Before(Run a, Run b)
    {
        long sa = a.Start[a.Head], sb = b.Start[b.Head];
        return sa != sb ? sa < sb : a.Sequence[a.Head] < b.Sequence[b.Head];
    }

    private void SiftUp(int i)
    {
        var run = _heap[i];
        while (i > 0)
        {
            int parent = (i - 1) >> 1;
            if (!Before(run, _heap[parent]))
            {
                break;
            }

            _heap[i] = _heap[parent];
            i = parent;
        }

        _heap[i] = run;
    }

    private void SiftDown(int i)
    {
        var run = _heap[i];
        int count = _runs;
        while (true)
        {
            int child = (2 * i) + 1;
            if (child >= count)
            {
                break;
            }

            if (child + 1 < count && Before(_heap[child + 1], _heap[child]))
            {
                child++;
            }

            if (!Before(_heap[child], run))
            {
                break;
            }

            _heap[i] = _heap[child];
            i = child;
        }

        _heap[i] = run;
    }

    private static bool IsSorted(long[] start, int count)
    {
        for (int i = 1; i < count; i++)
        {
            if (start[i] < start[i - 1])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The run's events in (start, sequence) order, in another run; the given one is recycled.</summary>
    private Run SortedCopy(Run run)
    {
        int n = run.Count;
        if (_keys.Length < n)
        {
            _keys = new SortKey[run.Start.Length];
        }

        var keys = _keys;
        for (int i = 0; i < n; i++)
        {
            keys[i] = new SortKey(run.Start[i], run.Sequence[i], i);
        }

        Array.Sort(keys, 0, n);
        var sorted = Rent(n);
        var (start, end, sequence, payload) = (sorted.Start, sorted.End, sorted.Sequence, sorted.Payload);
        for (int i = 0; i < n; i++)
        {
            int from = keys[i].Index;
            start[i] = keys[i].Start;
            end[i] = run.End[from];
            sequence[i] = keys[i].Sequence;
            OwnedArrays.Store(payload, i, run.Payload[from]);
        }

        sorted.Count = n;
        Recycle(run);
        return sorted;
    }

    private Run Rent(int capacity)
    {
        if (_free.TryPop(out var run))
        {
            if (run.Start.Length < capacity)
            {
                run.Resize(capacity);
            }

            return run;
        }

        return new Run(Math.Max(capacity, 64));
    }

    private void Recycle(Run run)
    {
        if (RuntimeHelpers.IsReferenceOrContainsReferences<T>())
        {
            Array.Clear(run.Payload, run.Head, run.Count - run.Head);
        }

        run.Head = 0;
        run.Count = 0;
        _free.Push(run);
    }

    /// <summary>A sorted stretch of held events; <see cref="Head"/> is the next one to give out.</summary>
    /// <remarks>Its columns come from the shared array pool (not zeroed: only <see cref="Head"/> .. <see cref="Count"/> - 1 is read) and go back at <see cref="Release"/>.</remarks>
    private sealed class Run(int capacity)
    {
        public long[] Start = Tables.PooledArrays.Rent<long>(capacity);
        public long[] End = Tables.PooledArrays.Rent<long>(capacity);
        public long[] Sequence = Tables.PooledArrays.Rent<long>(capacity);
        public T[] Payload = Tables.PooledArrays.Rent<T>(capacity);
        public int Head;
        public int Count;

        public void Grow() => Resize(Start.Length * 2);

        public void Resize(int capacity)
        {
            Tables.PooledArrays.Resize(ref Start, capacity, Count);
            Tables.PooledArrays.Resize(ref End, capacity, Count);
            Tables.PooledArrays.Resize(ref Sequence, capacity, Count);
            Tables.PooledArrays.Resize(ref Payload, capacity, Count);
        }

        /// <summary>Gives the columns back to the pool; the run is dropped after it.</summary>
        public void Release()
        {
            Tables.PooledArrays.Release(ref Start);
            Tables.PooledArrays.Release(ref End);
            Tables.PooledArrays.Release(ref Sequence);
            Tables.PooledArrays.Release(ref Payload);
            Head = 0;
            Count = 0;
        }
    }

    /// <summary>An event's place in the order: start, then arrival.</summary>
    private readonly record struct SortKey(long Start, long Sequence, int Index) : IComparable<SortKey>
    {
        public int CompareTo(SortKey other) =>
            Start != other.Start ? Start.CompareTo(other.Start) : Sequence.CompareTo(other.Sequence);
    }
}
