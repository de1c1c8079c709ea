using LinqStream.Runtime;
using LinqStream.Temporal;

namespace LinqStream.Physical.Join;

/// <summary>
/// An equi-join that buffers each input's batches until both watermarks pass them, then processes the buffered events of both
/// sides in merged start order, left first on ties (<c>TemporalJoinOperator</c>, and <c>JoinKeyedFoldOperator</c> which folds its
/// pairs): the two input queues and the merge, shared.
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

    /// <summary>Processes the left head batch's events up to start <paramref name="bound"/> (inclusive); called once per run of events, not per event.</summary>
    private protected abstract void ProcessLeftRun(long bound);

    /// <summary>Processes the right head batch's events up to start <paramref name="bound"/> (inclusive).</summary>
    private protected abstract void ProcessRightRun(long bound);

    /// <summary>Processes the buffered events of both sides with <c>Start &lt; limit</c> (all of them when the limit is +infinity).</summary>
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
