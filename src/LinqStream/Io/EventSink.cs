namespace LinqStream;

/// <summary>
/// Where a job's results go. A sink that makes its output durable only up to each checkpoint (a file that is cut back on
/// restore, a log written with deterministic ids) makes the job exactly-once.
/// </summary>
/// <typeparam name="T">The result type.</typeparam>
/// <remarks>
/// The job calls the methods one at a time, in this order: <see cref="OpenAsync"/>, then any number of <see cref="WriteAsync"/>,
/// with <see cref="PrepareCommitAsync"/> / <see cref="CommitAsync"/> at each checkpoint, then <see cref="CompleteAsync"/> at the end.
/// When a checkpoint's file is written off the query's thread (parallelism 1 on the RocksDB state backend), <see cref="WriteAsync"/>
/// calls of later results may come between <see cref="PrepareCommitAsync"/> and <see cref="CommitAsync"/> of the same checkpoint;
/// the next <see cref="PrepareCommitAsync"/> always comes after that <see cref="CommitAsync"/>.
/// </remarks>
public abstract class EventSink<T> : IAsyncDisposable
{
    /// <summary>Gets the sink's name in messages.</summary>
    public abstract string Name { get; }

    /// <summary>Gets a value indicating whether the sink commits with checkpoints, so a restored job neither repeats nor loses output.</summary>
    public abstract bool IsTransactional { get; }

    /// <summary>Opens the sink; after a restore, <paramref name="committed"/> is what <see cref="PrepareCommitAsync"/> returned for that checkpoint.</summary>
    /// <param name="committed">The sink's state in the restored checkpoint, or <see langword="null"/> on a fresh start.</param>
    /// <param name="cancellationToken">Stops the job.</param>
    /// <returns>A task that completes when the sink is ready; a transactional sink has dropped any output written after <paramref name="committed"/>.</returns>
    public abstract ValueTask OpenAsync(byte[]? committed, CancellationToken cancellationToken);

    /// <summary>Writes results, in order.</summary>
    /// <param name="results">The results; the memory is reused after the call returns.</param>
    /// <param name="cancellationToken">Stops the job.</param>
    /// <returns>A task that completes when the sink has taken the results.</returns>
    public abstract ValueTask WriteAsync(ReadOnlyMemory<T> results, CancellationToken cancellationToken);

    /// <summary>Makes everything written so far durable and returns the state to keep in the checkpoint.</summary>
    /// <param name="checkpointId">The checkpoint's number.</param>
    /// <param name="cancellationToken">Stops the job.</param>
    /// <returns>The sink's state (for example the committed file length).</returns>
    public abstract ValueTask<byte[]> PrepareCommitAsync(long checkpointId, CancellationToken cancellationToken);

    /// <summary>Called once the checkpoint is durable; a sink that stages output publishes it here.</summary>
    /// <param name="checkpointId">The checkpoint's number.</param>
    /// <param name="cancellationToken">Stops the job.</param>
    /// <returns>A task that completes when the output is published.</returns>
    public virtual ValueTask CommitAsync(long checkpointId, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>The input has ended and every result was written: makes the output final.</summary>
    /// <param name="cancellationToken">Stops the job.</param>
    /// <returns>A task that completes when the output is final.</returns>
    public abstract ValueTask CompleteAsync(CancellationToken cancellationToken);

    /// <inheritdoc/>
    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }
}
