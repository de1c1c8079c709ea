using LinqStream.Runtime;

namespace LinqStream.Physical.Multicast;

/// <summary>
/// One consumer of a multicast ingress that can read the array slice itself (a fused filter/projection chain): a multicast over a
/// replayed array is fused only when every consumer is one (<see cref="MulticastOperator{T}"/>, docs/architecture.md, "Fused
/// ingress"). The multicast rents each branch's output columns (<see cref="TryRentColumns"/>), runs the one kernel of all its
/// chains over the slice (<see cref="MulticastBranchKernel{T}"/>), checks the order of the starts once, and then has every branch
/// send its events in the multicast's order (<see cref="SendColumns"/>), or drop them all (<see cref="DiscardPending"/>).
/// </summary>
internal interface IFusedBranch<T>
{
    /// <summary>Gets the plan node of the chain when it may read the ingress's slice (the multicast's kernel names its chains by node); otherwise null.</summary>
    PhysicalNode? FusedNode { get; }

    /// <summary>
    /// Rents the batch the multicast's kernel writes this chain's present events of a slice of <paramref name="count"/> events into
    /// (starts and payloads, from index 0), held pending; false, with nothing pending, when the branch failed.
    /// </summary>
    bool TryRentColumns(int count, out long[] start, out Array payload);

    /// <summary>Sends the first <paramref name="count"/> events of the pending batch on (ends of point events written), or gives it back when there are none.</summary>
    void SendColumns(int count);

    /// <summary>Gives back the pending batch, if any, unsent.</summary>
    void DiscardPending();
}

/// <summary>
/// The plan node of a filter/projection chain right after a multicast of a replayed array's ingress: what the multicast's one
/// kernel of all its chains needs of each (<see cref="MulticastStream{T}.CompileBranchKernel"/>).
/// </summary>
internal interface IMulticastChain<TIn>
{
    /// <summary>Gets the chain's steps, in order.</summary>
    IReadOnlyList<Pipeline.PipelineKernelStep> Steps { get; }

    /// <summary>Gets the type of the chain's output events.</summary>
    Type OutputType { get; }

    /// <summary>Gets the compiler the chain's kernels go through (the cache).</summary>
    Kernels.KernelCompiler Compiler { get; }
}

/// <summary>A plan node that may be one of the fused chains of a multicast (<see cref="IMulticastChain{TIn}"/>): the compiler groups them by multicast.</summary>
internal interface IMulticastBranchNode
{
    /// <summary>Gets the multicast this node reads, when it is one of a replayed array's ingress and the node a chain; otherwise null.</summary>
    IFusesBranches? FusableMulticast { get; }
}

/// <summary>A multicast whose consumers' chains may be compiled into one kernel by the compiler's last stage (Query/KernelCompilation.cs).</summary>
internal interface IFusesBranches
{
    /// <summary>Compiles the one kernel of <paramref name="branches"/> (every chain of the plan that reads this multicast), once.</summary>
    void CompileBranchKernel(IReadOnlyList<PhysicalNode> branches);
}

/// <summary>The one kernel of a multicast's chains (<see cref="Pipeline.MulticastIngressKernel"/>) and the chains' nodes in its order.</summary>
/// <param name="Chains">The chains' plan nodes: chain <c>k</c> writes <c>columns[2k]</c> and <c>columns[2k + 1]</c>.</param>
/// <param name="Run">The kernel: <c>(source, offset, starts, columns, counts, count)</c>.</param>
internal sealed record MulticastBranchKernel<T>(PhysicalNode[] Chains, Action<T[], int, long[], object[], int[], int> Run);
