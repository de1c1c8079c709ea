namespace LinqStream.Runtime;

/// <summary>
/// Batches kept across runs in the process: the batches of the channels' slots (a channel takes one the first time its producer
/// fills a slot and gives them all back once its consumer has taken the producer's completion, the last message it will ever
/// carry) and those of a parallel run's task contexts (<see cref="BatchPool{T}"/> takes one when it has none free, and its task
/// gives them all back when it ends with none outstanding). So the next run starts with batches made already instead of
/// allocating them again (issue #16: NEXMark q5's channels at parallelism 2 hold 48 batches of 2,048 events, ~2.5 MB made anew
/// in every run, a collection per run with the tables).
/// </summary>
/// <remarks>
/// Take and give back happen once per slot and run, under a lock. A batch given back is empty (<see cref="EventBatch{T}.Reset"/>)
/// and owns its columns alone (the channels move columns between batches by swapping, never by sharing). At most
/// <see cref="MaxBatches"/> batches are kept per payload type; a channel that is closed (a stop), or a pool with batches still
/// out, keeps its batches for the collector.
/// </remarks>
internal static class SharedBatches<T>
{
    /// <summary>The most batches kept per payload type (q5 at P = 2 holds about fifty in its channels and as many in its tasks).</summary>
    internal const int MaxBatches = 256;

    private static readonly Lock Gate = new();
    private static readonly Stack<EventBatch<T>> Batches = new();

    /// <summary>Gets the number of batches kept now (tests).</summary>
    internal static int Count
    {
        get
        {
            lock (Gate)
            {
                return Batches.Count;
            }
        }
    }

    /// <summary>An empty batch of <paramref name="capacity"/> events: one kept from an earlier run when there is one of that capacity.</summary>
    public static EventBatch<T> Take(int capacity)
    {
        lock (Gate)
        {
            if (Batches.TryPeek(out var batch) && batch.Capacity == capacity)
            {
                return Batches.Pop();
            }
        }

        return new EventBatch<T>(capacity);
    }

    /// <summary>Keeps <paramref name="batch"/> (emptied) for the next <see cref="Take"/>; batches of another capacity than the kept ones replace them.</summary>
    public static void GiveBack(EventBatch<T> batch)
    {
        batch.Reset();
        lock (Gate)
        {
            if (Batches.TryPeek(out var top) && top.Capacity != batch.Capacity)
            {
                Batches.Clear(); // a query with another batch size: keep what it uses
            }

            if (Batches.Count < MaxBatches)
            {
                Batches.Push(batch);
            }
        }
    }
}
