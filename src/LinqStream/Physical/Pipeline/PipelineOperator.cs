using System.Runtime.CompilerServices;
using LinqStream.Physical.Multicast;
using LinqStream.Runtime;
using LinqStream.Runtime.Ingress;

namespace LinqStream.Physical.Pipeline;

/// <summary>Runs a fused filter/projection chain over each batch; lifetimes are unchanged and nothing is buffered.</summary>
/// <remarks>
/// A batch that the chain leaves sparse (at most a quarter of its events present: an entity split off NEXMark's event stream)
/// goes on compacted, its present events moved to the front, so the operators after it loop over those events only instead of
/// skipping the absent ones in every pass (issue #19). A denser batch goes on as it is, with the filter bits set. As a
/// multicast's second consumer the operator reads the shared batch without changing it (<see cref="IBatchBorrower{T}"/>): the
/// chain's filter bits go into a scratch vector and the present events into a batch of its own.
/// </remarks>
internal sealed class PipelineOperator<TIn, TOut> : UnaryOperator<TIn, TOut>, IBatchBorrower<TIn>, IFusedIngress<TIn>, IFusedBranch<TIn>
{
    private readonly DeferredKernel<Action<TIn[], ulong[], TOut[]?, int>> _kernel; // compiled when first used after a fused ingress
    private readonly bool _projects;
    private readonly UserCodeFailures _failures;
    private readonly BatchPool<TIn> _inputPool;
    private readonly BatchPool<TOut> _outputPool;
    private ulong[] _scratchAbsent = [];
    private Action<TIn[], int, long[], ulong[], TOut[], int>? _fused;
    private PhysicalNode? _branchNode; // the plan node this chain is in its multicast's one kernel, when fused as a branch
    private EventBatch<TOut>? _pending; // a multicast's kernel's output for the slice being pushed (TryRentColumns .. SendColumns)

    public PipelineOperator(IStreamObserver<TOut> downstream, QueryContext context, DeferredKernel<Action<TIn[], ulong[], TOut[]?, int>> kernel, bool projects, string name, string expression, string site = "")
        : base(downstream, context)
    {
        _kernel = kernel;
        _projects = projects;
        _failures = new UserCodeFailures(context, name, expression, site);
        _inputPool = context.Pool<TIn>();
        _outputPool = context.Pool<TOut>();
    }

    public override void OnBatch(EventBatch<TIn> batch)
    {
        if (Faulted)
        {
            _inputPool.Return(batch);
            return;
        }

        EventBatch<TOut>? output = null;
        try
        {
            if (_projects)
            {
                output = _outputPool.Rent();
                _kernel.Kernel(batch.Payload, batch.Absent, output.Payload, batch.Count);
            }
            else
            {
                _kernel.Kernel(batch.Payload, batch.Absent, null, batch.Count);
            }
        }
        catch (Exception ex) when (ex is not QueryExecutionException)
        {
            // Rare path: find the event(s) that threw by running the kernel on one event at a time.
            if (!RunEventByEvent(batch, output))
            {
                if (output is not null)
                {
                    _outputPool.Return(output);
                }

                _inputPool.Return(batch);
                return;
            }
        }

        int count = batch.Count;
        int live = batch.LiveCount();
        if (live == 0)
        {
            if (output is not null)
            {
                _outputPool.Return(output);
            }

            _inputPool.Return(batch);
            return;
        }

        bool sparse = live <= count >> 2;
        if (!_projects)
        {
            // TIn == TOut when the chain only filters.
            var same = (EventBatch<TOut>)(object)batch;
            if (sparse)
            {
                same.Count = Compact(same.Start, same.End, same.Absent, count, same.Payload, same);
                Array.Clear(same.Absent, 0, (count + 63) >> 6);
            }

            Downstream.OnBatch(same);
            return;
        }

        if (sparse)
        {
            output!.Count = Compact(batch.Start, batch.End, batch.Absent, count, output.Payload, output);
        }
        else
        {
            batch.SwapTimeColumns(output!);
            batch.Count = count; // so Reset clears the old payload references
        }

        _inputPool.Return(batch);
        Downstream.OnBatch(output!);
    }

    /// <summary>Gives the operator the kernel that reads its ingress's array slice, event times included (<see cref="IngressPipelineKernel"/>).</summary>
    public void FuseWithIngress(Action<TIn[], int, long[], ulong[], TOut[], int> kernel) => _fused = kernel;

    /// <summary>Marks the operator as the chain <paramref name="node"/> of a multicast's one kernel (<see cref="MulticastIngressKernel"/>).</summary>
    public void FuseAsBranch(PhysicalNode node) => _branchNode = node;

    public bool CanFuse => _fused is not null;

    /// <inheritdoc/>
    public PhysicalNode? FusedNode => _branchNode;

