using LinqStream.Runtime;

namespace LinqStream.Parallel;

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
