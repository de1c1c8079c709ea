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
/// The sending end of a forward exchange: one task's output, in its own order, onto its one channel (into the order-restoring
/// merge in front of the sink, or, in a forward plan, a source task's events into its own aggregate task). Batches are handed
/// over by swapping columns, not copied.
/// </summary>
internal sealed class ForwardExchange<T> : ISourceExchange<T>
{
    private readonly SpscChannel<T> _channel;
    private readonly BatchPool<T> _pool;
    private readonly bool _onlyRisingWatermarks;
    private readonly long[] _sent = new long[1];
    private long _watermark = Temporal.Ticks.MinusInfinity;
    private bool _done;

    /// <param name="channel">The one channel.</param>
    /// <param name="context">The sending task's context (its batch pool).</param>
    /// <param name="onlyRisingWatermarks">Whether a watermark that is not above the last one sent is dropped (a source task's input, as the hash exchange does).</param>
    public ForwardExchange(SpscChannel<T> channel, QueryContext context, bool onlyRisingWatermarks = false)
    {
        _channel = channel;
        _pool = context.Pool<T>();
        _onlyRisingWatermarks = onlyRisingWatermarks;
    }

    public IReadOnlyList<long> SentPerTask => _sent;

    public void OnBatch(EventBatch<T> batch)
    {
        try
        {
            if (!_done && batch.Count > 0)
            {
                _sent[0] += batch.Count;
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
        if (_onlyRisingWatermarks)
        {
            if (watermark <= _watermark)
            {
                return;
            }

            _watermark = watermark;
        }

        if (!_done)
        {
            _done = !_channel.SendWatermark(watermark);
        }
    }

    /// <summary>Forwards a checkpoint barrier after the task's output before it; false when the exchange has ended.</summary>
    public bool SendBarrier(long id)
    {
        if (!_done)
        {
            _done = !_channel.SendBarrier(id);
        }

        return !_done;
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
