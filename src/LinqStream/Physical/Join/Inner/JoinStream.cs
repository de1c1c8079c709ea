using System.Linq.Expressions;
using LinqStream.Physical.Kernels;
using LinqStream.Runtime;
using LinqStream.Temporal;

namespace LinqStream.Physical.Join.Inner;

/// <summary>The physical node of a temporal inner equi-join (<c>join ... on ... equals ...</c>).</summary>
/// <remarks>
/// <para>Lifetimes: a left and a right event match when their keys are equal (null keys never match) and their lifetimes
/// <c>[Start, End)</c> overlap; the result <c>resultSelector(left, right)</c> lives in the intersection
/// <c>[max(starts), min(ends))</c>.</para>
/// <para>State: the input that is ahead is buffered until the other input's watermark catches up; per key, the events of
/// each side alive at the watermark are kept, and freed when the watermark passes their end.</para>
/// <para>Ordering: results come out in start order as soon as both watermarks pass their start; the output watermark is
/// the smaller of the two input watermarks.</para>
/// </remarks>
internal sealed class JoinStream<TLeft, TRight, TKey, TResult> : PhysicalStream<TResult>, ICompilesKernels
{
    private readonly PhysicalStream<TLeft> _left;
    private readonly PhysicalStream<TRight> _right;
    private readonly JoinKernels<TLeft, TRight, TKey, TResult> _kernels;

    public JoinStream(PhysicalStream<TLeft> left, PhysicalStream<TRight> right, LambdaExpression leftKey, LambdaExpression rightKey, LambdaExpression resultSelector, KernelCompiler? kernels = null)
    {
        _left = left;
        _right = right;
        _kernels = new JoinKernels<TLeft, TRight, TKey, TResult>(JoinKind.Inner, "Join", leftKey, rightKey, resultSelector, kernels ?? KernelCompiler.Shared);
    }

    public override string Name => _kernels.OperatorName;

    public override string Detail => $"{_kernels.Condition}, select {_kernels.ResultSelector}";

    public override IReadOnlyList<PhysicalNode> Inputs => [_left, _right];

    public void CompileKernels() => _kernels.CompileKernels();

    public override void Connect(IStreamObserver<TResult> downstream, QueryContext context) => Build(downstream, context);

    /// <summary>Wires the operator and its inputs and returns the operator (tests read its state).</summary>
    internal TemporalJoinOperator<TLeft, TRight, TKey, TResult> Build(IStreamObserver<TResult> downstream, QueryContext context) =>
        JoinWiring.Build(_left, _right, downstream, context, _kernels);
}
