namespace LinqStream.Plan;

/// <summary>An immutable node of the logical plan.</summary>
/// <remarks><see cref="Update"/> returns the same instance when nothing changed, so a pass can tell cheaply whether it did any work.</remarks>
internal abstract class PlanNode
{
    /// <summary>Gets the payload type of the stream this node produces.</summary>
    public abstract Type Type { get; }

    public abstract IReadOnlyList<PlanNode> Children { get; }

    /// <summary>Gets the operator name the printer shows.</summary>
    public abstract string Name { get; }

    /// <summary>Gets the printer's details (the user's lambdas, sizes).</summary>
    public virtual string Detail => string.Empty;

    public abstract PlanNode Update(IReadOnlyList<PlanNode> children);

    protected static bool Same(IReadOnlyList<PlanNode> a, IReadOnlyList<PlanNode> b)
    {
        if (a.Count != b.Count)
        {
            return false;
        }

        for (int i = 0; i < a.Count; i++)
        {
            if (!ReferenceEquals(a[i], b[i]))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>A node with one input.</summary>
internal abstract class UnaryNode(PlanNode source) : PlanNode
{
    public PlanNode Source { get; } = source;

    public override IReadOnlyList<PlanNode> Children => [Source];

    public override PlanNode Update(IReadOnlyList<PlanNode> children) => ReferenceEquals(children[0], Source) ? this : With(children[0]);

    protected abstract PlanNode With(PlanNode source);
}
