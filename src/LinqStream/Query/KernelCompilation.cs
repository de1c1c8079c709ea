using LinqStream.Physical.Kernels;
using LinqStream.Runtime;

namespace LinqStream.Query;

/// <summary>
/// The compiler's last stage: compiles the kernels of every node of a physical plan (event times, keys, Where/Select chains,
/// SelectMany selectors, aggregate inputs and results, join results), each through the node's <see cref="KernelCompiler"/>, so
/// a shape compiled before is reused from the cache.
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

            foreach (var input in node.Inputs)
            {
                stack.Push(input);
            }
        }

        return compiled;
    }
}
