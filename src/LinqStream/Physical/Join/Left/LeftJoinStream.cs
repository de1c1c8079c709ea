using System.Linq.Expressions;
using LinqStream.Physical.Kernels;
using LinqStream.Runtime;
using LinqStream.Temporal;

namespace LinqStream.Physical.Join.Left;

/// <summary>The physical node of a temporal left outer equi-join (<c>LeftJoin</c>).</summary>
/// <remarks>
/// <para>Lifetimes: every result of the inner join (the intersection of each overlapping pair with equal keys), plus, for
/// each left event that overlaps no right event with an equal key during its whole lifetime, one result
/// <c>resultSelector(left, default(TRight))</c> with the left event's lifetime. A left event with a null key matches
/// nothing and so always gives the second kind of result.</para>
/// <para>State: as the inner join, plus the left events not yet decided and the inner results held back behind them.
/// That a left event found no match is known only when the watermark passes its end.</para>
/// <para>Ordering: results come out in start order, so they are held back: the output watermark stays at or below the
/// start of the earliest left event that has no match yet and whose end the watermark has not passed (or the smaller
/// input watermark when there is none). A long-lived unmatched left event therefore delays every later result until its
/// end.</para>
/// </remarks>
internal sealed class LeftJoinStream<TLeft, TRight, TKey, TResult> : PhysicalStream<TResult>, ICompilesKernels
{
    private readonly PhysicalStream<TLeft> _left;
    private readonly PhysicalStream<TRight> _right;
    private readonly JoinKernels<TLeft, TRight, TKey, TResult> _kernels;

    public LeftJoinStream(PhysicalStream<TLeft> left, PhysicalStream<TRight> right, LambdaExpression leftKey, LambdaExpression rightKey, LambdaExpression resultSelector, KernelCompiler? kernels = null)
    {
        _left = left;
        _right = right;
        _kernels = new JoinKernels<TLeft, TRight, TKey, TResult>(JoinKind.LeftOuter, "LeftJoin", leftKey, rightKey, resultSelector, kernels ?? KernelCompiler.Shared);
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
