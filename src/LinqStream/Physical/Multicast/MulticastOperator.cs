using LinqStream.Runtime;

namespace LinqStream.Physical.Multicast;

/// <summary>Hands every batch, watermark, completion and error of one source to each of its consumers.</summary>
/// <remarks>
/// A consumer owns the batch it receives and may rewrite it (a filter sets absent bits, a lifetime change moves times),
/// so consumers 2..n get pooled copies, made before the original goes to consumer 1; a consumer 2..n that can read a batch
/// without changing it (an <see cref="IBatchBorrower{T}"/>: a filter/projection chain, which writes its own output batch) is
/// lent the original instead, also before consumer 1 gets it, so no copy is made for it (issue #19: the copy was a pass over
/// every event of q8's source).
/// </remarks>
internal sealed class MulticastOperator<T> : IStreamObserver<T>
{
    private readonly BatchPool<T> _pool;
    private IStreamObserver<T>[] _consumers = [];
    private IBatchBorrower<T>?[] _borrowers = [];

    public MulticastOperator(QueryContext context) => _pool = context.Pool<T>();

    public int ConsumerCount => _consumers.Length;

    /// <summary>Adds a consumer; called while the query is wired, before it runs.</summary>
    public void AddConsumer(IStreamObserver<T> consumer)
    {
        _consumers = [.. _consumers, consumer];
        _borrowers = [.. _borrowers, consumer as IBatchBorrower<T>];
    }

    public void OnBatch(EventBatch<T> batch)
    {
        var consumers = _consumers;
        var borrowers = _borrowers;
        for (int k = 1; k < consumers.Length; k++)
        {
            if (borrowers[k] is { } borrower)
            {
                borrower.OnBorrowedBatch(batch);
            }
            else
            {
                consumers[k].OnBatch(_pool.RentCopyOf(batch));
            }
        }

        consumers[0].OnBatch(batch);
    }

    public void OnWatermark(long watermark)
    {
        foreach (var consumer in _consumers)
        {
            consumer.OnWatermark(watermark);
        }
    }

    public void OnCompleted()
    {
        foreach (var consumer in _consumers)
        {
            consumer.OnCompleted();
        }
    }

    public void OnError(Exception error)
    {
        foreach (var consumer in _consumers)
        {
            consumer.OnError(error);
        }
    }
}
