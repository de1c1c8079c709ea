namespace LinqStream.Runtime.Egress;

/// <summary>Collects the payloads of one step's results for a job's sink, reusing one growing array.</summary>
internal sealed class ResultCollector<T>(QueryContext context) : IStreamObserver<T>
{
    private readonly BatchPool<T> _pool = context.Pool<T>();

    private const int MinimumLength = 1024;

    private const int ShrinkAbove = 64 * 1024;

    private const int MostQuietSteps = 1 << 20;

    private int _quietSteps; // steps in a row that used less than a quarter of a big array
    private int _quietStepsToShrink = 1; // a lone burst gives its array back at the first small step, as before
    private bool _shrunk; // the last resize was a shrink: growing again means the bursts are regular

    public T[] Items { get; private set; } = new T[MinimumLength];

    public int Count { get; private set; }

    public Exception? Error { get; private set; }

    public bool Completed { get; private set; }

    public void OnBatch(EventBatch<T> batch)
    {
        int needed = Count + batch.Count;
        if (needed > Items.Length)
        {
            if (_shrunk)
            {
                // Shrunk, then needed again: bursts come regularly (a tumbling window with many keys closing every so many
                // steps), so wait twice as long before the next shrink instead of reallocating at every burst.
                _quietStepsToShrink = Math.Min(_quietStepsToShrink * 2, MostQuietSteps);
                _shrunk = false;
            }

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

        // A burst (a window with millions of keys) grew the array; it goes back to a
        // small one: at the first small step, and after twice as many small steps each time a shrink was followed by another
        // burst, so regular bursts (a tumbling window with many keys closing every so many steps) keep their array.
        if (Items.Length > ShrinkAbove && Count * 4 < Items.Length)
        {
            if (++_quietSteps >= _quietStepsToShrink)
            {
                int size = MinimumLength;
                while (size < Count * 2)
                {
                    size *= 2;
                }

                Items = new T[size];
                _quietSteps = 0;
                _shrunk = true;
            }
        }
        else
        {
            _quietSteps = 0;
        }

        Count = 0;
    }
}
