using LinqStream.Runtime;

namespace LinqStream.Physical.Pipeline;

/// <summary>Runs a fused filter/projection chain over each batch; lifetimes are unchanged and nothing is buffered.</summary>
internal sealed class PipelineOperator<TIn, TOut> : UnaryOperator<TIn, TOut>
{
    private readonly Action<TIn[], ulong[], TOut[]?, int> _kernel;
    private readonly bool _projects;
    private readonly string _name;
    private readonly string _expression;
    private readonly BatchPool<TIn> _inputPool;
    private readonly BatchPool<TOut> _outputPool;

    public PipelineOperator(IStreamObserver<TOut> downstream, QueryContext context, Action<TIn[], ulong[], TOut[]?, int> kernel, bool projects, string name, string expression)
        : base(downstream, context)
    {
        _kernel = kernel;
        _projects = projects;
        _name = name;
        _expression = expression;
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
        catch (Exception ex)
        {
            if (output is not null)
            {
                _outputPool.Return(output);
            }

            _inputPool.Return(batch);
            Fail(ex, _name, _expression);
            return;
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
}
