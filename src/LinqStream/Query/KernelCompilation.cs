using LinqStream.Physical.Kernels;
using LinqStream.Runtime;

namespace LinqStream.Query;

/// <summary>
/// The compiler's last stage: compiles the kernels of every node of a physical plan (event times, keys, Where/Select chains,
/// SelectMany selectors, aggregate inputs and results, join results), each through the node's <see cref="KernelCompiler"/>, so
/// a shape compiled before is reused from the cache. The chains that read one multicast of a replayed array's ingress are compiled
/// together, last, into one kernel of that multicast (issue #19).
/// </summary>
/// <remarks>Physical planning built the nodes with their kernels' lambdas only; after this stage, wiring a node compiles nothing.</remarks>
internal static class KernelCompilation
{
    /// <summary>Compiles the kernels of <paramref name="root"/> and every node below it; returns how many nodes had kernels.</summary>
    public static int Process(PhysicalNode root)
    {
        var seen = new HashSet<PhysicalNode>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<PhysicalNode>();
        stack.Push(root);
        int compiled = 0;
        Dictionary<Physical.Multicast.IFusesBranches, List<PhysicalNode>>? branches = null;
        while (stack.Count > 0)
        {
            var node = stack.Pop();
            if (!seen.Add(node))
            {
                continue;
            }

            if (node is ICompilesKernels owner)
            {
                owner.CompileKernels();
                compiled++;
            }

            if (node is Physical.Multicast.IMulticastBranchNode { FusableMulticast: { } multicast })
            {
                branches ??= new(ReferenceEqualityComparer.Instance);
                if (!branches.TryGetValue(multicast, out var chains))
                {
                    branches[multicast] = chains = [];
                }

                chains.Add(node);
            }

            foreach (var input in node.Inputs)
            {
                stack.Push(input);
            }
        }

        // A multicast of a replayed array's ingress: one kernel of all its chains, once every chain of the plan is known.
        if (branches is not null)
        {
            foreach (var (multicast, chains) in branches)
            {
                multicast.CompileBranchKernel(chains);
            }
        }

        return compiled;
    }
}
