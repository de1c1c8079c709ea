using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using LinqStream.Runtime;
using LinqStream.Temporal;

// TKey may be a nullable type (the user's key selector decides it); null keys never reach the table, they are dropped on arrival.
#pragma warning disable CS8714

namespace LinqStream.Physical.Join.Window;

/// <summary>
/// The inner equi-join of two inputs whose events live for one tumbling window each: a window's events of both sides are
/// buffered as they arrive and joined once, when both input watermarks pass the window's start.
/// </summary>
/// <remarks>
/// <para>
/// It gives exactly what <see cref="TemporalJoinOperator{TLeft, TRight, TKey, TResult}"/> gives for such inputs (the plan pass
/// <c>TumblingJoinToWindowJoinPass</c> proves them windowed alike): rounds run when the smaller input watermark <c>W</c> moves,
/// and join every window starting before <c>W</c> (all of them at +infinity), in start order. Within a window, each right event in
/// arrival order meets the left events of its key newest first (the temporal join's order: a window's left events are processed
/// before its right ones and probed from the latest), and each pair gives <c>result(left, right)</c> with the lifetime
/// <c>[start, min(ends))</c>. Output batches are flushed when full and at the end of each round, and the output watermark is
/// <c>W</c>, as the temporal join does.
/// </para>
/// <para>
/// Per event on arrival: the key from the batch's key column (a compiled kernel) and one append to the side's buffer; the batch
/// goes back to the pool at once instead of waiting for the other input. Per window: one hash table of the left keys (left events
/// chained newest first), probed by each right event, then cleared for the next window. An event whose lifetime is not one
/// window (which the plan pass rules out) stops the query with an error naming the rewrite rather than giving another answer.
/// </para>
/// </remarks>
internal sealed class WindowJoinOperator<TLeft, TRight, TKey, TResult> : Runtime.Checkpoints.ICheckpointed
{
    private readonly JoinKernels<TLeft, TRight, TKey, TResult> _kernels;
    private readonly long _size;
    private readonly IStreamObserver<TResult> _downstream;
    private readonly QueryContext _context;
    private readonly BatchPool<TLeft> _leftPool;
    private readonly BatchPool<TRight> _rightPool;
    private readonly WindowJoinBuffer<TLeft, TKey> _left = new();
    private readonly WindowJoinBuffer<TRight, TKey> _right = new();
    private readonly ResultWriter<TLeft, TRight, TResult> _writer;
    private readonly UserCodeFailures _leftKeyFailures;
    private readonly UserCodeFailures _rightKeyFailures;

    // The window being joined: each left key's newest event (an index relative to the window's first), and each event's older one.
    private readonly Dictionary<TKey, int> _heads = new();
    private int[] _older = new int[16];
    private TKey[] _leftKeys = [];
    private TKey[] _rightKeys = [];

    private long _leftWatermark = Ticks.MinusInfinity;
    private long _rightWatermark = Ticks.MinusInfinity;
    private long _frontier = Ticks.MinusInfinity;
    private long _outputWatermark = Ticks.MinusInfinity;
    private bool _leftCompleted;
    private bool _rightCompleted;
    private bool _faulted;
    private bool _done;

    public WindowJoinOperator(IStreamObserver<TResult> downstream, QueryContext context, JoinKernels<TLeft, TRight, TKey, TResult> kernels, long size)
    {
        kernels.CompileKernels(); // a no-op after the compiler's last stage
        _kernels = kernels;
        _size = size;
        _downstream = downstream;
        _context = context;
        _leftPool = context.Pool<TLeft>();
        _rightPool = context.Pool<TRight>();
        _leftKeyFailures = new UserCodeFailures(context, kernels.OperatorName, kernels.LeftKeySelector.ToString());
        _rightKeyFailures = new UserCodeFailures(context, kernels.OperatorName, kernels.RightKeySelector.ToString());
        _writer = new ResultWriter<TLeft, TRight, TResult>(
            kernels.Result, context.Pool<TResult>(), downstream, new UserCodeFailures(context, kernels.OperatorName, kernels.ResultSelector.ToString()));
        Left = new LeftObserver(this);
        Right = new RightObserver(this);
        context.Operators.Add(this);
        context.Checkpointed.Add(this);
    }

