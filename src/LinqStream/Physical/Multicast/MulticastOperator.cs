using LinqStream.Runtime;
using LinqStream.Runtime.Ingress;

namespace LinqStream.Physical.Multicast;

/// <summary>Hands every batch, watermark, completion and error of one source to each of its consumers.</summary>
/// <remarks>
/// A consumer owns the batch it receives and may rewrite it (a filter sets absent bits, a lifetime change moves times),
/// so consumers 2..n get pooled copies, made before the original goes to consumer 1; a consumer 2..n that can read a batch
/// without changing it (an <see cref="IBatchBorrower{T}"/>: a filter/projection chain, which writes its own output batch) is
/// lent the original instead, also before consumer 1 gets it, so no copy is made for it (issue #19: the copy was a pass over
/// every event of q8's source).
/// <para>
/// Right after a replayed array's ingress, when every consumer is a filter/projection chain with a fused kernel
/// (<see cref="IFusedBranch{T}"/>), the multicast is itself the fused ingress's target (<see cref="IFusedIngress{T}"/>): each
/// chain's kernel reads the slice of the array, event times included, the order of the starts is checked once, and the chains'
/// batches go on in the order the copied or lent batches would (consumers 1..n, then 0), followed by one watermark through
/// <see cref="OnWatermark"/>. A slice a kernel throws on, or one out of order or late, takes the ordinary path (issue #19).
/// </para>
/// </remarks>
internal sealed class MulticastOperator<T> : IStreamObserver<T>, IFusedIngress<T>
{
    private readonly BatchPool<T> _pool;
    private IStreamObserver<T>[] _consumers = [];
    private IBatchBorrower<T>?[] _borrowers = [];

    public MulticastOperator(QueryContext context) => _pool = context.Pool<T>();

    private IFusedBranch<T>[]? _branches; // every consumer as a fused branch, once CanFuse found them all fusable

    public int ConsumerCount => _consumers.Length;

    /// <summary>Gets a value indicating whether every consumer reads the ingress's array slice itself; asked once wiring is complete.</summary>
    public bool CanFuse
    {
        get
        {
            if (_branches is null && _consumers.Length > 0 && Array.TrueForAll(_consumers, c => c is IFusedBranch<T> { CanFuse: true }))
            {
                _branches = Array.ConvertAll(_consumers, c => (IFusedBranch<T>)c);
            }

            return _branches is not null;
        }
    }

    /// <inheritdoc/>
    public bool TryPushFused(T[] source, int offset, int count, IngressOrderer<T> orderer)
    {
        var branches = _branches;
        if (branches is null)
        {
            return false;
        }

        for (int k = 0; k < branches.Length; k++)
        {
            if (!branches[k].TryRunFused(source, offset, count))
            {
                Discard(branches, k);
                return false;
            }
        }

        if (!orderer.TryAcceptInOrder(branches[0].PendingStarts))
        {
            Discard(branches, branches.Length);
            return false;
        }

        // The order of the ordinary path: consumers 1..n are lent (or copied) the batch before consumer 0 owns it.
        for (int k = 1; k < branches.Length; k++)
        {
            branches[k].SendPending();
        }

        branches[0].SendPending();
        orderer.SendWatermark(); // to this multicast, which hands it to every consumer
        return true;
    }

    private static void Discard(IFusedBranch<T>[] branches, int ran)
    {
        for (int k = 0; k < ran; k++)
        {
            branches[k].DiscardPending();
        }
    }

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
