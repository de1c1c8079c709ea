using LinqStream.Physical.Kernels;

namespace LinqStream.Query;

/// <summary>What the stages of one query's compilation share: its options, its diagnostics, and how kernels are compiled.</summary>
internal sealed class QueryCompilationContext(Type resultType, KernelCompiler kernels)
{
    /// <summary>Gets the element type of the query's result stream.</summary>
    public Type ResultType { get; } = resultType;

    /// <summary>Gets or sets the query's options; translation sets them from <c>WithOptions</c>.</summary>
    public QueryOptions Options { get; set; } = QueryOptions.Default;

    /// <summary>Gets the diagnostics <c>Explain()</c> prints after the plan: each pass and whether it applied, then each fallback and why.</summary>
    public List<string> Log { get; } = [];

    /// <summary>Gets what the optimized plan reads of each source's events (set after the logical passes; physical planning hands it to each ingress).</summary>
    public Dictionary<Physical.Ingress.SourceNode, SourceMembers> MembersRead { get; set; } = new(ReferenceEqualityComparer.Instance);

    /// <summary>Gets or sets a value indicating whether the query runs in a job whose keyed state is off the heap (the RocksDB backend); the optimizer then keeps the plan's spilled forms.</summary>
    public bool KeyedStateOffHeap { get; set; }

    /// <summary>Gets the kernel compiler: the cache of compiled kernels, keyed by shape, with captured values lifted as parameters.</summary>
    public KernelCompiler Kernels { get; } = kernels;
}
