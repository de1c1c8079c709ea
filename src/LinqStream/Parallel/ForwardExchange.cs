using LinqStream.Runtime;

namespace LinqStream.Parallel;

/// <summary>What a source task sends into: a hash exchange (to every task) or a forward exchange (to its own task).</summary>
internal interface ISourceExchange<T> : IStreamObserver<T>
{
    /// <summary>Gets the number of events sent to each of the exchange's channels so far.</summary>
    IReadOnlyList<long> SentPerTask { get; }

    /// <summary>Sends checkpoint barrier <paramref name="id"/> after the data before it; false when the exchange has ended.</summary>
    bool SendBarrier(long id);
}

/// <summary>
/// A task chained to its source task (docs/parallelism.md, "Chained tasks"): the source task's forward exchange calls it with what it
/// would send into the task's channel, on the one thread they share (one interface call per batch or message, not per event).
/// </summary>
internal interface IChainedTask<T>
{
    /// <summary>Runs the task on the batch's events (moved into a batch of the task's own; the caller keeps its batch).</summary>
    void Batch(EventBatch<T> batch);

    void Watermark(long watermark);

    void Barrier(long id);

    void Completed();

    void Error(Exception error);

    /// <summary>Waits until <paramref name="channel"/> (to another task) has room, running the task side meanwhile; false when it was closed.</summary>
    bool WaitForSpace(SpscChannel<T> channel);
}

/// <summary>
/// The sending end of a forward exchange: one task's output, in its own order, onto its one channel (here: into the
/// order-restoring merge in front of the sink). Batches are handed over by swapping columns, not copied.
/// </summary>
internal sealed class ForwardExchange<T> : IStreamObserver<T>
{
    private readonly SpscChannel<T> _channel;
    private readonly BatchPool<T> _pool;
    private bool _done;

    public ForwardExchange(SpscChannel<T> channel, QueryContext context)
    {
        _channel = channel;
        _pool = context.Pool<T>();
    }

    /// <summary>
    /// Gets or sets what runs while the channel is full before a send, until it has room (a chained task: it moves what other source tasks
    /// sent it aside, so they never wait for it while it waits for the merge); null: the send waits in the channel.
    /// </summary>
    public Action? WhileFull { get; set; }

    private void WaitForSpace()
    {
        if (WhileFull is { } whileFull)
        {
            while (!_channel.HasSpace && !_channel.IsClosed)
            {
                whileFull();
            }
        }
    }

    public void OnBatch(EventBatch<T> batch)
    {
        try
        {
            if (!_done && batch.Count > 0)
            {
                WaitForSpace();
                _done = !_channel.SendBatch(batch);
            }
        }
        finally
        {
            _pool.Return(batch);
        }
    }

    public void OnWatermark(long watermark)
    {
        if (!_done)
        {
            WaitForSpace();
            _done = !_channel.SendWatermark(watermark);
        }
    }

    /// <summary>Forwards a checkpoint barrier after the task's output before it.</summary>
    public void SendBarrier(long id)
    {
        if (!_done)
        {
            WaitForSpace();
            _done = !_channel.SendBarrier(id);
        }
    }

    public void OnCompleted()
    {
        if (!_done)
        {
            _done = true;
            WaitForSpace();
            _channel.SendCompleted();
        }
    }

    public void OnError(Exception error)
    {
        if (!_done)
        {
            _done = true;
            WaitForSpace();
            _channel.SendError(error);
        }
    }
}

