using LinqStream.Runtime;

namespace LinqStream.Physical.Union;

/// <summary>Merges two or more streams of the same type into one, in start order (<c>Union</c>, <c>Merge</c>).</summary>
/// <remarks>
/// Lifetime: unchanged. State: the events of an input that is ahead, buffered until the other inputs' progress passes
/// them. Order and watermarks: output is in start order, ties from the lower input first (docs/semantics.md §8); the output watermark is the
/// minimum of the inputs' watermarks; the output completes when every input completed, and the first error of any input
/// goes downstream once.
/// </remarks>
internal sealed class UnionStream<T> : PhysicalStream<T>, Parallel.IUnionSplittable<T>
{
    private readonly PhysicalStream<T>[] _inputs;

    public UnionStream(PhysicalStream<T> left, PhysicalStream<T> right)
        : this([left, right])
    {
    }

    public UnionStream(IReadOnlyList<PhysicalStream<T>> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count == 0)
        {
            throw new ArgumentException("A union needs at least one input.", nameof(inputs));
        }

        _inputs = new PhysicalStream<T>[inputs.Count];
        for (int i = 0; i < inputs.Count; i++)
        {
            _inputs[i] = inputs[i] ?? throw new ArgumentNullException(nameof(inputs));
        }
    }

    public override string Name => "Union";

    public override IReadOnlyList<PhysicalNode> Inputs => _inputs;

    /// <summary>Gets the inputs, typed (a parallel run reads each on a source task).</summary>
    public IReadOnlyList<PhysicalStream<T>>? SplitByUnionInput() => _inputs;

    public override void Connect(IStreamObserver<T> downstream, QueryContext context)
    {
        var union = new UnionOperator<T>(downstream, context, _inputs.Length);
        for (int i = 0; i < _inputs.Length; i++)
        {
            context.Wire(_inputs[i], union.Input(i));
        }
    }
}
