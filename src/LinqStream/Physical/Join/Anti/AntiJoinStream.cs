using System.Linq.Expressions;
using LinqStream.Physical.Kernels;
using LinqStream.Runtime;
using LinqStream.Temporal;

namespace LinqStream.Physical.Join.Anti;

/// <summary>The physical node of a temporal anti-join (<c>WhereNotExists</c>): the left events that no right event with an equal key overlaps.</summary>
/// <remarks>
/// <para>Lifetimes: a left event is emitted unchanged iff no right event with an equal key overlaps its lifetime
/// <c>[Start, End)</c>; a left event with a null key is always emitted (null equals nothing).</para>
/// <para>State: the input that is ahead is buffered; per key, the right events alive at the watermark and the left
/// events not decided yet. A left event that meets a right event is dropped at once.</para>
/// <para>Ordering: that no right event overlaps a left event is known only when the watermark passes its end; events
/// come out in start order, and the output watermark stays at or below the start of the earliest undecided left event
/// (or the smaller input watermark when there is none).</para>
/// </remarks>
internal sealed class AntiJoinStream<TLeft, TRight, TKey> : PhysicalStream<TLeft>, ICompilesKernels
{
    private readonly PhysicalStream<TLeft> _left;
    private readonly PhysicalStream<TRight> _right;
    private readonly JoinKernels<TLeft, TRight, TKey, TLeft> _kernels;

    public AntiJoinStream(PhysicalStream<TLeft> left, PhysicalStream<TRight> right, LambdaExpression leftKey, LambdaExpression rightKey, KernelCompiler? kernels = null)
    {
        _left = left;
        _right = right;
        _kernels = new JoinKernels<TLeft, TRight, TKey, TLeft>(
            JoinKind.Anti, "WhereNotExists", leftKey, rightKey, JoinResultKernel.LeftItself<TLeft, TRight>(), kernels ?? KernelCompiler.Shared);
    }

    public override string Name => _kernels.OperatorName;

    public override string Detail => _kernels.Condition;

    public override IReadOnlyList<PhysicalNode> Inputs => [_left, _right];

    public void CompileKernels() => _kernels.CompileKernels();

    public override void Connect(IStreamObserver<TLeft> downstream, QueryContext context) => Build(downstream, context);

    /// <summary>Wires the operator and its inputs and returns the operator (tests read its state).</summary>
    internal TemporalJoinOperator<TLeft, TRight, TKey, TLeft> Build(IStreamObserver<TLeft> downstream, QueryContext context) =>
        JoinWiring.Build(_left, _right, downstream, context, _kernels);
}
