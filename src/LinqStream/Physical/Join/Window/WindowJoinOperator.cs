using System.Runtime.CompilerServices;
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
/// chained newest first; open addressing for primitive keys, issue #19), probed by each right event, then cleared for the next
/// window. An event whose lifetime is not one window (which the plan pass rules out) stops the query with an error naming the
/// rewrite rather than giving another answer.
/// </para>
/// </remarks>
internal class WindowJoinOperator<TLeft, TRight, TKey, TResult> : BinaryJoinOperator<TLeft, TRight, TKey, TResult>, Runtime.Checkpoints.ICheckpointed, Runtime.State.IStateMeter, Parallel.ITaskJoin<TLeft, TRight>
{
    private readonly long _size;
    private readonly WindowJoinBuffer<TLeft, TKey> _left = new();
    private readonly WindowJoinBuffer<TRight, TKey> _right = new();

    // The window being joined: each left key's newest event (an index relative to the window's first), and each event's older one.
    // Open addressing for primitive keys (q8's person ids), a dictionary for the others (Runtime/Tables/KeySlotTable.cs).
    private readonly Runtime.Tables.KeySlotTable<TKey> _heads = new();
    private int[] _older = new int[16];
    private TKey[] _leftKeys = [];
    private TKey[] _rightKeys = [];

    public WindowJoinOperator(IStreamObserver<TResult> downstream, QueryContext context, JoinKernels<TLeft, TRight, TKey, TResult> kernels, long size)
        : base(downstream, context, kernels)
    {
        _size = size;
        context.Operators.Add(this);
        context.Checkpointed.Add(this);
    }

    /// <summary>Gets the number of left events waiting for their window to be joined.</summary>
    public int LeftWaiting => _left.Waiting;

    /// <summary>Gets the number of right events waiting for their window to be joined.</summary>
    public int RightWaiting => _right.Waiting;

    /// <summary>Gets the number of waiting events on the heap, both inputs (progress reports and the out-of-memory message).</summary>
    public long HeapGroups => _left.Waiting + _right.Waiting;

    /// <summary>Gets the number of waiting events in a state store (none on the heap backend).</summary>
    public virtual long SpilledGroups => 0;

    Runtime.Checkpoints.ICheckpointed Parallel.ITaskJoin<TLeft, TRight>.State => this;

    int Parallel.ITaskJoin<TLeft, TRight>.Waiting => LeftWaiting + RightWaiting;

    public virtual string CheckpointName => "WindowJoin";

    /// <summary>Gets the left input's events waiting for their window (the spilled variant moves them to its store).</summary>
    private protected WindowJoinBuffer<TLeft, TKey> LeftBuffer => _left;

    /// <summary>Gets the right input's events waiting for their window.</summary>
    private protected WindowJoinBuffer<TRight, TKey> RightBuffer => _right;

    protected override TKey[] RentLeftKeys(int capacity) => _leftKeys.Length < capacity ? _leftKeys = new TKey[capacity] : _leftKeys;

    protected override TKey[] RentRightKeys(int capacity) => _rightKeys.Length < capacity ? _rightKeys = new TKey[capacity] : _rightKeys;

    protected override void ReturnKeys(TKey[] keys, int count, bool left) => ClearKeys(keys, count);

    protected override void AcceptLeft(EventBatch<TLeft> batch, TKey[] keys)
    {
        int misfit = Keep(batch, keys, _left);
        if (misfit >= 0)
        {
            FailNotWindowed("left", batch.Start[misfit], batch.End[misfit]);
        }

        ClearKeys(keys, batch.Count);
        LeftPool.Return(batch);
    }