    /// <summary>Gets the observer the left input pushes into.</summary>
    public IStreamObserver<TLeft> Left { get; }

    /// <summary>Gets the observer the right input pushes into.</summary>
    public IStreamObserver<TRight> Right { get; }

    /// <summary>Gets the number of left events waiting for their window to be joined.</summary>
    public int LeftWaiting => _left.Waiting;

    /// <summary>Gets the number of right events waiting for their window to be joined.</summary>
    public int RightWaiting => _right.Waiting;

    /// <summary>Gets the time before which every window has been joined.</summary>
    public long Frontier => _frontier;

    public string CheckpointName => "WindowJoin";

    private void OnLeftBatch(EventBatch<TLeft> batch)
    {
        if (_faulted || _done)
        {
            _leftPool.Return(batch);
            return;
        }

        if (_leftKeys.Length < batch.Capacity)
        {
            _leftKeys = new TKey[batch.Capacity];
        }

        var keys = _leftKeys;
        try
        {
            _kernels.LeftKey(batch.Payload, batch.Absent, keys, batch.Count);
        }
        catch (Exception ex) when (ex is not QueryExecutionException)
        {
            // Rare path: find the event(s) whose key selector throws; the policy skips them (marked absent) or stops the query.
            if (_leftKeyFailures.IsolateColumn(_kernels.LeftKey, batch, keys) is { } stop)
            {
                ClearKeys(keys, batch.Count);
                _leftPool.Return(batch);
                Fail(stop, _kernels.LeftKeySelector.ToString());
                return;
            }
        }

        int misfit = Keep(batch, keys, _left);
        if (misfit >= 0)
        {
            FailNotWindowed("left", batch.Start[misfit], batch.End[misfit]);
        }

        ClearKeys(keys, batch.Count);
        _leftPool.Return(batch);
    }

    private void OnRightBatch(EventBatch<TRight> batch)
    {
        if (_faulted || _done)
        {
            _rightPool.Return(batch);
            return;
        }

        if (_rightKeys.Length < batch.Capacity)
        {
            _rightKeys = new TKey[batch.Capacity];
        }

        var keys = _rightKeys;
        try
        {
            _kernels.RightKey(batch.Payload, batch.Absent, keys, batch.Count);
        }
        catch (Exception ex) when (ex is not QueryExecutionException)
        {
            if (_rightKeyFailures.IsolateColumn(_kernels.RightKey, batch, keys) is { } stop)
            {
                ClearKeys(keys, batch.Count);
                _rightPool.Return(batch);
                Fail(stop, _kernels.RightKeySelector.ToString());
                return;
            }
        }

        int misfit = Keep(batch, keys, _right);
        if (misfit >= 0)
        {
            FailNotWindowed("right", batch.Start[misfit], batch.End[misfit]);
        }

        ClearKeys(keys, batch.Count);
        _rightPool.Return(batch);
    }

    /// <summary>
    /// Appends the batch's events that can match (present, a non-empty lifetime, a non-null key) to <paramref name="buffer"/>; the
    /// temporal join skips the others too. Returns -1, or the index of an event that does not live for one window (the rewrite's premise).
    /// </summary>
    private int Keep<T>(EventBatch<T> batch, TKey[] keys, WindowJoinBuffer<T, TKey> buffer)
    {
        var start = batch.Start;
        var end = batch.End;
        var payload = batch.Payload;
        var absent = batch.Absent;
        int count = batch.Count;
        long size = _size;
        long window = 0;
        bool known = false;
        for (int w = 0, words = (count + 63) >> 6; w < words; w++)
        {
            // Present events of this word (filters leave most of a NEXMark entity's batch absent): one bit scan per event kept.
            ulong present = ~absent[w];
            int left = count - (w << 6);
            if (left < 64)
            {
                present &= (1UL << left) - 1;
            }

            while (present != 0)
            {
                int i = (w << 6) + System.Numerics.BitOperations.TrailingZeroCount(present);
                present &= present - 1;
                long s = start[i];
                long e = end[i];
                if (e <= s)
                {
                    continue;
                }

                if (!known || s != window)
                {
                    if (Ticks.WindowStart(s, size) != s)
                    {
                        return i;
                    }

                    window = s;
                    known = true;
                }

                if (unchecked((ulong)(e - s)) > (ulong)size)
                {
                    return i;
                }

                var key = keys[i];
                if (key is null)
                {
                    continue;
                }

                buffer.Append(s, e, key, payload[i]);
            }
        }

        return -1;
    }

