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
/// Right after a replayed array's ingress, when every consumer is a filter/projection chain that the plan's one kernel of this
/// multicast's chains covers (<see cref="IFusedBranch{T}"/>, <see cref="MulticastBranchKernel{T}"/>), the multicast is itself the
/// fused ingress's target (<see cref="IFusedIngress{T}"/>): the kernel reads each event object of the slice once, computes its time
/// once and writes every chain's present events to the front of that chain's batch; the order of the starts is checked once, and
/// the chains' batches go on in the order the copied or lent batches would (consumers 1..n, then 0), followed by one watermark
/// through <see cref="OnWatermark"/>. A slice the kernel throws on, or one out of order or late, takes the ordinary path (issue #19).
/// </para>
/// </remarks>
internal sealed class MulticastOperator<T> : IStreamObserver<T>, IFusedIngress<T>
{
    private readonly BatchPool<T> _pool;
    private readonly MulticastBranchKernel<T>? _kernel;
    private IStreamObserver<T>[] _consumers = [];
    private IBatchBorrower<T>?[] _borrowers = [];

    private IFusedBranch<T>[]? _branches; // the consumers in the kernel's order of chains, once CanFuse matched them all
    private int[] _chainOf = [];          // consumer j's chain in the kernel
    private object[] _columns = [];       // the kernel's output columns: chain k's starts at 2k, its payloads at 2k + 1
    private int[] _counts = [];
    private long[] _starts = [];

    public MulticastOperator(QueryContext context, MulticastBranchKernel<T>? kernel = null)
    {
        _pool = context.Pool<T>();
        _kernel = kernel;
    }

    public int ConsumerCount => _consumers.Length;

    /// <summary>
    /// Gets a value indicating whether every consumer is one of the chains of the plan's kernel (each exactly once), so the
    /// ingress's array slices go through it; asked once wiring is complete.
    /// </summary>
    public bool CanFuse
    {
        get
        {
            if (_branches is null && _kernel is { } kernel && _consumers.Length == kernel.Chains.Length)
            {
                var ordered = new IFusedBranch<T>[_consumers.Length];
                var chainOf = new int[_consumers.Length];
                for (int j = 0; j < _consumers.Length; j++)
                {
                    if (_consumers[j] is not IFusedBranch<T> { FusedNode: { } node } branch)
                    {
                        return false;
                    }

                    int k = Array.FindIndex(kernel.Chains, c => ReferenceEquals(c, node));
                    if (k < 0 || ordered[k] is not null)
                    {
                        return false; // not this kernel's chain, or one node wired twice
                    }

                    ordered[k] = branch;
                    chainOf[j] = k;
                }

                _chainOf = chainOf;
                _columns = new object[2 * ordered.Length];
                _counts = new int[ordered.Length];
                _branches = ordered;
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

        var columns = _columns;
        for (int k = 0; k < branches.Length; k++)
        {
            if (!branches[k].TryRentColumns(count, out var start, out var payload))
            {
                Discard(branches, k);
                return false;
            }

            columns[2 * k] = start;
            columns[(2 * k) + 1] = payload;
        }

        if (_starts.Length < count)
        {
            _starts = new long[Math.Max(count, _pool.BatchSize)];
        }

        try
        {
            _kernel!.Run(source, offset, _starts, columns, _counts, count);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The time selector or a chain threw: the ordinary path reports it (the source's error, or the chain's per-event
            // policy), after the ingress's own checks. The chains are pure, so running them again over the slice is safe.
            Discard(branches, branches.Length);
            return false;
        }
        finally
        {
            Array.Clear(columns);
        }

        if (!orderer.TryAcceptInOrder(_starts.AsSpan(0, count)))
        {
            Discard(branches, branches.Length); // out of order, or a late event: the orderer's per-event path decides
            return false;
        }

        // The order of the ordinary path: consumers 1..n are lent (or copied) the batch before consumer 0 owns it.
        var chainOf = _chainOf;
        var counts = _counts;
        for (int j = 1; j < chainOf.Length; j++)
        {
            branches[chainOf[j]].SendColumns(counts[chainOf[j]]);
        }

        branches[chainOf[0]].SendColumns(counts[chainOf[0]]);
        orderer.SendWatermark(); // to this multicast, which hands it to every consumer
        return true;
    }

    private static void Discard(IFusedBranch<T>[] branches, int rented)
    {
        for (int k = 0; k < rented; k++)
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
