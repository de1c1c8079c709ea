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
internal sealed class WindowArgMaxOperator<TIn, TRow, TKey, TResult> : WindowMaximumOperator<TIn, TResult>, Runtime.Checkpoints.ICheckpointed
{
    private readonly WindowArgMaxKernels<TIn, TRow, TKey, TResult> _kernels;
    private readonly long _rowSize;

    public WindowArgMaxOperator(IStreamObserver<TResult> downstream, QueryContext context, WindowArgMaxKernels<TIn, TRow, TKey, TResult> kernels, long rowSize)
        : base(downstream, context)
    {
        _kernels = kernels;
        _rowSize = rowSize;
    }

    public string CheckpointName => OperatorName;

    protected override string ValueText => _kernels.Lambdas.Value.ToString();

    protected override void ComputeValues(TIn[] payload, ulong[]? absent, long[] values, int count) => _kernels.Value(payload, absent, values, count);

    public void WriteState(BinaryWriter writer) =>
        Runtime.Checkpoints.StateCodec.Write(writer, CaptureState(), typeof(WindowArgMaxState<TIn>));

    public void ReadState(BinaryReader reader) =>
        RestoreState((WindowArgMaxState<TIn>)Runtime.Checkpoints.StateCodec.Read(reader, typeof(WindowArgMaxState<TIn>))!);

    /// <summary>Copies the state out as plain data; the operator is not changed.</summary>
    public WindowArgMaxState<TIn> CaptureState()
    {
        var window = Window;
        var tied = new List<StreamEvent<TIn>>(window.Count);
        for (int i = 0; i < window.Count; i++)
        {
            tied.Add(new StreamEvent<TIn>(window.Start, window.End(i), window.Payload(i)));
        }

        return new WindowArgMaxState<TIn>(LastWatermark, window.IsOpen, window.Start, window.Max, tied);
    }

    /// <summary>Loads a state captured by <see cref="CaptureState"/>; call before the operator receives any input.</summary>
    public void RestoreState(WindowArgMaxState<TIn> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        LastWatermark = state.Watermark;
        Window.Restore(state.Open, state.GroupStart, state.Max, state.Tied);
    }

    /// <summary>Emits the complete window's results (newest tied event first); false when user code failed and the query stopped.</summary>
    protected override bool Close()
    {
        var window = Window;
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

            Emit(resultStart, Math.Min(window.End(j), windowEnd), result);
        }

        window.Clear();
        return true;
    }
}
