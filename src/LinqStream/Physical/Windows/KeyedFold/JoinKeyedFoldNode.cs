using System.Linq.Expressions;
using LinqStream.Plan;

namespace LinqStream.Physical.Windows.KeyedFold;

/// <summary>
/// A <see cref="KeyedFoldNode"/> fused with the inner join below it and the filters and projections between them: one operator
/// whose live close (a left event) caches the slot of its group, so a matching right event is filtered, projected and folded where
/// the join finds its pair, with no pair batch, no chain operator and no group lookup per pair.
/// </summary>
/// <remarks>
/// <para>Made by <c>JoinKeyedFoldFusionPass</c> from what <c>ExpiryJoinToKeyedFoldPass</c> made, never by translation:</para>
/// <code>
/// KeyedFold[k, agg, R](steps(Join(closes, E, lk, rk, pair)))  →  JoinKeyedFold(closes, E, lk, rk, pair, steps, k, agg, R)
/// </code>
/// <para>
/// <see cref="Pair"/> is the join's tagged result <c>(a, e) =&gt; new Closing&lt;T&gt;(t(a), r(a, e))</c>; <see cref="Steps"/> the
/// chain over it, bottom first; <see cref="Fold"/>'s key and input read the chain's last value (a <c>Closing&lt;X&gt;</c>), as
/// the fold's did; its result is <c>(key, windowStart, windowEnd, aggregateResult) =&gt; result</c>.
/// </para>
/// </remarks>
internal sealed class JoinKeyedFoldNode(
    PlanNode left,
    PlanNode right,
    LambdaExpression leftKey,
    LambdaExpression rightKey,
    LambdaExpression pair,
    IReadOnlyList<PipelineStep> steps,
    KeyedFoldSpec fold) : PlanNode
{
    public PlanNode Left { get; } = left;

    public PlanNode Right { get; } = right;

    public LambdaExpression LeftKey { get; } = leftKey;

    public LambdaExpression RightKey { get; } = rightKey;

    /// <summary>Gets the join's tagged result <c>(a, e) =&gt; Closing&lt;T&gt;</c>.</summary>
    public LambdaExpression Pair { get; } = pair;

    /// <summary>Gets the filters and projections between the join and the fold, bottom first.</summary>
    public IReadOnlyList<PipelineStep> Steps { get; } = steps;

    /// <summary>Gets the fold (the replaced <see cref="KeyedFoldNode"/>'s): its key and input read the chain's last value.</summary>
    public KeyedFoldSpec Fold { get; } = fold;

    public override Type Type => Fold.Result.ReturnType;

    public override IReadOnlyList<PlanNode> Children => [Left, Right];

    public override string Name => "JoinKeyedFold";

    public override string Detail =>
        $"{LeftKey} == {RightKey}, pair: {Pair}{string.Concat(Steps.Select(s => ", " + s))}, {Fold}";

    /// <summary>The same node with other lambdas (the plan cache's rebinding).</summary>
    public JoinKeyedFoldNode With(PlanNode left, PlanNode right, Func<LambdaExpression, LambdaExpression> rebind) =>
        new(left, right, rebind(LeftKey), rebind(RightKey), rebind(Pair), [.. Steps.Select(s => new PipelineStep(s.IsFilter, rebind(s.Lambda)))], Fold.With(rebind));

    public override PlanNode Update(IReadOnlyList<PlanNode> children) =>
        ReferenceEquals(children[0], Left) && ReferenceEquals(children[1], Right) ? this : With(children[0], children[1], static l => l);
}
