using System.Runtime.CompilerServices;
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
    private long[] _values = [];

    private bool _open;
    private long _groupStart;
    private long _max;
    private TIn[] _tied = new TIn[16];
    private long[] _tiedEnd = new long[16];
    private int _tiedCount;
    private long _watermark = Ticks.MinusInfinity;
    private EventBatch<TResult>? _output;

    public WindowArgMaxOperator(IStreamObserver<TResult> downstream, QueryContext context, WindowArgMaxKernels<TIn, TRow, TKey, TResult> kernels, long rowSize)
        : base(downstream, context)
    {
        _kernels = kernels;
        _rowSize = rowSize;
        _inputPool = context.Pool<TIn>();
        _outputPool = context.Pool<TResult>();
    }

    /// <summary>Gets the number of events held (the open window's events at its maximum).</summary>
    public int HeldCount => _tiedCount;

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

        var start = batch.Start;
        var end = batch.End;
        var payload = batch.Payload;
        var absent = batch.Absent;
        var values = _values;
        bool open = _open;
        long groupStart = _groupStart;
        long max = _max;
        for (int i = 0; i < count; i++)
        {
            if ((absent[i >> 6] & (1UL << i)) != 0)
            {
                continue;
            }

            long s = start[i];
            long e = end[i];
            if (e <= s)
            {
                continue; // an empty lifetime overlaps nothing: the join dropped such events
            }

            long v = values[i];
            if (!open || s != groupStart)
            {
                if (open)
                {
                    _max = max;
                    if (!Close())
                    {
                        _inputPool.Return(batch);
                        return;
                    }
                }

                open = true;
                groupStart = s;
                max = v;
                _groupStart = s;
                _tiedCount = 0;
            }
            else if (v > max)
            {
                max = v;
                ClearTied();
            }
            else if (v != max)
            {
                continue;
            }

            Keep(payload[i], e);
        }

        _open = open;
        _groupStart = groupStart;
        _max = max;
        _inputPool.Return(batch);
        Flush();
    }

    public override void OnWatermark(long watermark)
    {
        if (Faulted || watermark <= _watermark)
        {
            return;
        }

        _watermark = watermark;
        if (_open && _groupStart < watermark)
        {
            if (!Close())
            {
                return;
            }

            _open = false;
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
        var tied = new List<StreamEvent<TIn>>(_tiedCount);
        for (int i = 0; i < _tiedCount; i++)
        {
            tied.Add(new StreamEvent<TIn>(_groupStart, _tiedEnd[i], _tied[i]));
        }

        return new WindowArgMaxState<TIn>(_watermark, _open, _groupStart, _max, tied);
    }

    /// <summary>Loads a state captured by <see cref="CaptureState"/>; call before the operator receives any input.</summary>
    public void RestoreState(WindowArgMaxState<TIn> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        _watermark = state.Watermark;
        _open = state.Open;
        _groupStart = state.GroupStart;
        _max = state.Max;
        _tiedCount = 0;
        foreach (var e in state.Tied)
        {
            Keep(e.Payload, e.End);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Keep(TIn payload, long end)
    {
        int n = _tiedCount;
        if (n == _tied.Length)
        {
            Array.Resize(ref _tied, n * 2);
            Array.Resize(ref _tiedEnd, n * 2);
        }

        _tied[n] = payload;
        _tiedEnd[n] = end;
        _tiedCount = n + 1;
    }

    private void ClearTied()
    {
        if (RuntimeHelpers.IsReferenceOrContainsReferences<TIn>())
        {
            Array.Clear(_tied, 0, _tiedCount);
        }

        _tiedCount = 0;
    }

    /// <summary>Emits the open window's results (newest tied event first); false when user code failed and the query stopped.</summary>
    private bool Close()
    {
        long windowStart = Ticks.WindowStart(_groupStart, _rowSize);
        long windowEnd = Ticks.SaturatingAdd(windowStart, _rowSize);
        long resultStart = Math.Max(_groupStart, windowStart);
        TRow row;
        TKey rowKey;
        try
        {
            row = _kernels.Row(windowStart, windowEnd, _max);
            rowKey = _kernels.RightKey(row);
        }
        catch (Exception ex) when (ex is not QueryExecutionException)
        {
            Fail(ex, OperatorName, _kernels.Lambdas.Row.ToString());
            Discard();
            return false;
        }

        for (int j = _tiedCount - 1; j >= 0; j--)
        {
            var left = _tied[j];
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
            output.Add(resultStart, Math.Min(_tiedEnd[j], windowEnd), result);
            if (output.IsFull)
            {
                _output = null;
                Downstream.OnBatch(output);
            }
        }

        ClearTied();
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
        ClearTied();
        _open = false;
        if (_output is { } output)
        {
            _output = null;
            _outputPool.Return(output);
        }
    }
}
