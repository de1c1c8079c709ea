using LinqStream.Runtime;

namespace LinqStream.Physical.Multicast;

/// <summary>A sub-plan used by several consumers, computed once per run (<c>Publish</c>, a query used twice).</summary>
/// <remarks>
/// Lifetime: unchanged. State: none; each batch is handed to every consumer (a pooled copy for all but one, since
/// consumers may rewrite the batch they own). Order and watermarks: every consumer sees the source's batches, watermarks,
/// completion and error as they come. Over a replayed array's ingress whose consumers are all filter/projection chains, the
/// compiler's last stage compiles one kernel of every chain (<see cref="CompileBranchKernel"/>), which reads each slice of the
/// array once for all of them (issue #19).
/// </remarks>
internal sealed class MulticastStream<T> : PhysicalStream<T>, IFusesBranches
{
    private readonly PhysicalStream<T> _source;
    private MulticastBranchKernel<T>? _branchKernel;

    public MulticastStream(PhysicalStream<T> source)
    {
        ArgumentNullException.ThrowIfNull(source);
        _source = source;
    }

    /// <summary>Gets the shared sub-plan.</summary>
    public PhysicalStream<T> Source => _source;

    /// <summary>Gets a value indicating whether the source is an ingress whose array slices the chains after this multicast may read themselves.</summary>
    public bool IsOverFusableIngress => _source is Ingress.IngressStream<T> { FusableStart: not null };

    /// <summary>Gets the one kernel of the chains that read this multicast, once the compiler's last stage compiled it; otherwise null.</summary>
    internal MulticastBranchKernel<T>? BranchKernel => _branchKernel;

    public override string Name => "Multicast";

    public override IReadOnlyList<PhysicalNode> Inputs => [_source];

    /// <inheritdoc/>
    /// <remarks>
    /// Compiled for the chains in the order given (the plan's walk); the operator maps its consumers to them at wiring, whatever
    /// order they connect in. Only when the source is a fusable ingress (<see cref="Ingress.IngressStream{T}.FusableStart"/>) and
    /// every node given is a chain of this multicast's element type; idempotent for the same chains.
    /// </remarks>
    public void CompileBranchKernel(IReadOnlyList<PhysicalNode> branches)
    {
        if (_branchKernel is { } compiled && compiled.Chains.Length == branches.Count && compiled.Chains.Select((c, k) => ReferenceEquals(c, branches[k])).All(same => same))
        {
            return;
        }

        if (branches.Count == 0 || _source is not Ingress.IngressStream<T> { FusableStart: { } start })
        {
            return;
        }

        var chains = new IMulticastChain<T>[branches.Count];
        for (int k = 0; k < chains.Length; k++)
        {
            if (branches[k] is not IMulticastChain<T> chain)
            {
                return;
            }

            chains[k] = chain;
        }

        var kernel = Pipeline.MulticastIngressKernel.Compile<T>(
            start, [.. chains.Select(c => c.Steps)], [.. chains.Select(c => c.OutputType)], chains[0].Compiler);
        _branchKernel = new MulticastBranchKernel<T>([.. branches], kernel);
    }

    /// <summary>The first call in a run wires the source into a new fan-out; later calls only add consumers to it.</summary>
    public override void Connect(IStreamObserver<T> downstream, QueryContext context)
    {
        var fanOut = context.GetOrAdd(this, () => new MulticastOperator<T>(context, _branchKernel));
        bool first = fanOut.ConsumerCount == 0;
        fanOut.AddConsumer(downstream);
        if (first)
        {
            context.Wire(_source, fanOut);
        }
    }
}
