using System.Linq.Expressions;
using LinqStream.Plan;
using LinqStream.Temporal;

namespace LinqStream.Physical.Join;

internal sealed class JoinNode(PlanNode left, PlanNode right, JoinKind kind, LambdaExpression leftKey, LambdaExpression rightKey, LambdaExpression? result) : PlanNode
{
    public PlanNode Left { get; } = left;

    public PlanNode Right { get; } = right;

    public JoinKind Kind { get; } = kind;

    public LambdaExpression LeftKey { get; } = leftKey;

    public LambdaExpression RightKey { get; } = rightKey;

    public LambdaExpression? Result { get; } = result;

    public override Type Type => Result?.ReturnType ?? Left.Type;

    public override IReadOnlyList<PlanNode> Children => [Left, Right];

    public override string Name => Kind switch { JoinKind.Inner => "Join", JoinKind.LeftOuter => "LeftJoin", _ => "WhereNotExists" };

    public override string Detail => $"{LeftKey} == {RightKey}{(Result is null ? string.Empty : ", select: " + Result)}";

    public override PlanNode Update(IReadOnlyList<PlanNode> children) =>
        ReferenceEquals(children[0], Left) && ReferenceEquals(children[1], Right) ? this : new JoinNode(children[0], children[1], Kind, LeftKey, RightKey, Result);
}