    /// <inheritdoc/>
    public bool TryPushFused(TIn[] source, int offset, int count, IngressOrderer<TIn> orderer)
    {
        if (Faulted || _fused is null)
        {
            return false;
        }

        var output = _outputPool.Rent();
        try
        {
            _fused(source, offset, output.Start, output.Absent, output.Payload, count);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The time selector or the chain threw: the ordinary path reports it (the source's error, or the chain's per-event
            // policy), after the ingress's own checks. The chain is pure, so running it again over the slice is safe.
            output.Count = count;
            _outputPool.Return(output);
            return false;
        }

        output.Count = count; // so that a return clears what the kernel wrote
        if (!orderer.TryAcceptInOrder(output.Start.AsSpan(0, count)))
        {
            _outputPool.Return(output); // out of order, or a late event: the orderer's per-event path decides
            return false;
        }

        int live = output.LiveCount();
        if (live == 0)
        {
            _outputPool.Return(output);
        }
        else
        {
            var start = output.Start;
            if (live <= count >> 2)
            {
                // Sparse (an entity split off an interleaved stream): the present events to the front, as OnBatch does.
                output.Count = Compact(start, output.End, output.Absent, count, output.Payload, output);
                Array.Clear(output.Absent, 0, (count + 63) >> 6);
            }

            TickColumns.FillPointEnds(start.AsSpan(0, output.Count), output.End);
            Downstream.OnBatch(output);
        }

        orderer.SendWatermark();
        return true;
    }

    /// <inheritdoc/>
    public bool TryRentColumns(int count, out long[] start, out Array payload)
    {
        if (Faulted || _branchNode is null)
        {
            start = [];
            payload = Array.Empty<TOut>();
            return false;
        }

        var output = _outputPool.Rent();
        output.Count = count; // so that a discard clears whatever the kernel wrote
        _pending = output;
        start = output.Start;
        payload = output.Payload;
        return true;
    }

    /// <inheritdoc/>
    public void SendColumns(int count)
    {
        var output = _pending!;
        _pending = null;
        output.Count = count; // the kernel wrote events 0..count - 1 only, and no filter bits
        if (count == 0)
        {
            _outputPool.Return(output);
            return;
        }

        TickColumns.FillPointEnds(output.Start.AsSpan(0, count), output.End);
        Downstream.OnBatch(output);
    }

    /// <inheritdoc/>
    public void DiscardPending()
    {
        if (_pending is { } output)
        {
            _pending = null;
            _outputPool.Return(output); // payloads cleared up to the slice's count
        }
    }

    /// <summary>Runs the chain over a multicast's batch without changing it: the present events go on in a batch of this operator's.</summary>
    public void OnBorrowedBatch(EventBatch<TIn> batch)
    {
        if (Faulted)
        {
            return;
        }

        int count = batch.Count;
        int words = (count + 63) >> 6;
        if (_scratchAbsent.Length < batch.Absent.Length)
        {
            _scratchAbsent = new ulong[batch.Absent.Length];
        }

        var absent = _scratchAbsent;
        Array.Copy(batch.Absent, absent, words);
        var output = _outputPool.Rent();
        try
        {
            _kernel.Kernel(batch.Payload, absent, _projects ? output.Payload : null, count);
        }
        catch (Exception ex) when (ex is not QueryExecutionException)
        {
            // Rare path: run the batch as an owned copy, which isolates the failing events (and may mark them absent).
            if (_projects)
            {
                Array.Clear(output.Payload, 0, count); // the kernel wrote results up to the failing event; Reset clears only Count
            }

            _outputPool.Return(output);
            OnBatch(_inputPool.RentCopyOf(batch));
            return;
        }

        // The projection wrote each present event's result at its own index (moved down in place); a filter keeps the input's payload.
        var from = _projects ? output.Payload : (TOut[])(object)batch.Payload;
        output.Count = Compact(batch.Start, batch.End, absent, count, from, output);
        if (output.Count == 0)
        {
            _outputPool.Return(output);
            return;
        }

        Downstream.OnBatch(output);
    }

    /// <summary>
    /// Moves the events not marked in <paramref name="absent"/> to the front of <paramref name="output"/>, in order: times from
    /// <paramref name="start"/>/<paramref name="end"/>, payloads from <paramref name="from"/> (which may be the output's own columns:
    /// an event only moves down). References left behind in the output's payload are cleared. Returns the number moved.
    /// </summary>
    private static int Compact(long[] start, long[] end, ulong[] absent, int count, TOut[] from, EventBatch<TOut> output)
    {
        var outStart = output.Start;
        var outEnd = output.End;
        var outPayload = output.Payload;
        int kept = 0;
        foreach (int i in new PresentIndices(absent, count))
        {
            outStart[kept] = start[i];
            outEnd[kept] = end[i];
            outPayload[kept] = from[i];
            kept++;
        }

        if (ReferenceEquals(from, outPayload) && RuntimeHelpers.IsReferenceOrContainsReferences<TOut>())
        {
            Array.Clear(outPayload, kept, count - kept);
        }

        return kept;
    }

    /// <summary>
    /// Re-runs the kernel one event at a time after it threw for the batch, under the query's one per-event error policy
    /// (<see cref="UserCodeFailures"/>). Filters are pure, so re-running events the batch pass already decided is safe.
    /// </summary>
    /// <returns><see langword="true"/> when the batch may go on.</returns>
    private bool RunEventByEvent(EventBatch<TIn> batch, EventBatch<TOut>? output)
    {
        var kernel = _kernel.Kernel;
        var input = new TIn[1];
        var absent = new ulong[1];
        var result = _projects ? new TOut[1] : null;
        var stop = _failures.IsolateFailingEvents(batch, i =>
        {
            input[0] = batch.Payload[i];
            absent[0] = 0;
            kernel(input, absent, result, 1);
            if ((absent[0] & 1) != 0)
            {
                batch.SetAbsent(i);
            }
            else if (result is not null)
            {
                output!.Payload[i] = result[0];
            }
        });
        if (stop is not null)
        {
            FailWith(stop);
            return false;
        }

        return true;
    }
}
