using LinqStream.Runtime;

namespace LinqStream.Physical.Pipeline;

/// <summary>Runs a fused filter/projection chain over each batch; lifetimes are unchanged and nothing is buffered.</summary>
internal sealed class PipelineOperator<TIn, TOut> : UnaryOperator<TIn, TOut>
{
    private readonly Action<TIn[], ulong[], TOut[]?, int> _kernel;
    private readonly bool _projects;
    private readonly UserCodeFailures _failures;
    private readonly BatchPool<TIn> _inputPool;
    private readonly BatchPool<TOut> _outputPool;

    public PipelineOperator(IStreamObserver<TOut> downstream, QueryContext context, Action<TIn[], ulong[], TOut[]?, int> kernel, bool projects, string name, string expression, string site = "")
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
                _kernel(batch.Payload, batch.Absent, output.Payload, batch.Count);
            }
            else
            {
                _kernel(batch.Payload, batch.Absent, null, batch.Count);
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

        if (!_projects)
        {
            if (batch.LiveCount() == 0)
            {
                _inputPool.Return(batch);
                return;
            }

            // TIn == TOut when the chain only filters.
            Downstream.OnBatch((EventBatch<TOut>)(object)batch);
            return;
        }

        int count = batch.Count;
        batch.SwapTimeColumns(output!);
        batch.Count = count; // so Reset clears the old payload references
        _inputPool.Return(batch);
        if (output!.LiveCount() == 0)
        {
            _outputPool.Return(output);
            return;
        }

        Downstream.OnBatch(output);
    }

    /// <summary>
    /// Re-runs the kernel one event at a time after it threw for the batch, under the query's one per-event error policy
    /// (<see cref="UserCodeFailures"/>). Filters are pure, so re-running events the batch pass already decided is safe.
    /// </summary>
    /// <returns><see langword="true"/> when the batch may go on.</returns>
    private bool RunEventByEvent(EventBatch<TIn> batch, EventBatch<TOut>? output)
    {
        var input = new TIn[1];
        var absent = new ulong[1];
        var result = _projects ? new TOut[1] : null;
        var stop = _failures.IsolateFailingEvents(batch, i =>
        {
            input[0] = batch.Payload[i];
            absent[0] = 0;
            _kernel(input, absent, result, 1);
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
