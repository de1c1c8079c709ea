namespace LinqStream.Runtime;

/// <summary>An operator with one input: forwards watermarks, completion and errors unless it overrides them.</summary>
internal abstract class UnaryOperator<TIn, TOut> : IStreamObserver<TIn>
{
    protected UnaryOperator(IStreamObserver<TOut> downstream, QueryContext context)
    {
        Downstream = downstream;
        Context = context;
        context.Operators.Add(this);
        if (this is Checkpoints.ICheckpointed stateful)
        {
            context.Checkpointed.Add(stateful);
        }
    }

    protected IStreamObserver<TOut> Downstream { get; }

    protected QueryContext Context { get; }

    /// <summary>Gets a value indicating whether this operator failed and now ignores its input.</summary>
    protected bool Faulted { get; private set; }

    public abstract void OnBatch(EventBatch<TIn> batch);

    public virtual void OnWatermark(long watermark)
    {
        if (!Faulted)
        {
            Downstream.OnWatermark(watermark);
        }
    }

    public virtual void OnCompleted()
    {
        if (!Faulted)
        {
            Downstream.OnCompleted();
        }
    }

    public virtual void OnError(Exception error)
    {
        if (!Faulted)
        {
            Faulted = true;
            Downstream.OnError(error);
        }
    }

    /// <summary>Sends <paramref name="error"/> downstream as a stream error and stops the query.</summary>
    protected void FailWith(Exception error)
    {
        if (Faulted)
        {
            return;
        }

        Faulted = true;
        Downstream.OnError(error);
        Context.Stop();
    }

    /// <summary>Sends a failure of the user's code downstream as a stream error and stops the query.</summary>
    protected void Fail(Exception error, string operatorName, string expression)
    {
        if (Faulted)
        {
            return;
        }

        Faulted = true;
        Downstream.OnError(Internal.Error.OperatorFailed(operatorName, expression, error));
        Context.Stop();
    }
}
