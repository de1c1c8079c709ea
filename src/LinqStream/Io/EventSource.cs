namespace LinqStream;

/// <summary>
/// One partition of input that the engine reads in batches: a file, a log partition, a stream. A source that can say where it
/// is (<see cref="GetPosition"/>) and start again from there (<see cref="OpenAsync"/>) makes a query exactly-once.
/// </summary>
/// <typeparam name="T">The payload type.</typeparam>
/// <remarks>
/// The engine calls <see cref="OpenAsync"/> once, then <see cref="ReadAsync"/> and <see cref="GetPosition"/> from one task at a time
/// (never concurrently), on a pool thread, ahead of the query; each batch travels with the position read after it, so a
/// checkpoint records exactly the position of the last batch the query consumed.
/// <para>
/// Each run of a query opens the source and disposes it when the run ends; running the query again opens it again. So acquire
/// connections and file handles in <see cref="OpenAsync"/> and release them in <see cref="DisposeAsync"/>, and do not run two
/// queries over the same instance at the same time.
/// </para>
/// </remarks>
public abstract class EventSource<T> : IAsyncDisposable
{
    /// <summary>Gets the source's name in messages, plans and dead letters (e.g. a file path or <c>redis://host/stream</c>).</summary>
    public abstract string Name { get; }

    /// <summary>Gets a value indicating whether reopening at a position replays exactly the events after it.</summary>
    /// <remarks>A query over a source that cannot replay reports at-most-once delivery.</remarks>
    public abstract bool CanReplay { get; }

    /// <summary>Opens the source, at the start or just after <paramref name="position"/>.</summary>
    /// <param name="context">Dead letters, clock and the query's name.</param>
    /// <param name="position">A position from <see cref="GetPosition"/> of an earlier run, or <see langword="null"/> to start at the beginning.</param>
    /// <param name="cancellationToken">Stops the query.</param>
    /// <returns>A task that completes when the source is ready.</returns>
    public abstract ValueTask OpenAsync(SourceContext context, byte[]? position, CancellationToken cancellationToken);

    /// <summary>Reads up to <paramref name="buffer"/>'s length of events.</summary>
    /// <param name="buffer">Where to write the events, in arrival order.</param>
    /// <param name="cancellationToken">Stops the query.</param>
    /// <returns>How many events were written, and whether the source has ended.</returns>
    /// <remarks>
    /// A live source may wait a short while for data; it should return <see cref="SourceRead.Idle"/> rather than wait forever,
    /// so the engine can advance watermarks of idle partitions. Malformed records go to <see cref="SourceContext.DeadLetters"/>.
    /// </remarks>
    public abstract ValueTask<SourceRead> ReadAsync(Memory<T> buffer, CancellationToken cancellationToken);

    /// <summary>Gets the position just after the last event returned by <see cref="ReadAsync"/>, as opaque bytes.</summary>
    /// <returns>The position, stored in checkpoints.</returns>
    public abstract byte[] GetPosition();

    /// <inheritdoc/>
    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }
}

/// <summary>The outcome of one <see cref="EventSource{T}.ReadAsync"/>.</summary>
/// <param name="Count">The number of events written to the buffer.</param>
/// <param name="IsCompleted">Whether the source has no more events, ever.</param>
public readonly record struct SourceRead(int Count, bool IsCompleted)
{
    /// <summary>Gets the result of a read that found nothing yet (a live source with no new data).</summary>
    public static SourceRead Idle => default;

    /// <summary>Gets the result of a read at the end of the source.</summary>
    public static SourceRead Completed => new(0, true);
}

/// <summary>What a source gets from the query that reads it.</summary>
public sealed class SourceContext
{
    /// <summary>Initializes a new instance of the <see cref="SourceContext"/> class.</summary>
    /// <param name="deadLetters">Where malformed records go.</param>
    /// <param name="timeProvider">The processing-time clock.</param>
    public SourceContext(IDeadLetterSink deadLetters, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(deadLetters);
        ArgumentNullException.ThrowIfNull(timeProvider);
        DeadLetters = deadLetters;
        TimeProvider = timeProvider;
    }

    /// <summary>Gets where malformed records go: with the source, the position and the reason.</summary>
    public IDeadLetterSink DeadLetters { get; }

    /// <summary>Gets the processing-time clock (for timeouts and backoff).</summary>
    public TimeProvider TimeProvider { get; }

    /// <summary>
    /// Gets the members of the event type that the query reads (C# names: fields and auto-implemented properties), or
    /// <see langword="null"/> when it may read every member (its results hold whole events, or a lambda hands an event to code the
    /// engine cannot see into) or the source is opened outside a query.
    /// </summary>
    /// <value>The engine derives it from the query's plan (<c>Explain()</c> prints it as a <c>MembersRead:</c> line). A source may
    /// decode only these members: <see cref="EventSerializer{T}.ForQuery"/> gives the serializer that does, for the JSON serializers.</value>
    public IReadOnlyList<string>? MembersRead { get; init; }
}