/// <summary>
/// The sending end of a forward exchange from a source task (a forward plan, docs/parallelism.md "Forward exchange"): its events
/// go whole to its own task's channel (batches handed over by swapping columns: no hash, no copy); its watermarks, barriers,
/// completion and errors go to every task, as from a hash exchange, so every task's watermark is the minimum over all partitions
/// (parallelism 1's), the tasks' barriers align over the same cut, and a task whose own partitions ended still aligns and passes
/// barriers on.
/// </summary>
internal sealed class ForwardSourceExchange<T> : ISourceExchange<T>
{
    private readonly SpscChannel<T>[] _channels;
    private readonly SpscChannel<T> _own;
    private readonly int _ownIndex;
    private readonly BatchPool<T> _pool;
    private readonly QueryContext _context;
    private readonly long[] _sent;
    private readonly IChainedTask<T>? _chained;
    private long _watermark = Temporal.Ticks.MinusInfinity;
    private bool _done;

    /// <param name="channels">A channel to every task.</param>
    /// <param name="own">This source task's own task.</param>
    /// <param name="context">The source task's context.</param>
    /// <param name="chained">The own task when it runs on this source task's thread (its channel is then not used), or null.</param>
    public ForwardSourceExchange(SpscChannel<T>[] channels, int own, QueryContext context, IChainedTask<T>? chained = null)
    {
        _channels = channels;
        _own = channels[own];
        _ownIndex = own;
        _pool = context.Pool<T>();
        _context = context;
        _sent = new long[channels.Length];
        _chained = chained;
    }

    public IReadOnlyList<long> SentPerTask => _sent;

    public void OnBatch(EventBatch<T> batch)
    {
        try
        {
            if (!_done && batch.Count > 0)
            {
                _sent[_ownIndex] += batch.Count;
                if (_chained is not null)
                {
                    _chained.Batch(batch);
                }
                else if (!_own.SendBatch(batch))
                {
                    _done = true; // closed: the query is stopping, so its sources stop reading too
                    _context.Stop();
                }
            }
        }
        finally
        {
            _pool.Return(batch);
        }
    }

    public void OnWatermark(long watermark)
    {
        if (_done || watermark <= _watermark)
        {
            return;
        }

        _watermark = watermark;
        for (int t = 0; t < _channels.Length; t++)
        {
            if ((t != _ownIndex || _chained is null) && HasSpace(_channels[t]))
            {
                _channels[t].SendWatermark(watermark);
            }
        }

        // Chained: the own task last, so that no task has a result the other tasks' watermarks do not cover yet (the merge waits for them).
        _chained?.Watermark(watermark);
    }

    /// <summary>Chained: waits for room in another task's channel running the own task meanwhile (see <see cref="IChainedTask{T}.WaitForSpace"/>); unchained: true (the send waits).</summary>
    private bool HasSpace(SpscChannel<T> channel) => _chained is null || _chained.WaitForSpace(channel);

    public bool SendBarrier(long id)
    {
        if (_done)
        {
            return false;
        }

        for (int t = 0; t < _channels.Length; t++)
        {
            if ((t != _ownIndex || _chained is null) && (!HasSpace(_channels[t]) || !_channels[t].SendBarrier(id)))
            {
                return false;
            }
        }

        _chained?.Barrier(id);
        return true;
    }

    public void OnCompleted()
    {
        if (!_done)
        {
            _done = true;
            for (int t = 0; t < _channels.Length; t++)
            {
                if ((t != _ownIndex || _chained is null) && HasSpace(_channels[t]))
                {
                    _channels[t].SendCompleted();
                }
            }

            _chained?.Completed();
        }
    }

    public void OnError(Exception error)
    {
        if (!_done)
        {
            _done = true;
            for (int t = 0; t < _channels.Length; t++)
            {
                if ((t != _ownIndex || _chained is null) && HasSpace(_channels[t]))
                {
                    _channels[t].SendError(error);
                }
            }

            _chained?.Error(error);
        }
    }
}

/// <summary>Serializes dead letters written by several tasks (their order across tasks is not defined).</summary>
internal sealed class LockedDeadLetters(IDeadLetterSink inner) : IDeadLetterSink
{
    private readonly Lock _gate = new();

    public void Write(DeadLetter letter)
    {
        lock (_gate)
        {
            inner.Write(letter);
        }
    }
}
