using LinqStream.Runtime;
using LinqStream.Temporal;

namespace LinqStream.Physical.Join;

/// <summary>
/// An equi-join that buffers each input's batches until both watermarks pass them, then processes the buffered events of both
/// sides in merged start order, left first on ties (<c>TemporalJoinOperator</c>, and <c>JoinKeyedFoldOperator</c> which folds its
/// pairs): the two input queues and the merge, shared; each operator walks a run of one side itself (<see cref="ProcessLeftRun"/>,
/// <see cref="ProcessRightRun"/>, over a <see cref="JoinRun"/>), and its checkpoint's join part is built and restored here.
/// </summary>
internal abstract class BufferedJoinOperator<TLeft, TRight, TKey, TResult> : BinaryJoinOperator<TLeft, TRight, TKey, TResult>
{
    protected BufferedJoinOperator(IStreamObserver<TResult> downstream, QueryContext context, IJoinKeyKernels<TLeft, TRight, TKey> kernels)
        : base(downstream, context, kernels)
    {
        LeftInput = new InputQueue<TLeft, TKey>(LeftPool);
        RightInput = new InputQueue<TRight, TKey>(RightPool);
    }

    /// <summary>Gets the left events waiting to be processed, with their keys.</summary>
    private protected InputQueue<TLeft, TKey> LeftInput { get; }

    /// <summary>Gets the right events waiting to be processed, with their keys.</summary>
    private protected InputQueue<TRight, TKey> RightInput { get; }

    protected override TKey[] RentLeftKeys(int capacity) => LeftInput.RentKeys(capacity);

    protected override TKey[] RentRightKeys(int capacity) => RightInput.RentKeys(capacity);

    protected override void ReturnKeys(TKey[] keys, int count, bool left)
    {
        if (left)
        {
            LeftInput.ReturnKeys(keys, count);
        }
        else
        {
            RightInput.ReturnKeys(keys, count);
        }
    }

    protected override void AcceptLeft(EventBatch<TLeft> batch, TKey[] keys) => LeftInput.Enqueue(batch, keys);

    protected override void AcceptRight(EventBatch<TRight> batch, TKey[] keys) => RightInput.Enqueue(batch, keys);

    /// <summary>The join's progress and buffered inputs, with the live events and held-back results given, as plain data (checkpoints).</summary>
    private protected JoinState<TLeft, TRight, TKey> CaptureJoin(
        JoinKind kind,
        IReadOnlyList<LiveEvent<TLeft, TKey>> leftLive,
        IReadOnlyList<LiveEvent<TRight, TKey>> rightLive,
        IReadOnlyList<PendingResult<TLeft, TRight>> pending) =>
        new(kind, LeftWatermark, RightWatermark, Frontier, OutputWatermark, LeftCompleted, RightCompleted, LeftInput.Snapshot(), RightInput.Snapshot(), leftLive, rightLive, pending);

    /// <summary>A restore's first step: the inputs' progress of <paramref name="state"/>.</summary>
    private protected void RestoreProgress(JoinState<TLeft, TRight, TKey> state) =>
        RestoreProgress(state.LeftWatermark, state.RightWatermark, state.Frontier, state.OutputWatermark, state.LeftCompleted, state.RightCompleted);

    /// <summary>A restore's last step: the buffered events of <paramref name="state"/> pushed through the inputs again (their key kernels run again).</summary>
    private protected void RefillBuffered(JoinState<TLeft, TRight, TKey> state)
    {
        Refill(state.LeftBuffered, LeftPool, Left);
        Refill(state.RightBuffered, RightPool, Right);
    }

    /// <summary>
    /// Processes the left head batch's events up to start <paramref name="bound"/> (inclusive): called once per run of left events, not
    /// per event. Each operator writes this loop itself over <see cref="InputQueue{T, TKey}.Run"/> (a <see cref="JoinRun"/>), so that what
    /// it does per event is its own method, inlined into the loop (no call per event).
    /// </summary>
    private protected abstract void ProcessLeftRun(long bound);

    /// <summary>Processes the right head batch's events up to start <paramref name="bound"/> (inclusive); once per run, as <see cref="ProcessLeftRun"/>.</summary>
    private protected abstract void ProcessRightRun(long bound);

    /// <summary>
    /// Processes the buffered events of both sides with <c>Start &lt; limit</c> (all of them when the limit is +infinity), in merged start
    /// order, in runs of one side (<see cref="ProcessLeftRun"/>, <see cref="ProcessRightRun"/>).
    /// </summary>
    private protected void ProcessUpTo(long limit)
    {
        // Largest start to process; limit > frontier >= long.MinValue, so limit - 1 cannot overflow.
        long last = limit == Ticks.Infinity ? Ticks.Infinity : limit - 1;
        while (true)
        {
            bool hasLeft = LeftInput.MoveToPresent();
            bool hasRight = RightInput.MoveToPresent();
            if (hasLeft && (!hasRight || LeftInput.HeadStart <= RightInput.HeadStart))
            {
                // Left wins ties: a right event starting together with a left one must find it in the live state.
                long bound = hasRight ? Math.Min(RightInput.HeadStart, last) : last;
                if (LeftInput.HeadStart > bound)
                {
                    return;
                }

                ProcessLeftRun(bound);
            }
            else if (hasRight)
            {
                // Here the left head starts after the right head, so HeadStart - 1 cannot overflow.
                long bound = hasLeft ? Math.Min(LeftInput.HeadStart - 1, last) : last;
                if (RightInput.HeadStart > bound)
                {
                    return;
                }

                ProcessRightRun(bound);
            }
            else
            {
                return;
            }
        }
    }
}
