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

    public void OnBatch(EventBatch<T> batch)
    {
        try
        {
            if (!_done && batch.Count > 0)
            {
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
            _done = !_channel.SendWatermark(watermark);
        }
    }

    /// <summary>Forwards a checkpoint barrier after the task's output before it.</summary>
    public void SendBarrier(long id)
    {
        if (!_done)
        {
            _done = !_channel.SendBarrier(id);
        }
    }

    public void OnCompleted()
    {
        if (!_done)
        {
            _done = true;
            _channel.SendCompleted();
        }
    }

    public void OnError(Exception error)
    {
        if (!_done)
        {
            _done = true;
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
    private long _watermark = Temporal.Ticks.MinusInfinity;
    private bool _done;

    public ForwardSourceExchange(SpscChannel<T>[] channels, int own, QueryContext context)
    {
        _channels = channels;
        _own = channels[own];
        _ownIndex = own;
        _pool = context.Pool<T>();
        _context = context;
        _sent = new long[channels.Length];
    }

    public IReadOnlyList<long> SentPerTask => _sent;

    public void OnBatch(EventBatch<T> batch)
    {
        try
        {
            if (!_done && batch.Count > 0)
            {
                _sent[_ownIndex] += batch.Count;
                if (!_own.SendBatch(batch))
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
        foreach (var channel in _channels)
        {
            channel.SendWatermark(watermark);
        }
    }

    public bool SendBarrier(long id)
    {
        if (_done)
        {
            return false;
        }

        foreach (var channel in _channels)
        {
            if (!channel.SendBarrier(id))
            {
                return false;
            }
        }

        return true;
    }

    public void OnCompleted()
    {
        if (!_done)
        {
            _done = true;
            foreach (var channel in _channels)
            {
                channel.SendCompleted();
            }
        }
    }

    public void OnError(Exception error)
    {
        if (!_done)
        {
            _done = true;
            foreach (var channel in _channels)
            {
                channel.SendError(error);
            }
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
