using LinqStream.Physical.Kernels;
using LinqStream.Runtime;

namespace LinqStream.Physical.Windows.KeyedFold;

/// <summary>The physical node of <see cref="JoinKeyedFoldNode"/>: the join of the closes with the events they close, its chain and the keyed fold, in one operator.</summary>
/// <remarks>
/// <para>Lifetimes: a group closing at <c>c</c> gives one result living <c>[c, c + 1)</c>, as <c>KeyedFold</c>.</para>
/// <para>State: the join's live events of both inputs (one per open close; right point events are not kept) and one aggregate state
/// per open group; nothing per pair.</para>
/// <para>Ordering: both inputs are buffered until both watermarks pass them; groups come out when the watermark passes their close,
/// by close time, then in stable key order (a null key first); the watermark is forwarded after them.</para>
/// </remarks>
internal sealed class JoinKeyedFoldStream<TLeft, TRight, TKey, TFoldKey, TIn, TState, TAggResult, TAggregate, TResult> : PhysicalStream<TResult>, ICompilesKernels
    where TFoldKey : notnull
    where TAggregate : IAggregate<TIn, TState, TAggResult>
{
    private readonly PhysicalStream<TLeft> _left;
    private readonly PhysicalStream<TRight> _right;
    private readonly JoinKeyedFoldKernels<TLeft, TRight, TKey, TFoldKey, TIn, TAggResult, TResult> _kernels;
    private readonly TAggregate _aggregate;
    private readonly string _detail;

    public JoinKeyedFoldStream(PhysicalStream<TLeft> left, PhysicalStream<TRight> right, JoinKeyedFoldLambdas lambdas, TAggregate aggregate, string detail, KernelCompiler? kernels = null)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        _left = left;
        _right = right;
        _kernels = new JoinKeyedFoldKernels<TLeft, TRight, TKey, TFoldKey, TIn, TAggResult, TResult>(lambdas, kernels);
        _aggregate = aggregate;
        _detail = detail;
    }

    public override string Name => "JoinKeyedFold";

    public override string Detail => _detail;

    public override IReadOnlyList<PhysicalNode> Inputs => [_left, _right];

    public void CompileKernels() => _kernels.CompileKernels();

    public override void Connect(IStreamObserver<TResult> downstream, QueryContext context) => Build(downstream, context);

    /// <summary>Wires the operator and its inputs and returns the operator (tests read its state).</summary>
    internal JoinKeyedFoldOperator<TLeft, TRight, TKey, TFoldKey, TIn, TState, TAggResult, TAggregate, TResult> Build(IStreamObserver<TResult> downstream, QueryContext context)
    {
        if (context.KeyedState is not null)
        {
            // ToJob compiles a job with keyed state off the heap without this fusion (JoinKeyedFoldFusionPass): its join spills.
            throw new InvalidOperationException("JoinKeyedFold keeps its live closes on the heap; a plan for a job with keyed state off the heap must not contain it.");
        }

        var fold = new JoinKeyedFoldOperator<TLeft, TRight, TKey, TFoldKey, TIn, TState, TAggResult, TAggregate, TResult>(downstream, context, _kernels, _aggregate);
        context.Wire(_left, fold.Left);
        context.Wire(_right, fold.Right);
        return fold;
    }
}
