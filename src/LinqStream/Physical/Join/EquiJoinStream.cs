using LinqStream.Physical.Kernels;
using LinqStream.Runtime;
using LinqStream.Temporal;

namespace LinqStream.Physical.Join;

/// <summary>What the physical nodes of the temporal equi-joins share: two inputs, the join's kernels, and the wiring of
/// <see cref="TemporalJoinOperator{TLeft, TRight, TKey, TResult}"/>. Each join kind's node (its folder beside this file)
/// only chooses its <see cref="JoinKind"/>, its name and its result selector, and documents its semantics.</summary>
internal abstract class EquiJoinStream<TLeft, TRight, TKey, TResult> : PhysicalStream<TResult>, ICompilesKernels
{
    private readonly PhysicalStream<TLeft> _left;
    private readonly PhysicalStream<TRight> _right;
    private readonly JoinKernels<TLeft, TRight, TKey, TResult> _kernels;

    private protected EquiJoinStream(PhysicalStream<TLeft> left, PhysicalStream<TRight> right, JoinKernels<TLeft, TRight, TKey, TResult> kernels)
    {
        _left = left;
        _right = right;
        _kernels = kernels;
    }

    public sealed override string Name => _kernels.OperatorName;

    /// <summary>The join condition, and the result selector for the kinds whose result the user writes.</summary>
    public override string Detail => $"{_kernels.Condition}, select {_kernels.ResultSelector}";

    public sealed override IReadOnlyList<PhysicalNode> Inputs => [_left, _right];

    private protected JoinKernels<TLeft, TRight, TKey, TResult> Kernels => _kernels;

    public void CompileKernels() => _kernels.CompileKernels();

    public sealed override void Connect(IStreamObserver<TResult> downstream, QueryContext context) => Build(downstream, context);

    /// <summary>Wires the operator and its inputs and returns the operator (tests read its state).</summary>
    internal TemporalJoinOperator<TLeft, TRight, TKey, TResult> Build(IStreamObserver<TResult> downstream, QueryContext context) =>
        JoinWiring.Build(_left, _right, downstream, context, _kernels);
}
