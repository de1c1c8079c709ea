using LinqStream.Runtime;
using LinqStream.Temporal;

namespace LinqStream.Physical.Join;

/// <summary>
/// What every equi-join of two inputs shares: the two input observers, the key kernels run on each arriving batch (a failing key
/// selector isolated to its events by the error policy), the two input watermarks whose minimum drives the join's rounds,
/// completion once both inputs completed, and failure (state released, the error sent on, the query stopped).
/// </summary>
/// <remarks>
/// A derived join decides what an arriving batch's events become (<see cref="AcceptLeft"/>, <see cref="AcceptRight"/>) and what a
/// round does (<see cref="Round"/>). The calls between the two are per batch and per watermark, never per event.
/// </remarks>
internal abstract class BinaryJoinOperator<TLeft, TRight, TKey, TResult>
{
    private readonly UserCodeFailures _leftKeyFailures;
    private readonly UserCodeFailures _rightKeyFailures;
    private readonly string? _resultSelector;

    protected BinaryJoinOperator(IStreamObserver<TResult> downstream, QueryContext context, IJoinKeyKernels<TLeft, TRight, TKey> kernels)
    {
        kernels.CompileKernels(); // a no-op after the compiler's last stage
        Kernels = kernels;
        Downstream = downstream;
        Context = context;
        LeftPool = context.Pool<TLeft>();
        RightPool = context.Pool<TRight>();
        _leftKeyFailures = new UserCodeFailures(context, kernels.OperatorName, kernels.LeftKeySelector.ToString());
        _rightKeyFailures = new UserCodeFailures(context, kernels.OperatorName, kernels.RightKeySelector.ToString());

        // A join whose pairs are its results writes them through a result kernel; an operator that folds its pairs itself
        // (JoinKeyedFoldOperator) has none and never reads Writer.
        if (kernels is JoinKernels<TLeft, TRight, TKey, TResult> join)
        {
            _resultSelector = join.ResultSelector.ToString();
            Writer = new ResultWriter<TLeft, TRight, TResult>(
                join.Result, context.Pool<TResult>(), downstream, new UserCodeFailures(context, kernels.OperatorName, _resultSelector));
        }
        else
        {
            Writer = null!;
        }

        Left = new LeftObserver(this);
        Right = new RightObserver(this);
    }

    /// <summary>Gets the observer the left input pushes into.</summary>
    public IStreamObserver<TLeft> Left { get; }

    /// <summary>Gets the observer the right input pushes into.</summary>
    public IStreamObserver<TRight> Right { get; }

    /// <summary>Gets the watermark of the last round: every event starting before it has been joined.</summary>
    public long Frontier { get; protected set; } = Ticks.MinusInfinity;

    protected IJoinKeyKernels<TLeft, TRight, TKey> Kernels { get; }

    protected IStreamObserver<TResult> Downstream { get; }

    protected QueryContext Context { get; }

    protected BatchPool<TLeft> LeftPool { get; }

    protected BatchPool<TRight> RightPool { get; }

    protected ResultWriter<TLeft, TRight, TResult> Writer { get; }

    protected long LeftWatermark { get; set; } = Ticks.MinusInfinity;

    protected long RightWatermark { get; set; } = Ticks.MinusInfinity;

    /// <summary>Gets or sets the last watermark sent downstream.</summary>
    protected long OutputWatermark { get; set; } = Ticks.MinusInfinity;

    /// <summary>Gets a value indicating whether the join failed and now ignores its inputs.</summary>
    protected bool Faulted { get; private set; }

    /// <summary>Gets a value indicating whether both inputs completed and the completion was sent on.</summary>
    protected bool Done { get; private set; }

    /// <summary>Gets or sets whether the left input completed (checkpointed: a restored join keeps it).</summary>
    protected bool LeftCompleted { get; set; }