    private static void ClearKeys(TKey[] keys, int count)
    {
        if (RuntimeHelpers.IsReferenceOrContainsReferences<TKey>())
        {
            Array.Clear(keys, 0, count);
        }
    }

    private void OnInputWatermark(long watermark, bool left)
    {
        if (_faulted || _done)
        {
            return;
        }

        if (left)
        {
            _leftWatermark = Math.Max(_leftWatermark, watermark);
        }
        else
        {
            _rightWatermark = Math.Max(_rightWatermark, watermark);
        }

        long both = Math.Min(_leftWatermark, _rightWatermark);
        if (both > _frontier)
        {
            RoundGuarded(both);
        }
    }

    private void OnInputCompleted(bool left)
    {
        if (_faulted || _done)
        {
            return;
        }

        // A completed input sends nothing more: its watermark is +infinity even if it did not say so.
        if (left)
        {
            _leftCompleted = true;
        }
        else
        {
            _rightCompleted = true;
        }

        OnInputWatermark(Ticks.Infinity, left);
        if (_faulted || !_leftCompleted || !_rightCompleted)
        {
            return;
        }

        _done = true;
        _downstream.OnCompleted();
    }

    private void OnInputError(Exception error)
    {
        if (_faulted || _done)
        {
            return;
        }

        _faulted = true;
        ReleaseAll();
        _downstream.OnError(error);
    }

    private void RoundGuarded(long watermark)
    {
        try
        {
            Round(watermark);
        }
        catch (Exception ex)
        {
            // Outside the result kernel the only code that runs is the key type's equality, which the pass allows only for framework types.
            Fail(ex, _writer.InKernel ? _kernels.ResultSelector.ToString() : _kernels.Condition);
        }
    }

    /// <summary>Joins every waiting window that starts before <paramref name="watermark"/> (all of them at +infinity) and moves the output watermark.</summary>
    private void Round(long watermark)
    {
        // Largest start to join; watermark > frontier >= long.MinValue, so watermark - 1 cannot overflow.
        long last = watermark == Ticks.Infinity ? Ticks.Infinity : watermark - 1;
        while (true)
        {
            bool hasLeft = _left.Waiting > 0;
            bool hasRight = _right.Waiting > 0;
            if (!hasLeft && !hasRight)
            {
                break;
            }

            long leftStart = hasLeft ? _left.Start[_left.Head] : long.MaxValue;
            long rightStart = hasRight ? _right.Start[_right.Head] : long.MaxValue;
            long window = Math.Min(leftStart, rightStart);
            if (window > last)
            {
                break;
            }

            int leftEnd = hasLeft && leftStart == window ? _left.WindowEnd() : _left.Head;
            int rightEnd = hasRight && rightStart == window ? _right.WindowEnd() : _right.Head;
            if (leftEnd > _left.Head && rightEnd > _right.Head)
            {
                JoinWindow(window, leftEnd, rightEnd);
            }

            _left.Consume(leftEnd);
            _right.Consume(rightEnd);
        }

        _frontier = watermark;
        _left.Compact();
        _right.Compact();
        _writer.Flush();
        if (watermark > _outputWatermark)
        {
            _outputWatermark = watermark;
            _downstream.OnWatermark(watermark);
        }
    }

    /// <summary>Joins one window: the left events from the head to <paramref name="leftEnd"/> with the right ones to <paramref name="rightEnd"/>.</summary>
    private void JoinWindow(long start, int leftEnd, int rightEnd)
    {
        int first = _left.Head;
        int n = leftEnd - first;
        if (_older.Length < n)
        {
            _older = new int[Math.Max(n, _older.Length * 2)];
        }

        var older = _older;
        var heads = _heads;
        var leftKey = _left.Key;
        for (int i = 0; i < n; i++)
        {
            ref int head = ref CollectionsMarshal.GetValueRefOrAddDefault(heads, leftKey[first + i], out bool exists);
            older[i] = exists ? head : -1;
            head = i;
        }

        try
        {
            var leftEndTimes = _left.End;
            var leftPayload = _left.Payload;
            var rightKey = _right.Key;
            var rightEndTimes = _right.End;
            var rightPayload = _right.Payload;
            for (int j = _right.Head; j < rightEnd; j++)
            {
                if (!heads.TryGetValue(rightKey[j], out int l))
                {
                    continue;
                }

                long re = rightEndTimes[j];
                for (; l >= 0; l = older[l])
                {
                    long le = leftEndTimes[first + l];
                    _writer.Add(start, le < re ? le : re, leftPayload[first + l], rightPayload[j]);
                }
            }
        }
        finally
        {
            heads.Clear();
        }
    }

