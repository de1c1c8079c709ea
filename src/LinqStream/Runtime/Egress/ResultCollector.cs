namespace LinqStream.Runtime.Egress;

/// <summary>Collects the payloads of one step's results for a job's sink, reusing one growing array.</summary>
internal sealed class ResultCollector<T>(QueryContext context) : IStreamObserver<T>
{
    private readonly BatchPool<T> _pool = context.Pool<T>();

    private const int MinimumLength = 1024;

    private const int ShrinkAbove = 64 * 1024;

    public T[] Items { get; private set; } = new T[MinimumLength];

    public int Count { get; private set; }

    public Exception? Error { get; private set; }

    public bool Completed { get; private set; }

    public void OnBatch(EventBatch<T> batch)
    {
        int needed = Count + batch.Count;
        if (needed > Items.Length)
        {
            var bigger = new T[Math.Max(needed, Items.Length * 2)];
            Array.Copy(Items, bigger, Count);
            Items = bigger;
        }

        var payload = batch.Payload;
        var absent = batch.Absent;
        for (int i = 0; i < batch.Count; i++)
        {
            if ((absent[i >> 6] & (1UL << i)) == 0)
            {
                Items[Count++] = payload[i];
            }
        }

        _pool.Return(batch);
    }

    public void OnWatermark(long watermark)
    {
    }

    public void OnCompleted() => Completed = true;

    public void OnError(Exception error) => Error ??= error;

    public void Clear()
    {
        if (System.Runtime.CompilerServices.RuntimeHelpers.IsReferenceOrContainsReferences<T>())
        {
            Array.Clear(Items, 0, Count);
        }

        // A burst (a window with millions of keys) grew the array; once steps are small again it goes back to a small one.
        if (Items.Length > ShrinkAbove && Count * 4 < Items.Length)
        {
            int size = MinimumLength;
            while (size < Count * 2)
            {
                size *= 2;
            }

            Items = new T[size];
        }

        Count = 0;
    }
}