    /// <summary>Gets or sets whether the right input completed (checkpointed: a restored join keeps it).</summary>
    protected bool RightCompleted { get; set; }

    /// <summary>Gives a key column for a batch of <paramref name="capacity"/> events of the left input.</summary>
    protected abstract TKey[] RentLeftKeys(int capacity);

    /// <summary>Gives a key column for a batch of <paramref name="capacity"/> events of the right input.</summary>
    protected abstract TKey[] RentRightKeys(int capacity);

    /// <summary>Takes back a key column whose batch was dropped (the first <paramref name="count"/> keys were written).</summary>
    protected abstract void ReturnKeys(TKey[] keys, int count, bool left);

    /// <summary>Takes a left batch and its keys (an absent event's key is unspecified); the join owns both from here.</summary>
    protected abstract void AcceptLeft(EventBatch<TLeft> batch, TKey[] keys);

    /// <summary>Takes a right batch and its keys (an absent event's key is unspecified); the join owns both from here.</summary>
    protected abstract void AcceptRight(EventBatch<TRight> batch, TKey[] keys);

    /// <summary>Joins what both watermarks passed, up to <paramref name="watermark"/> (greater than <see cref="Frontier"/>).</summary>
    protected abstract void Round(long watermark);

    /// <summary>Returns every pooled batch the join holds and drops its state (the query failed).</summary>
    protected abstract void ReleaseAll();

    /// <summary>
    /// Called once after the completion was sent on (both inputs completed, the last round ran): nothing reaches the join any more,
    /// so an operator may give back what it rented for its state (a failed join releases it in <see cref="ReleaseAll"/> instead).
    /// </summary>
    protected virtual void Finished()
    {
    }

    /// <summary>Runs <see cref="Round"/>, turning a failure of the user's code into a stream error.</summary>
    /// <returns><see langword="false"/> when the round failed.</returns>
    protected bool RoundGuarded(long watermark)
    {
        try
        {
            Round(watermark);
            return true;
        }
        catch (Exception ex)
        {
            // Outside the result kernel the only user code that runs is the key type's Equals/GetHashCode (and, in an operator that
            // folds its pairs, its own kernels, which name themselves through RunningExpression).
            Fail(ex, RunningExpression ?? (Writer is { InKernel: true } ? _resultSelector! : Kernels.Condition));
            return false;
        }
    }

    /// <summary>Gets the user expression a derived operator is running when it is not the key selectors or the result kernel, or null.</summary>
    protected virtual string? RunningExpression => null;

    /// <summary>Releases the state, sends <paramref name="error"/> on as a failure of <paramref name="expression"/> and stops the query.</summary>
    protected void Fail(Exception error, string expression)
    {
        if (Faulted)
        {
            return;
        }

        Faulted = true;
        ReleaseAll();
        Downstream.OnError(Internal.Error.OperatorFailed(Kernels.OperatorName, expression, error));
        Context.Stop();
    }

    /// <summary>Loads the inputs' progress from a checkpoint (a restore's first step, before any input).</summary>
    protected void RestoreProgress(long leftWatermark, long rightWatermark, long frontier, long outputWatermark, bool leftCompleted, bool rightCompleted)
    {
        LeftWatermark = leftWatermark;
        RightWatermark = rightWatermark;
        Frontier = frontier;
        OutputWatermark = outputWatermark;
        LeftCompleted = leftCompleted;
        RightCompleted = rightCompleted;
    }

    /// <summary>Pushes restored buffered events through an input again, in batches from <paramref name="pool"/> (a restore's last step).</summary>
    protected static void Refill<T>(IReadOnlyList<StreamEvent<T>> events, BatchPool<T> pool, IStreamObserver<T> input)
    {
        EventBatch<T>? batch = null;
        foreach (var e in events)
        {
            batch ??= pool.Rent();
            batch.Add(e.Start, e.End, e.Payload);
            if (batch.IsFull)
            {
                input.OnBatch(batch);
                batch = null;
            }
        }

        if (batch is not null)
        {
            input.OnBatch(batch);
        }
    }

