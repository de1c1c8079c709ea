namespace LinqStream.Runtime;

/// <summary>
/// A kernel compiled when it is first needed, or when <see cref="Compile"/> asks for it: the fallback kernels of a fused replay
/// (issue #19). A chain right after a replayed array's ingress runs its fused kernel (<c>IngressPipelineKernel</c>: event times
/// and the chain in one pass); the chain's own kernel and the ingress's event-time kernel only run for a slice that falls back
/// (out of order, a late event, a selector that throws) or when fusion is off at run time, so they are not compiled with the
/// query's other kernels: a new query's first result waits for one compile instead of three.
/// </summary>
/// <remarks>
/// Thread-safe: two tasks asking at once may both compile (through the kernel cache, so the second finds the first's shape),
/// and either delegate is the same code.
/// </remarks>
internal sealed class DeferredKernel<TDelegate>
    where TDelegate : Delegate
{
    private readonly Func<TDelegate>? _compile;
    private TDelegate? _kernel;

    /// <summary>Initializes a kernel that <paramref name="compile"/> compiles on first use.</summary>
    public DeferredKernel(Func<TDelegate> compile) => _compile = compile;

    /// <summary>Initializes a kernel compiled already.</summary>
    public DeferredKernel(TDelegate kernel) => _kernel = kernel;

    /// <summary>Gets the kernel, compiling it first if it is not yet.</summary>
    public TDelegate Kernel => Volatile.Read(ref _kernel) ?? Compile();

    /// <summary>Compiles the kernel now unless it is compiled already; returns it.</summary>
    public TDelegate Compile()
    {
        if (Volatile.Read(ref _kernel) is { } kernel)
        {
            return kernel;
        }

        kernel = _compile!();
        Volatile.Write(ref _kernel, kernel);
        return kernel;
    }
}
