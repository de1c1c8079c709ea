using LinqStream.Plan;

namespace LinqStream.Physical.Union;

internal sealed class UnionNode(IReadOnlyList<PlanNode> inputs) : PlanNode
{
    public override Type Type => inputs[0].Type;

    public override IReadOnlyList<PlanNode> Children => inputs;

    public override string Name => "Union";

    public override PlanNode Update(IReadOnlyList<PlanNode> children) => Same(children, inputs) ? this : new UnionNode(children);
}
