namespace LinqStream.Physical.Kernels;

/// <summary>
/// A physical node with kernels: physical planning builds it with their lambdas (the kernel shapes) and compiles nothing; the
/// compiler's last stage (Query/KernelCompilation.cs) calls <see cref="CompileKernels"/> on every node of the plan.
/// </summary>
/// <remarks>
/// <see cref="CompileKernels"/> is idempotent, and a node's <c>Connect</c> calls it too, so a node built directly (a test, a
/// benchmark) still runs; in a compiled query it is then a no-op.
/// </remarks>
internal interface ICompilesKernels
{
    /// <summary>Compiles this node's kernels through its <see cref="KernelCompiler"/> (the cache), once.</summary>
    void CompileKernels();
}
