using LinqStream.Runtime;
using LinqStream.Temporal;

namespace LinqStream.Physical.Windows.ArgMax;

/// <summary>
/// Keeps, per window (the input events that share a start), the events whose value is the window's maximum, and when the window
/// is complete emits <c>result(event, row(windowStart, windowEnd, max))</c> for each of them.
/// </summary>
/// <remarks>
/// <para>
/// The input is in start order, so a window is complete when an event with a later start arrives or the watermark passes its start.
/// Per event: one compare against the running maximum (a value column computed per batch by a compiled kernel), and a copy into
/// the tied list when it reaches the maximum; nothing is allocated once the tied list has grown to the largest tie seen.
/// </para>
/// <para>
/// Results come out newest tied event first, which is the order of the temporal join this operator replaces (its probe walks a key's
/// live events from the most recent), each with the join's lifetime <c>[max(start, windowStart), min(end, windowEnd))</c>. Every
/// emitted pair is checked against the join's keys; a pair the join would not have matched stops the query with an error.
/// </para>
/// </remarks>
internal sealed class WindowArgMaxOperator<TIn, TRow, TKey, TResult> : UnaryOperator<TIn, TResult>, Runtime.Checkpoints.ICheckpointed
{
    private const string OperatorName = "WindowArgMax";

    private readonly WindowArgMaxKernels<TIn, TRow, TKey, TResult> _kernels;
    private readonly long _rowSize;
    private readonly BatchPool<TIn> _inputPool;
    private readonly BatchPool<TResult> _outputPool;
    private readonly WindowMaximum<TIn> _window = new();
    private readonly Func<bool> _close;
    private long[] _values = [];
    private long _watermark = Ticks.MinusInfinity;
    private EventBatch<TResult>? _output;

    public WindowArgMaxOperator(IStreamObserver<TResult> downstream, QueryContext context, WindowArgMaxKernels<TIn, TRow, TKey, TResult> kernels, long rowSize)
        : base(downstream, context)
    {
        _kernels = kernels;
        _rowSize = rowSize;
        _inputPool = context.Pool<TIn>();
        _outputPool = context.Pool<TResult>();
        _close = Close;
    }

    /// <summary>Gets the number of events held (the open window's events at its maximum).</summary>
    public int HeldCount => _window.Count;

    public override void OnBatch(EventBatch<TIn> batch)
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
            _kernels.Value(batch.Payload, batch.Absent, _values, count);
        }
        catch (Exception ex) when (ex is not QueryExecutionException)
        {
            _inputPool.Return(batch);
            Fail(ex, OperatorName, _kernels.Lambdas.Value.ToString());
            Discard();
            return;
        }

        bool ok = _window.Add(batch, _values, _close);
        _inputPool.Return(batch);
        if (ok)
        {
            Flush();
        }
    }

    public override void OnWatermark(long watermark)
    {
        if (Faulted || watermark <= _watermark)
        {
            return;
        }

        _watermark = watermark;
        if (!_window.CloseBefore(watermark, _close))
        {
            return;
        }

        Flush();
        Downstream.OnWatermark(watermark);
    }

    public override void OnCompleted()
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

    public override void OnError(Exception error)
    {
        base.OnError(error);
        Discard();
    }

    public string CheckpointName => OperatorName;

    public void WriteState(BinaryWriter writer) =>
        Runtime.Checkpoints.StateCodec.Write(writer, CaptureState(), typeof(WindowArgMaxState<TIn>));

    public void ReadState(BinaryReader reader) =>
        RestoreState((WindowArgMaxState<TIn>)Runtime.Checkpoints.StateCodec.Read(reader, typeof(WindowArgMaxState<TIn>))!);

    /// <summary>Copies the state out as plain data; the operator is not changed.</summary>
    public WindowArgMaxState<TIn> CaptureState()
    {
        var window = _window;
        var tied = new List<StreamEvent<TIn>>(window.Count);
        for (int i = 0; i < window.Count; i++)
        {
            tied.Add(new StreamEvent<TIn>(window.Start, window.End(i), window.Payload(i)));
        }

        return new WindowArgMaxState<TIn>(_watermark, window.IsOpen, window.Start, window.Max, tied);
    }

    /// <summary>Loads a state captured by <see cref="CaptureState"/>; call before the operator receives any input.</summary>
    public void RestoreState(WindowArgMaxState<TIn> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        _watermark = state.Watermark;
        _window.Restore(state.Open, state.GroupStart, state.Max, state.Tied);
    }

    /// <summary>Emits the open window's results (newest tied event first); false when user code failed and the query stopped.</summary>
    private bool Close()
    {
        var window = _window;
        long windowStart = Ticks.WindowStart(window.Start, _rowSize);
        long windowEnd = Ticks.SaturatingAdd(windowStart, _rowSize);
        long resultStart = Math.Max(window.Start, windowStart);
        TRow row;
        TKey rowKey;
        try
        {
            row = _kernels.Row(windowStart, windowEnd, window.Max);
            rowKey = _kernels.RightKey(row);
        }
        catch (Exception ex) when (ex is not QueryExecutionException)
        {
            Fail(ex, OperatorName, _kernels.Lambdas.Row.ToString());
            Discard();
            return false;
        }

        for (int j = window.Count - 1; j >= 0; j--)
        {
            var left = window.Payload(j);
            TResult result;
            try
            {
                if (!EqualityComparer<TKey>.Default.Equals(_kernels.LeftKey(left), rowKey))
                {
                    FailWith(new InvalidOperationException(Internal.Strings.ArgMaxRewriteMismatch(_kernels.Lambdas.LeftKey.ToString(), _kernels.Lambdas.RightKey.ToString(), Ticks.Format(windowStart))));
                    Discard();
                    return false;
                }

                result = _kernels.Result(left, row);
            }
            catch (Exception ex) when (ex is not QueryExecutionException)
            {
                Fail(ex, OperatorName, _kernels.Lambdas.Result.ToString());
                Discard();
                return false;
            }

            var output = _output ??= _outputPool.Rent();
            output.Add(resultStart, Math.Min(window.End(j), windowEnd), result);
            if (output.IsFull)
            {
                _output = null;
                Downstream.OnBatch(output);
            }
        }

        window.Clear();
        return true;
    }

    private void Flush()
    {
        if (_output is { Count: > 0 } output)
        {
            _output = null;
            Downstream.OnBatch(output);
        }
    }

    private void Discard()
    {
        _window.Reset();
        if (_output is { } output)
        {
            _output = null;
            _outputPool.Return(output);
        }
    }
}
