namespace LinqStream.Testing.Io;

/// <summary>
/// A transactional in-memory <see cref="EventSink{T}"/> standing in for durable storage: it outlives a job, and a restored job
/// cuts it back to what the checkpoint committed, as a file sink cuts its file.
/// </summary>
/// <typeparam name="T">The result type.</typeparam>
public sealed class MemorySink<T> : EventSink<T>
{
    private readonly List<T> _items = [];
    private readonly System.Collections.Concurrent.ConcurrentDictionary<long, int> _prepared = new();

    /// <summary>Initializes a new instance of the <see cref="MemorySink{T}"/> class.</summary>
    /// <param name="transactional">Whether it commits with checkpoints (false: it keeps everything ever written, like a plain queue).</param>
    public MemorySink(bool transactional = true) => IsTransactional = transactional;

    /// <summary>Gets everything written and kept.</summary>
    public IReadOnlyList<T> Items => _items;

    /// <summary>Gets a value indicating whether <see cref="CompleteAsync"/> was called.</summary>
    public bool Completed { get; private set; }

    /// <summary>Gets or sets a callback after each write (for example to cancel a job at a chosen point).</summary>
    public Action<int>? AfterWrite { get; set; }

    /// <summary>How many items the sink held when checkpoint <paramref name="checkpointId"/> prepared its commit: what a restore
    /// from it keeps (<see langword="null"/> when no checkpoint by that id prepared here).</summary>
    /// <param name="checkpointId">A checkpoint's id, for example <c>QueryJob.LastCheckpointId</c>.</param>
    /// <returns>The count, or <see langword="null"/>.</returns>
    public int? HeldAt(long checkpointId) => _prepared.TryGetValue(checkpointId, out int count) ? count : null;

    /// <summary>Stops a job part-way through its output: cancels <paramref name="stop"/> once the sink holds at least
    /// <paramref name="count"/> items (through <see cref="AfterWrite"/>; set that to <see langword="null"/> to undo it).</summary>
    /// <param name="count">How many items the sink holds when it cancels.</param>
    /// <param name="stop">What the job runs with.</param>
    public void CancelAt(int count, CancellationTokenSource stop)
    {
        ArgumentNullException.ThrowIfNull(stop);
        AfterWrite = written =>
        {
            if (written >= count)
            {
                stop.Cancel();
            }
        };
    }

    /// <inheritdoc/>
    public override string Name => "memory";

    /// <inheritdoc/>
    public override bool IsTransactional { get; }

    /// <inheritdoc/>
    public override ValueTask OpenAsync(byte[]? committed, CancellationToken cancellationToken)
    {
        Completed = false;
        if (IsTransactional)
        {
            int keep = committed is null ? 0 : BitConverter.ToInt32(committed);
            _items.RemoveRange(keep, _items.Count - keep);
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public override ValueTask WriteAsync(ReadOnlyMemory<T> results, CancellationToken cancellationToken)
    {
        _items.AddRange(results.Span);
        AfterWrite?.Invoke(_items.Count);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public override ValueTask<byte[]> PrepareCommitAsync(long checkpointId, CancellationToken cancellationToken)
    {
        _prepared[checkpointId] = _items.Count;
        return ValueTask.FromResult(BitConverter.GetBytes(_items.Count));
    }

    /// <inheritdoc/>
    public override ValueTask CompleteAsync(CancellationToken cancellationToken)
    {
        Completed = true;
        return ValueTask.CompletedTask;
    }
}