    private void OnLeftBatch(EventBatch<TLeft> batch)
    {
        if (Faulted || Done)
        {
            LeftPool.Return(batch);
            return;
        }

        var keys = RentLeftKeys(batch.Capacity);
        try
        {
            Kernels.LeftKey(batch.Payload, batch.Absent, keys, batch.Count);
        }
        catch (Exception ex) when (ex is not QueryExecutionException)
        {
            // Rare path: find the event(s) whose key selector throws; the policy skips them (marked absent) or stops the query.
            if (_leftKeyFailures.IsolateColumn(Kernels.LeftKey, batch, keys) is { } stop)
            {
                ReturnKeys(keys, batch.Count, left: true);
                LeftPool.Return(batch);
                Fail(stop, Kernels.LeftKeySelector.ToString());
                return;
            }
        }

        AcceptLeft(batch, keys);
    }

    private void OnRightBatch(EventBatch<TRight> batch)
    {
        if (Faulted || Done)
        {
            RightPool.Return(batch);
            return;
        }

        var keys = RentRightKeys(batch.Capacity);
        try
        {
            Kernels.RightKey(batch.Payload, batch.Absent, keys, batch.Count);
        }
        catch (Exception ex) when (ex is not QueryExecutionException)
        {
            if (_rightKeyFailures.IsolateColumn(Kernels.RightKey, batch, keys) is { } stop)
            {
                ReturnKeys(keys, batch.Count, left: false);
                RightPool.Return(batch);
                Fail(stop, Kernels.RightKeySelector.ToString());
                return;
            }
        }

        AcceptRight(batch, keys);
    }

    private void OnInputWatermark(long watermark, bool left)
    {
        if (Faulted || Done)
        {
            return;
        }

        if (left)
        {
            LeftWatermark = Math.Max(LeftWatermark, watermark);
        }
        else
        {
            RightWatermark = Math.Max(RightWatermark, watermark);
        }

        long both = Math.Min(LeftWatermark, RightWatermark);
        if (both > Frontier)
        {
            RoundGuarded(both);
        }
    }

    private void OnInputCompleted(bool left)
    {
        if (Faulted || Done)
        {
            return;
        }

        // A completed input sends nothing more: its watermark is +infinity even if it did not say so.
        if (left)
        {
            LeftCompleted = true;
        }
        else
        {
            RightCompleted = true;
        }

        OnInputWatermark(Ticks.Infinity, left);
        if (Faulted || !LeftCompleted || !RightCompleted)
        {
            return;
        }

        Done = true;
        Downstream.OnCompleted();
        Finished();
    }

    private void OnInputError(Exception error)
    {
        if (Faulted || Done)
        {
            return;
        }

        Faulted = true;
        ReleaseAll();
        Downstream.OnError(error);
    }

    private sealed class LeftObserver(BinaryJoinOperator<TLeft, TRight, TKey, TResult> owner) : IStreamObserver<TLeft>
    {
        public void OnBatch(EventBatch<TLeft> batch) => owner.OnLeftBatch(batch);

        public void OnWatermark(long watermark) => owner.OnInputWatermark(watermark, left: true);

        public void OnCompleted() => owner.OnInputCompleted(left: true);

        public void OnError(Exception error) => owner.OnInputError(error);
    }

    private sealed class RightObserver(BinaryJoinOperator<TLeft, TRight, TKey, TResult> owner) : IStreamObserver<TRight>
    {
        public void OnBatch(EventBatch<TRight> batch) => owner.OnRightBatch(batch);

        public void OnWatermark(long watermark) => owner.OnInputWatermark(watermark, left: false);

        public void OnCompleted() => owner.OnInputCompleted(left: false);

        public void OnError(Exception error) => owner.OnInputError(error);
    }
}
