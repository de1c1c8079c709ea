using System.Linq.Expressions;
using LinqStream.Physical.Kernels;
using LinqStream.Runtime;
using LinqStream.Temporal;

namespace LinqStream.Physical.Join.Window;

/// <summary>The physical node of <see cref="WindowJoinNode"/>: an inner equi-join of two inputs windowed alike, joined a window at a time.</summary>
/// <remarks>
/// <para>Lifetimes: a left and a right event of the same window with equal keys (null keys never match) give
/// <c>resultSelector(left, right)</c>, living <c>[windowStart, min(ends))</c>, as the temporal join gives it.</para>
/// <para>State: the events of each input whose window is not joined yet (one window's worth in a steady run); nothing once joined.</para>
/// <para>Ordering: a window's results come out when both input watermarks pass its start, each right event's matches newest left
/// event first; the output watermark is the smaller of the two input watermarks.</para>
/// </remarks>
internal sealed class WindowJoinStream<TLeft, TRight, TKey, TResult> : PhysicalStream<TResult>, ICompilesKernels, Parallel.IBroadcastJoinNode, Parallel.IBroadcastJoin<TLeft, TRight, TResult>
{
    private readonly PhysicalStream<TLeft> _left;
    private readonly PhysicalStream<TRight> _right;
    private readonly JoinKernels<TLeft, TRight, TKey, TResult> _kernels;
    private readonly WindowSpec _window;

    public WindowJoinStream(
        PhysicalStream<TLeft> left, PhysicalStream<TRight> right, WindowSpec window, LambdaExpression leftKey, LambdaExpression rightKey, LambdaExpression resultSelector, KernelCompiler? kernels = null)
    {
        _left = left;
        _right = right;
        _window = window;
        // The user wrote a join: errors name it 'Join' and quote its lambdas, as the temporal join's do.
        _kernels = new JoinKernels<TLeft, TRight, TKey, TResult>(JoinKind.Inner, "Join", leftKey, rightKey, resultSelector, kernels ?? KernelCompiler.Shared);
    }

    public override string Name => "WindowJoin";

    public override string Detail => $"{_window}, {_kernels.Condition}, select {_kernels.ResultSelector}";

    public override IReadOnlyList<PhysicalNode> Inputs => [_left, _right];

    public void CompileKernels() => _kernels.CompileKernels();

    public override void Connect(IStreamObserver<TResult> downstream, QueryContext context)
    {
        if (context.BroadcastJoins?.ContainsKey(this) == true && _left is Parallel.IBroadcastKeyedNode<TLeft> keyed)
        {
            // The left input is split over P tasks and the right one broadcast to them: this join runs on every task (docs/parallelism.md).
            keyed.ConnectBroadcast(this, _right, downstream, context);
            return;
        }

        Build(downstream, context);
    }

    /// <summary>The join on one task of a broadcast plan: parallelism 1's heap operator, without its inputs.</summary>
    Parallel.ITaskJoin<TLeft, TRight> Parallel.IBroadcastJoin<TLeft, TRight, TResult>.CreateTaskJoin(IStreamObserver<TResult> downstream, QueryContext context) =>
        new WindowJoinOperator<TLeft, TRight, TKey, TResult>(downstream, context, _kernels, _window.Size);

    /// <summary>Wires the operator and its inputs and returns the operator (tests read its state).</summary>
    internal WindowJoinOperator<TLeft, TRight, TKey, TResult> Build(IStreamObserver<TResult> downstream, QueryContext context)
    {
        // A job with a state backend other than the heap keeps the waiting events beyond its hot budget in the backend's store
        // (docs/state.md); otherwise (and always outside jobs) the heap operator, unchanged.
        var join = context.KeyedState is { } stores
            ? new SpilledWindowJoinOperator<TLeft, TRight, TKey, TResult>(downstream, context, _kernels, _window.Size, stores)
            : new WindowJoinOperator<TLeft, TRight, TKey, TResult>(downstream, context, _kernels, _window.Size);
        context.Wire(_left, join.Left);
        context.Wire(_right, join.Right);
        return join;
    }
}
