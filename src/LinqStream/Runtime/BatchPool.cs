namespace LinqStream.Runtime;

/// <summary>The pool of <see cref="EventBatch{T}"/> of one payload type, for one running query.</summary>
/// <remarks>A query runs on one thread, so the pool needs no locks. <see cref="Outstanding"/> lets tests prove every batch came back.</remarks>
internal sealed class BatchPool<T> : IBatchPool
{
    private readonly Stack<EventBatch<T>> _free = new();

    public BatchPool(int batchSize) => BatchSize = batchSize;

    public int BatchSize { get; }

    public int Outstanding { get; private set; }

    public Type PayloadType => typeof(T);

    public EventBatch<T> Rent()
    {
        Outstanding++;
        return _free.TryPop(out var batch) ? batch : SharedBatches<T>.Take(BatchSize);
    }

    /// <summary>Rents a batch and copies <paramref name="batch"/> into it: times, payloads and filter bits.</summary>
    public EventBatch<T> RentCopyOf(EventBatch<T> batch)
    {
        var copy = Rent();
        int count = batch.Count;
        Array.Copy(batch.Start, copy.Start, count);
        Array.Copy(batch.End, copy.End, count);
        Array.Copy(batch.Payload, copy.Payload, count);
        Array.Copy(batch.Absent, copy.Absent, (count + 63) >> 6);
        copy.Count = count;
        return copy;
    }

    public void Return(EventBatch<T> batch)
    {
        Outstanding--;
        if (batch.Capacity != BatchSize)
        {
            return;
        }

        batch.Reset();
        _free.Push(batch);
    }

    /// <summary>
    /// Gives back the batches a burst left in the pool (a window that emitted millions of results, a join input that buffered far
    /// ahead): keeps at most as many free batches as are rented now, and at least <see cref="KeptWhenIdle"/>. Operators call it
    /// (through <see cref="QueryContext.TrimPools"/>) when their state shrank, so a steady query never pays for it.
    /// </summary>
    public void TrimExcess()
    {
        int keep = Math.Max(KeptWhenIdle, Outstanding);
        if (_free.Count <= keep)
        {
            return;
        }

        while (_free.Count > keep)
        {
            _free.Pop();
        }

        _free.TrimExcess();
    }

    /// <summary>
    /// At the end of a run, on the thread that ran it: when every batch came back, gives the free ones to
    /// <see cref="SharedBatches{T}"/> for the next run in the process (a pool with batches still out keeps them: one of them may
    /// still be in use).
    /// </summary>
    public void GiveBackToShared()
    {
        if (Outstanding != 0)
        {
            return;
        }

        while (_free.TryPop(out var batch))
        {
            SharedBatches<T>.GiveBack(batch);
        }
    }

    /// <summary>Gets the number of free batches the pool holds.</summary>
    public int FreeCount => _free.Count;

    /// <summary>The free batches a trimmed pool keeps however few are rented.</summary>
    public const int KeptWhenIdle = 16;
}

/// <summary>What the query context needs to know of a pool without its payload type.</summary>
internal interface IBatchPool
{
    int Outstanding { get; }

    Type PayloadType { get; }

    void TrimExcess();

    void GiveBackToShared();
}
