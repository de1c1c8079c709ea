using System.Linq.Expressions;
using LinqStream.Plan;
using LinqStream.Temporal;

namespace LinqStream.Physical.Join.Window;

/// <summary>
/// An inner equi-join of two streams whose events all live for one tumbling window of the same size: each window's events of
/// the two sides are joined once, when both watermarks have passed the window's start.
/// </summary>
/// <remarks>
/// Made by <c>TumblingJoinToWindowJoinPass</c>, never by translation, from a <see cref="JoinNode"/> whose inputs it proved to
/// be windowed alike (<see cref="Window"/>): then two events overlap exactly when they start together, so the temporal join's
/// answer (the same pairs, lifetimes <c>[max(starts), min(ends))</c>, order and watermarks) is computed from per-window buffers
/// instead of per-event live state. <see cref="LeftKey"/>, <see cref="RightKey"/> and <see cref="Result"/> are the join's.
/// </remarks>
internal sealed class WindowJoinNode(PlanNode left, PlanNode right, WindowSpec window, LambdaExpression leftKey, LambdaExpression rightKey, LambdaExpression result)
    : PlanNode
{
    public PlanNode Left { get; } = left;

    public PlanNode Right { get; } = right;

    /// <summary>Gets the tumbling window both inputs' lifetimes were proven to follow.</summary>
    public WindowSpec Window { get; } = window;

    public LambdaExpression LeftKey { get; } = leftKey;

    public LambdaExpression RightKey { get; } = rightKey;

    public LambdaExpression Result { get; } = result;

    public override Type Type => Result.ReturnType;

    public override IReadOnlyList<PlanNode> Children => [Left, Right];

    public override string Name => "WindowJoin";

    public override string Detail => $"{Window}, {LeftKey} == {RightKey}, select: {Result}";

    public override PlanNode Update(IReadOnlyList<PlanNode> children) =>
        ReferenceEquals(children[0], Left) && ReferenceEquals(children[1], Right) ? this : new WindowJoinNode(children[0], children[1], Window, LeftKey, RightKey, Result);
}
