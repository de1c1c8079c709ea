using LinqStream.Runtime;
using LinqStream.Temporal;

namespace LinqStream.Physical.Windows.ArgMax;

/// <summary>
/// What both arg-max steps do around the shared <see cref="WindowMaximum{T}"/> scan: the compared value of each event (a compiled
/// kernel, once per batch), the scan, a window closed by a later start or by the watermark, the output batch, completion and
/// failure. A step says only what a complete window becomes (<see cref="Close"/>): joined with its row
/// (<see cref="WindowArgMaxOperator{TIn, TRow, TKey, TResult}"/>) or shipped as it is (<see cref="TaskArgMaxOperator{T}"/>).
/// </summary>
/// <remarks>
/// Per batch: one kernel call (behind one virtual call) and one scan; <see cref="Close"/> is called once per complete window, never per
/// event. Both steps are an <see cref="IWindowMaximumInput{T}"/>: a window aggregate right in front of either passes on only each
/// window's results at their maximum, computed with the step's own kernel.
/// </remarks>
/// <typeparam name="TIn">The input events (an aggregate's results).</typeparam>
/// <typeparam name="TOut">What a closed window becomes.</typeparam>
internal abstract class WindowMaximumOperator<TIn, TOut> : UnaryOperator<TIn, TOut>, IWindowMaximumInput<TIn>
{
    /// <summary>The operator's name in errors (both steps are parts of one <c>WindowArgMax</c>).</summary>
    protected const string OperatorName = "WindowArgMax";

    private readonly BatchPool<TIn> _inputPool;
    private readonly BatchPool<TOut> _outputPool;
    private readonly Func<bool> _close;
    private long[] _values = [];
    private EventBatch<TOut>? _output;

    /// <param name="downstream">Where closed windows go.</param>
    /// <param name="context">The query's (or the task's) context.</param>
    protected WindowMaximumOperator(IStreamObserver<TOut> downstream, QueryContext context)
        : base(downstream, context)
    {
        _inputPool = context.Pool<TIn>();
        _outputPool = context.Pool<TOut>();
        _close = Close;
    }

    /// <summary>Gets the number of events held (the open window's events at its maximum so far).</summary>
    public int HeldCount => Window.Count;

    /// <summary>Gets the running maximum and the events at it.</summary>
    protected WindowMaximum<TIn> Window { get; } = new();

    /// <summary>Gets or sets the last watermark taken (restored from a checkpoint by a step that keeps state).</summary>
    protected long LastWatermark { get; set; } = Ticks.MinusInfinity;

    public sealed override void OnBatch(EventBatch<TIn> batch)
    {
        if (Faulted)
        {
            _inputPool.Return(batch);
            return;
        }

        int count = batch.Count;
        if (_values.Length < count)
        {
            _values = new long[batch.Capacity];
        }

        try
        {
            ComputeValues(batch.Payload, batch.Absent, _values, count);
        }
        catch (Exception ex) when (ex is not QueryExecutionException)
        {
            _inputPool.Return(batch);
            Fail(ex, OperatorName, ValueText);
            Discard();
            return;
        }

        bool ok = Window.Add(batch, _values, _close);
        _inputPool.Return(batch);
        if (ok)
        {
            Flush();
        }
    }

    public sealed override void OnWatermark(long watermark)
    {
        if (Faulted || watermark <= LastWatermark)
        {
            return;
        }

        LastWatermark = watermark;
        if (!Window.CloseBefore(watermark, _close))
        {
            return;
        }

        Flush();
        Downstream.OnWatermark(watermark);
    }

    public sealed override void OnCompleted()
    {
        if (Faulted)
        {
            return;
        }

        OnWatermark(Ticks.Infinity);
        if (!Faulted)
        {
            Downstream.OnCompleted();
        }
    }

    public sealed override void OnError(Exception error)
    {
        base.OnError(error);
        Discard();
    }

    /// <summary>Gets the compared value's source text (an error in it names it).</summary>
    protected abstract string ValueText { get; }

    /// <summary>Computes the compared value of each of a batch's <paramref name="count"/> events, widened to <c>long</c> (one compiled kernel call per batch).</summary>
    protected abstract void ComputeValues(TIn[] payload, ulong[]? absent, long[] values, int count);

    /// <summary>The window aggregate in front of this step computes its window's values with this step's kernel, to pass on only those at the maximum.</summary>
    void IWindowMaximumInput<TIn>.ComputeValues(TIn[] payload, ulong[]? absent, long[] values, int count) => ComputeValues(payload, absent, values, count);

    /// <summary>
    /// A window is complete (<see cref="Window"/> holds its start, maximum and tied events): emits what it becomes with
    /// <see cref="Emit"/> and takes the tied events with <see cref="WindowMaximum{T}.Clear"/>.
    /// </summary>
    /// <returns><see langword="false"/> when user code failed and the query stopped (after <see cref="Discard"/>).</returns>
    protected abstract bool Close();

    /// <summary>Adds one output event (a full batch goes downstream at once).</summary>
    protected void Emit(long start, long end, TOut payload)
    {
        var output = _output ??= _outputPool.Rent();
        output.Add(start, end, payload);
        if (output.IsFull)
        {
            _output = null;
            Downstream.OnBatch(output);
        }
    }

    /// <summary>Sends the output batch downstream when it holds anything.</summary>
    protected void Flush()
    {
        if (_output is { Count: > 0 } output)
        {
            _output = null;
            Downstream.OnBatch(output);
        }
    }

    /// <summary>Forgets the open window and the unsent output (the query failed).</summary>
    protected void Discard()
    {
        Window.Reset();
        if (_output is { } output)
        {
            _output = null;
            _outputPool.Return(output);
        }
    }
}
