namespace LinqStream.Runtime;

/// <summary>One ingress of a running query, stepped by the <see cref="QueryRunner"/>.</summary>
internal abstract class SourceDriver : IDisposable, Checkpoints.ICheckpointed
{
    /// <summary>Gets a value indicating whether a restored run re-reads exactly the events after the checkpoint.</summary>
    public abstract bool CanReplay { get; }

    /// <summary>Gets the source's name in messages.</summary>
    public abstract string SourceName { get; }

    public virtual string CheckpointName => GetType().Name.Split('`')[0];

    public abstract void WriteState(BinaryWriter writer);

    public abstract void ReadState(BinaryReader reader);

    /// <summary>Gets the last watermark this source sent downstream.</summary>
    public long Watermark { get; protected set; } = Temporal.Ticks.MinusInfinity;

    public bool IsCompleted { get; protected set; }

    /// <summary>Gets the number of events this source has pushed into the query (restored from a checkpoint).</summary>
    public abstract long EventsRead { get; }

    /// <summary>Gets the events <paramref name="sources"/> have pushed into the query so far, together (<see cref="EventsRead"/>).</summary>
    public static long EventsReadBy(IReadOnlyList<SourceDriver> sources)
    {
        long total = 0;
        for (int i = 0; i < sources.Count; i++)
        {
            total += sources[i].EventsRead;
        }

        return total;
    }

    /// <summary>Gets the latest event time read so far (<see cref="Temporal.Ticks.MinusInfinity"/> before the first event); progress reports.</summary>
    public abstract long MaxEventTime { get; }

    /// <summary>Gets the number of events that arrived later than the ingress policy allows (metrics; read from another thread).</summary>
    public abstract long LateEvents { get; }

    /// <summary>Gets the time the source's reader spent waiting for room in a full queue, in <see cref="System.Diagnostics.Stopwatch"/> ticks (backpressure; read from another thread).</summary>
    public virtual long BlockedTimestampTicks => 0;

    /// <summary>Gets a value indicating whether events arrive on their own schedule (observable, async enumerable).</summary>
    public abstract bool IsLive { get; }

    /// <summary>Starts a live source's producer; called once, after the whole query is wired.</summary>
    public virtual void Start()
    {
    }

    /// <summary>Pushes at most one batch and a watermark downstream.</summary>
    /// <returns><see langword="false"/> when the source had nothing to push right now.</returns>
    public abstract bool TryStep();

    /// <summary>Completes when a live source may have something to push.</summary>
    public virtual Task WaitForDataAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Completes when a live source's reader has ended and let its source go (an <see cref="EventSource{T}"/> disposed, an async
    /// enumeration ended): after <see cref="Dispose"/> cancelled it, or at the source's end. Completed at once for a source without
    /// a reader of its own.
    /// </summary>
    public virtual Task Released => Task.CompletedTask;

    /// <summary>Stops the source early (unsubscribe, cancel, or an error downstream).</summary>
    public virtual void Dispose()
    {
        IsCompleted = true;
    }
}
