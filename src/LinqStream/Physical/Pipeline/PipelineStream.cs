using LinqStream.Physical.Kernels;
using LinqStream.Runtime;

namespace LinqStream.Physical.Pipeline;

/// <summary>The physical node of a filter/projection chain (one step, or several fused into one kernel).</summary>
internal sealed class PipelineStream<TIn, TOut> : PhysicalStream<TOut>, ICompilesKernels, Parallel.IPipelineNode, Parallel.IUnionSplittable<TOut>, Parallel.IRangeSplittable<TOut>
{
    private readonly PhysicalStream<TIn> _source;
    private readonly IReadOnlyList<PipelineKernelStep> _steps;
    private readonly KernelCompiler _compiler;
    private Action<TIn[], ulong[], TOut[]?, int>? _kernel;
    private Action<TIn[], int, long[], ulong[], TOut[], int>? _fusedKernel;

    public PipelineStream(PhysicalStream<TIn> source, IReadOnlyList<PipelineKernelStep> steps, KernelCompiler? kernels = null)
    {
        _source = source;
        _steps = steps;
        _compiler = kernels ?? KernelCompiler.Shared;
    }

    /// <summary>Over a union (possibly through other filters and projections): this chain applied to each of its inputs.</summary>
    public IReadOnlyList<PhysicalStream<TOut>>? SplitByUnionInput() =>
        (_source as Parallel.IUnionSplittable<TIn>)?.SplitByUnionInput() is { } inputs
            ? [.. inputs.Select(input => new PipelineStream<TIn, TOut>(input, _steps, _compiler))]
            : null;

    /// <summary>Over an array in start order: this chain applied to each of its parts.</summary>
    public IReadOnlyList<PhysicalStream<TOut>>? SplitIntoRanges(int count, int chunk) =>
        (_source as Parallel.IRangeSplittable<TIn>)?.SplitIntoRanges(count, chunk) is { } ranges
            ? [.. ranges.Select(range => new PipelineStream<TIn, TOut>(range, _steps, _compiler))]
            : null;

    public IReadOnlyList<PipelineKernelStep> Steps => _steps;

    public override string Name => _steps.Count == 1 ? _steps[0].OperatorName : "Fused[" + string.Join(" > ", _steps.Select(s => s.OperatorName)) + "]";

    public override string Detail => string.Join(" > ", _steps.Select(s => s.Lambda.ToString()));

    public override IReadOnlyList<PhysicalNode> Inputs => [_source];

    /// <remarks>
    /// Right after a replayed array's ingress (or a multicast of it) also the kernel that reads the array itself (<see cref="IngressPipelineKernel"/>), so
    /// that wiring compiles nothing; <see cref="Connect"/> uses it unless the options or metrics rule the fused ingress out.
    /// </remarks>
    public void CompileKernels()
    {
        _kernel ??= PipelineKernel.Compile<TIn, TOut>(_steps, _compiler);
        if (_fusedKernel is null && FusableIngress(_source) is { FusableStart: { } start })
        {
            _fusedKernel = IngressPipelineKernel.Compile<TIn, TOut>(start, _steps, _compiler);
        }
    }

    /// <summary>The ingress this chain could read the array of: its input, or the source of the multicast that is its input.</summary>
    private static Ingress.IngressStream<TIn>? FusableIngress(PhysicalStream<TIn> source) => source switch
    {
        Ingress.IngressStream<TIn> ingress => ingress,
        Multicast.MulticastStream<TIn> { Source: Ingress.IngressStream<TIn> ingress } => ingress,
        _ => null,
    };

    public override void Connect(IStreamObserver<TOut> downstream, QueryContext context)
    {
        CompileKernels(); // a no-op after the compiler's last stage
        var op = new PipelineOperator<TIn, TOut>(downstream, context, _kernel!, PipelineKernel.HasProjection(_steps), Name, Detail, Internal.QuerySites.Describe(_steps.Select(s => s.Lambda)));

        // Right after a replayed array's or list's ingress (or a multicast of it), the chain also reads the array itself, event times included: one pass over the
        // event objects instead of a copy, a time pass and a chain pass (IFusedIngress). Not with Fuse = false (the unfused plan, as
        // written), nor with metrics (the ingress then sends to a counter, not to this operator).
        if (context.Options.Fuse && context.Metrics is null && _fusedKernel is not null)
        {
            op.FuseWithIngress(_fusedKernel);
        }

        context.Wire(_source, op);
    }
}