    protected override void AcceptRight(EventBatch<TRight> batch, TKey[] keys)
    {
        int misfit = Keep(batch, keys, _right);
        if (misfit >= 0)
        {
            FailNotWindowed("right", batch.Start[misfit], batch.End[misfit]);
        }

        ClearKeys(keys, batch.Count);
        RightPool.Return(batch);
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
        // Present events only (filters leave most of a NEXMark entity's batch absent): one bit scan per event kept.
        foreach (int i in new PresentIndices(absent, count))
        {
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

        return -1;
    }

    private static void ClearKeys(TKey[] keys, int count)
    {
        if (RuntimeHelpers.IsReferenceOrContainsReferences<TKey>())
        {
            Array.Clear(keys, 0, count);
        }
    }

    /// <summary>Joins every waiting window that starts before <paramref name="watermark"/> (all of them at +infinity) and moves the output watermark.</summary>
    protected override void Round(long watermark)
    {
        // Largest start to join; watermark > frontier >= long.MinValue, so watermark - 1 cannot overflow.
        long last = watermark == Ticks.Infinity ? Ticks.Infinity : watermark - 1;
        while (true)
        {
            long window = NextWindow();
            if (window == long.MaxValue || window > last)
            {
                break;
            }

            CloseWindow(window);
        }

        Frontier = watermark;
        _left.Compact();
        _right.Compact();
        Writer.Flush();
        if (watermark > OutputWatermark)
        {
            OutputWatermark = watermark;
            Downstream.OnWatermark(watermark);
        }
    }

    /// <summary>The start of the earliest window with waiting events, or <see cref="long.MaxValue"/> when none waits (one call per window).</summary>
    private protected virtual long NextWindow() =>
        Math.Min(_left.Waiting > 0 ? _left.Start[_left.Head] : long.MaxValue, _right.Waiting > 0 ? _right.Start[_right.Head] : long.MaxValue);

    /// <summary>Joins the window starting at <paramref name="window"/> (the earliest one waiting) and drops its events (one call per window).</summary>
    private protected virtual void CloseWindow(long window)
    {
        var (leftEnd, rightEnd) = HeapRuns(window);
        if (leftEnd > _left.Head && rightEnd > _right.Head)
        {
            JoinWindow(window, leftEnd, rightEnd);
        }

        _left.Consume(leftEnd);
        _right.Consume(rightEnd);
    }

    /// <summary>The ends of each buffer's run of events in the window starting at <paramref name="window"/> (the head when it has none).</summary>
    private protected (int LeftEnd, int RightEnd) HeapRuns(long window) => (
        _left.Waiting > 0 && _left.Start[_left.Head] == window ? _left.WindowEnd() : _left.Head,
        _right.Waiting > 0 && _right.Start[_right.Head] == window ? _right.WindowEnd() : _right.Head);

    /// <summary>Joins one window: the left events from the head to <paramref name="leftEnd"/> with the right ones to <paramref name="rightEnd"/>.</summary>
    private void JoinWindow(long start, int leftEnd, int rightEnd)
    {
        IndexLeft(leftEnd);
        try
        {
            // The loop of ProbeLeft with the columns in locals: the heap path's inner loop, per right event.
            int first = _left.Head;
            var older = _older;
            var heads = _heads;
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
                    Writer.Add(start, le < re ? le : re, leftPayload[first + l], rightPayload[j]);
                }
            }
        }
        finally
        {
            _heads.Clear();
        }
    }

    /// <summary>Indexes the left buffer's events from the head to <paramref name="leftEnd"/> by key, newest first (until <see cref="ClearLeftIndex"/>).</summary>
    private protected void IndexLeft(int leftEnd)
    {
        int first = _left.Head;
        int n = leftEnd - first;
        if (_older.Length < n)
        {
            _older = new int[Math.Max(n, _older.Length * 2)];
        }

        var older = _older;
        var heads = _heads;
        // Sized for this window's left events at once (cleared, not shrunk, after each window): the first window's table does not
        // double and rehash its way up from empty.
        heads.EnsureCapacity(n);
        var leftKey = _left.Key;
        for (int i = 0; i < n; i++)
        {
            ref int head = ref heads.GetValueRefOrAddDefault(leftKey[first + i], out bool exists);
            older[i] = exists ? head : -1;
            head = i;
        }
    }

    private protected void ClearLeftIndex() => _heads.Clear();

    /// <summary>Gives a right event's pairs with the indexed left events of its key, newest first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private protected void ProbeLeft(long start, TKey key, long rightEnd, TRight right)
    {
        if (!_heads.TryGetValue(key, out int l))
        {
            return;
        }

        int first = _left.Head;
        var older = _older;
        var leftEndTimes = _left.End;
        var leftPayload = _left.Payload;
        for (; l >= 0; l = older[l])
        {
            long le = leftEndTimes[first + l];
            Writer.Add(start, le < rightEnd ? le : rightEnd, leftPayload[first + l], right);
        }
    }

    private void FailNotWindowed(string side, long start, long end) =>
        Fail(new InvalidOperationException(Internal.Strings.WindowJoinRewriteMismatch(side, TimeSpan.FromTicks(_size).ToString(), Ticks.Format(start), Ticks.Format(end))), Kernels.Condition);

    /// <summary>Drops every waiting event and the results being built (the query failed).</summary>
    protected override void ReleaseAll()
    {
        ReleaseSpilled();
        _left.Clear();
        _right.Clear();
        _heads.Clear();
        Writer.Discard();
    }

    /// <summary>Drops the spilled state too (the spilled variant; the query failed).</summary>
    private protected virtual void ReleaseSpilled()
    {
    }

    public virtual void WriteState(BinaryWriter writer) =>
        Runtime.Checkpoints.StateCodec.Write(writer, CaptureState(), typeof(WindowJoinState<TLeft, TRight>));

    public virtual void ReadState(BinaryReader reader) =>
        Restore((WindowJoinState<TLeft, TRight>)Runtime.Checkpoints.StateCodec.Read(reader, typeof(WindowJoinState<TLeft, TRight>))!);

    /// <summary>Copies the whole state between two calls; the operator is not changed.</summary>
    public WindowJoinState<TLeft, TRight> CaptureState() =>
        new(LeftWatermark, RightWatermark, Frontier, OutputWatermark, LeftCompleted, RightCompleted, _left.Snapshot(), _right.Snapshot());

    /// <summary>Loads <paramref name="state"/> into this operator, which must be new (no input seen yet); waiting events go through the key kernels again.</summary>
    public void Restore(WindowJoinState<TLeft, TRight> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        RestoreProgress(state.LeftWatermark, state.RightWatermark, state.Frontier, state.OutputWatermark, state.LeftCompleted, state.RightCompleted);
        Refill(state.LeftWaiting, LeftPool, Left);
        Refill(state.RightWaiting, RightPool, Right);
    }
}
