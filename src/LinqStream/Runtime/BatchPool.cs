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
        return _free.TryPop(out var batch) ? batch : new EventBatch<T>(BatchSize);
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
}

/// <summary>What the query context needs to know of a pool without its payload type.</summary>
internal interface IBatchPool
{
    int Outstanding { get; }

    Type PayloadType { get; }
}
