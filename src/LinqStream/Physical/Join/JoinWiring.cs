using LinqStream.Runtime;

namespace LinqStream.Physical.Join;

/// <summary>Wires a temporal join operator between its two inputs and its downstream.</summary>
internal static class JoinWiring
{
    public static TemporalJoinOperator<TLeft, TRight, TKey, TResult> Build<TLeft, TRight, TKey, TResult>(
        PhysicalStream<TLeft> left,
        PhysicalStream<TRight> right,
        IStreamObserver<TResult> downstream,
        QueryContext context,
        JoinKernels<TLeft, TRight, TKey, TResult> kernels)
    {
        // The job's state backend decides, once: the heap operator, or the variant whose live events spill to the store.
        var join = context.KeyedState is { } stores
            ? new Spilled.SpilledTemporalJoinOperator<TLeft, TRight, TKey, TResult>(downstream, context, kernels, stores)
            : new TemporalJoinOperator<TLeft, TRight, TKey, TResult>(downstream, context, kernels);
        context.Wire(left, join.Left);
        context.Wire(right, join.Right);
        return join;
    }
}