    private void FailNotWindowed(string side, long start, long end) =>
        Fail(new InvalidOperationException(Internal.Strings.WindowJoinRewriteMismatch(side, TimeSpan.FromTicks(_size).ToString(), Ticks.Format(start), Ticks.Format(end))), _kernels.Condition);

    private void Fail(Exception error, string expression)
    {
        if (_faulted)
        {
            return;
        }

        _faulted = true;
        ReleaseAll();
        _downstream.OnError(Internal.Error.OperatorFailed(_kernels.OperatorName, expression, error));
        _context.Stop();
    }

    /// <summary>Drops every waiting event and the results being built (the query failed).</summary>
    private void ReleaseAll()
    {
        _left.Clear();
        _right.Clear();
        _heads.Clear();
        _writer.Discard();
    }

    public void WriteState(BinaryWriter writer) =>
        Runtime.Checkpoints.StateCodec.Write(writer, CaptureState(), typeof(WindowJoinState<TLeft, TRight>));

    public void ReadState(BinaryReader reader) =>
        Restore((WindowJoinState<TLeft, TRight>)Runtime.Checkpoints.StateCodec.Read(reader, typeof(WindowJoinState<TLeft, TRight>))!);

    /// <summary>Copies the whole state between two calls; the operator is not changed.</summary>
    public WindowJoinState<TLeft, TRight> CaptureState() =>
        new(_leftWatermark, _rightWatermark, _frontier, _outputWatermark, _leftCompleted, _rightCompleted, _left.Snapshot(), _right.Snapshot());

    /// <summary>Loads <paramref name="state"/> into this operator, which must be new (no input seen yet); waiting events go through the key kernels again.</summary>
    public void Restore(WindowJoinState<TLeft, TRight> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        _leftWatermark = state.LeftWatermark;
        _rightWatermark = state.RightWatermark;
        _frontier = state.Frontier;
        _outputWatermark = state.OutputWatermark;
        _leftCompleted = state.LeftCompleted;
        _rightCompleted = state.RightCompleted;
        Refill(state.LeftWaiting, _leftPool, OnLeftBatch);
        Refill(state.RightWaiting, _rightPool, OnRightBatch);
    }

    private static void Refill<T>(IReadOnlyList<StreamEvent<T>> events, BatchPool<T> pool, Action<EventBatch<T>> push)
    {
        EventBatch<T>? batch = null;
        foreach (var e in events)
        {
            batch ??= pool.Rent();
            batch.Add(e.Start, e.End, e.Payload);
            if (batch.IsFull)
            {
                push(batch);
                batch = null;
            }
        }

        if (batch is not null)
        {
            push(batch);
        }
    }

    private sealed class LeftObserver(WindowJoinOperator<TLeft, TRight, TKey, TResult> owner) : IStreamObserver<TLeft>
    {
        public void OnBatch(EventBatch<TLeft> batch) => owner.OnLeftBatch(batch);

        public void OnWatermark(long watermark) => owner.OnInputWatermark(watermark, left: true);

        public void OnCompleted() => owner.OnInputCompleted(left: true);

        public void OnError(Exception error) => owner.OnInputError(error);
    }

    private sealed class RightObserver(WindowJoinOperator<TLeft, TRight, TKey, TResult> owner) : IStreamObserver<TRight>
    {
        public void OnBatch(EventBatch<TRight> batch) => owner.OnRightBatch(batch);

        public void OnWatermark(long watermark) => owner.OnInputWatermark(watermark, left: false);

        public void OnCompleted() => owner.OnInputCompleted(left: false);

        public void OnError(Exception error) => owner.OnInputError(error);
    }
}
