namespace LinqStream.Runtime;

/// <summary>A node of the physical plan: a recipe that wires operators into a running query.</summary>
internal abstract class PhysicalNode
{
    /// <summary>Gets the operator's name as <c>Explain()</c> prints it.</summary>
    public abstract string Name { get; }

    /// <summary>Gets what the printer shows after the name (the user's expression, window sizes, ...).</summary>
    public virtual string Detail => string.Empty;

    public abstract IReadOnlyList<PhysicalNode> Inputs { get; }
}

/// <summary>A physical stream of <typeparamref name="T"/>: <see cref="Connect"/> builds its operators and registers its sources.</summary>
internal abstract class PhysicalStream<T> : PhysicalNode
{
    /// <summary>Wires this stream's operators so that they push into <paramref name="downstream"/>.</summary>
    public abstract void Connect(IStreamObserver<T> downstream, QueryContext context);
}
