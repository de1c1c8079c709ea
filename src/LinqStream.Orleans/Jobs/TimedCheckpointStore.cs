namespace LinqStream.Orleans;

/// <summary>
/// The checkpoint store a cluster job writes through: the job's fenced store, with a limit on each write
/// (<see cref="JobSubmission.CheckpointWriteTimeout"/>). A write that does not finish in time, or that the store itself gives up
/// on with a <see cref="TimeoutException"/> (StackExchange.Redis' own 5 s limit, for example), fails with
/// <see cref="CheckpointWriteTimeoutException"/>, which the job's activation answers with a rollback to the last complete
/// checkpoint under a new epoch, not by failing the job (issue #17).
/// </summary>
/// <remarks>
/// <para>The checkpoint's bytes are assembled in memory first (as <see cref="CheckpointStore"/>'s default does, and the Redis store
/// needs them whole anyway), so only the store's write is timed, and a write left behind by the limit holds an array of its own,
/// never the job's snapshot, which the job releases as soon as the write fails.</para>
/// <para>A write left behind is cancelled; should it still reach the store, it is either complete (a checkpoint the new epoch may
/// restore from: its sinks were not committed, so the restore decides them as after a crash between the save and the commit) or
/// refused by the fence, because the rollback takes the next epoch before anything else runs.</para>
/// </remarks>
internal sealed class TimedCheckpointStore : CheckpointStore
{
    private readonly CheckpointStore _inner;
    private readonly TimeSpan _limit;
    private readonly TimeProvider _time;

    public TimedCheckpointStore(CheckpointStore inner, TimeSpan limit, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(limit, TimeSpan.Zero);
        _inner = inner;
        _limit = limit;
        _time = time;
    }

    /// <summary>Gets the store written to.</summary>
    public CheckpointStore Inner => _inner;

    /// <inheritdoc/>
    /// <exception cref="CheckpointWriteTimeoutException">The write did not finish within the limit, or the store timed out.</exception>
    public override async Task SaveAsync(long id, ReadOnlyMemory<byte> checkpoint, CancellationToken cancellationToken)
    {
        using var abandon = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var started = _time.GetTimestamp();
        Task write;
        try
        {
            write = _inner.SaveAsync(id, checkpoint, abandon.Token);
        }
        catch (TimeoutException ex)
        {
            throw TimedOut(id, started, ex, leftBehind: false);
        }

        try
        {
            await write.WaitAsync(_limit, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException ex) when (!cancellationToken.IsCancellationRequested)
        {
            bool leftBehind = !write.IsCompleted;
            if (leftBehind)
            {
                // Left behind: cancel it, and observe how it ends so that its failure is not an unobserved task exception.
                await abandon.CancelAsync().ConfigureAwait(false);
                _ = write.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }

            throw TimedOut(id, started, ex, leftBehind);
        }
    }

    /// <inheritdoc/>
    /// <remarks>Writes the checkpoint into memory (not timed), then stores the bytes (timed).</remarks>
    public override async Task SaveAsync(long id, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(write);
        using var buffer = new MemoryStream(); // the array outlives it: a write left behind keeps its memory
        await write(buffer, cancellationToken).ConfigureAwait(false);
        await SaveAsync(id, buffer.GetBuffer().AsMemory(0, (int)buffer.Length), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    /// <exception cref="CheckpointWriteTimeoutException">The store timed out (a restore on an overloaded server: rolled back and tried again).</exception>
    public override IReadOnlyList<long> List()
    {
        try
        {
            return _inner.List();
        }
        catch (TimeoutException ex)
        {
            throw new CheckpointWriteTimeoutException($"Listing the checkpoints of {_inner.Describe(0)} timed out in the store ({ex.GetType().Name}: {ex.Message}); the job rolls back and tries again.", ex);
        }
    }

    /// <inheritdoc/>
    /// <exception cref="CheckpointWriteTimeoutException">The store timed out (a restore on an overloaded server: rolled back and tried again).</exception>
    public override async Task<byte[]> LoadAsync(long id, CancellationToken cancellationToken)
    {
        try
        {
            return await _inner.LoadAsync(id, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CheckpointWriteTimeoutException($"Reading {_inner.Describe(id)} timed out in the store ({ex.GetType().Name}: {ex.Message}); the job rolls back and tries again.", ex);
        }
    }

    /// <inheritdoc/>
    public override string Describe(long id) => _inner.Describe(id);

    /// <inheritdoc/>
    public override IDisposable? Acquire(string owner, Action<string> warn) => _inner.Acquire(owner, warn);

    private CheckpointWriteTimeoutException TimedOut(long id, long started, TimeoutException cause, bool leftBehind) =>
        new(leftBehind
            ? $"Writing {_inner.Describe(id)} did not finish within {_limit.TotalSeconds:0.###} s (JobSubmission.CheckpointWriteTimeout); the job rolls back to its last complete checkpoint."
            : $"Writing {_inner.Describe(id)} timed out in the store after {_time.GetElapsedTime(started).TotalSeconds:F1} s ({cause.GetType().Name}: {cause.Message}); the job rolls back to its last complete checkpoint.",
            cause);
}

/// <summary>A checkpoint's write did not finish in time (<see cref="JobSubmission.CheckpointWriteTimeout"/>, or the store's own limit), or
/// the store timed out reading one back: the job rolls back to its last complete checkpoint (and restores again).</summary>
internal sealed class CheckpointWriteTimeoutException(string message, Exception? inner) : TimeoutException(message, inner);
