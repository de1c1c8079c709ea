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
        var join = new TemporalJoinOperator<TLeft, TRight, TKey, TResult>(downstream, context, kernels);
        context.Wire(left, join.Left);
        context.Wire(right, join.Right);
        return join;
    }
}
