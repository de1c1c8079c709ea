namespace LinqStream.Runtime.Egress;

/// <summary>The end of a query: hands each present event's payload to an <see cref="IObserver{T}"/>.</summary>
internal sealed class ObserverSink<T> : IStreamObserver<T>
{
    private readonly IObserver<T> _observer;
    private readonly BatchPool<T> _pool;
    private bool _done;

    public ObserverSink(IObserver<T> observer, QueryContext context)
    {
        _observer = observer;
        _pool = context.Pool<T>();
    }

    public void OnBatch(EventBatch<T> batch)
    {
        try
        {
            if (_done)
            {
                return;
            }

            // Walk the present events word by word: no unpredictable branch per filtered-out event.
            var payload = batch.Payload;
            foreach (int i in new PresentIndices(batch.Absent, batch.Count))
            {
                _observer.OnNext(payload[i]);
            }
        }
        finally
        {
            _pool.Return(batch);
        }
    }

    public void OnWatermark(long watermark)
    {
    }

    public void OnCompleted()
    {
        if (!_done)
        {
            _done = true;
            _observer.OnCompleted();
        }
    }

    public void OnError(Exception error)
    {
        if (!_done)
        {
            _done = true;
            _observer.OnError(error);
        }
    }
}
