using LinqStream.Runtime;
using LinqStream.Temporal;

namespace LinqStream.Physical.Join;

/// <summary>
/// An equi-join that buffers each input's batches until both watermarks pass them, then processes the buffered events of both
/// sides in merged start order, left first on ties (<c>TemporalJoinOperator</c>, and <c>JoinKeyedFoldOperator</c> which folds its
/// pairs): the two input queues, the merge and the walk of each run, shared; each operator says what one event of a side does
/// (an <see cref="IJoinRunStep{T, TKey}"/> struct per side), and its checkpoint's join part is built and restored here.
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
    /// Walks the head batch of <paramref name="input"/> from its cursor up to start <paramref name="bound"/> (inclusive) and hands each
    /// present event with a non-empty lifetime to <paramref name="step"/>, after <see cref="IJoinRunStep{T, TKey}.Before"/> (the
    /// evictions due at its start); the loop of every run of either side. <typeparamref name="TStep"/> is
    /// a struct, so this loop is compiled for each operator's step (the step's methods inlined into it): no virtual call per event.
    /// Called once per run, like the loops it replaced (not inlined into the merge).
    /// </summary>
    private static void ForEachInRun<T, TStep>(InputQueue<T, TKey> input, long bound, ref TStep step)
        where TStep : struct, IJoinRunStep<T, TKey>
    {
        var batch = input.Head!;
        var keys = input.HeadKeys;
        var start = batch.Start;
        var end = batch.End;
        var payload = batch.Payload;
        var absent = batch.Absent;
        int count = batch.Count;

        int i = input.Index;
        for (; i < count; i++)
        {
            if ((absent[i >> 6] & (1UL << i)) != 0)
            {
                continue;
            }

            long s = start[i];
            if (s > bound)
            {
                break;
            }

            long e = end[i];
            if (e <= s)
            {
                continue;
            }

            step.Before(s);
            var key = keys[i];
            if (key is null)
            {
                step.WithoutKey(s, e, payload[i]);
            }
            else
            {
                step.Add(s, e, payload[i], key);
            }
        }

        input.Index = i;
    }

    /// <summary>
    /// Processes the buffered events of both sides with <c>Start &lt; limit</c> (all of them when the limit is +infinity), in runs of one
    /// side: each left event goes to <paramref name="left"/>, each right event to <paramref name="right"/> (the operator's steps: structs,
    /// so this merge and the loops are compiled for each operator).
    /// </summary>
    private protected void ProcessUpTo<TLeftStep, TRightStep>(long limit, ref TLeftStep left, ref TRightStep right)
        where TLeftStep : struct, IJoinRunStep<TLeft, TKey>
        where TRightStep : struct, IJoinRunStep<TRight, TKey>
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

                ForEachInRun(LeftInput, bound, ref left);
            }
            else if (hasRight)
            {
                // Here the left head starts after the right head, so HeadStart - 1 cannot overflow.
                long bound = hasLeft ? Math.Min(LeftInput.HeadStart - 1, last) : last;
                if (RightInput.HeadStart > bound)
                {
                    return;
                }

                ForEachInRun(RightInput, bound, ref right);
            }
            else
            {
                return;
            }
        }
    }
}

/// <summary>What a buffered join does with each event of a run (<c>BufferedJoinOperator.ForEachInRun</c>); implemented by structs that wrap the operator.</summary>
/// <typeparam name="T">The side's payload type.</typeparam>
/// <typeparam name="TKey">The join key type.</typeparam>
internal interface IJoinRunStep<T, TKey>
{
    /// <summary>Called first for each event, with its start: evicts what ended at or before it.</summary>
    void Before(long start);

    /// <summary>An event whose key is null (it matches nothing).</summary>
    void WithoutKey(long start, long end, T payload);

    /// <summary>An event with a key.</summary>
    void Add(long start, long end, T payload, TKey key);
}
