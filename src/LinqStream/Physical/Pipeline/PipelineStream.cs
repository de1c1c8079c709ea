using LinqStream.Physical.Kernels;
using LinqStream.Runtime;

namespace LinqStream.Physical.Pipeline;

/// <summary>The physical node of a filter/projection chain (one step, or several fused into one kernel).</summary>
internal sealed class PipelineStream<TIn, TOut> : PhysicalStream<TOut>, ICompilesKernels, Multicast.IMulticastChain<TIn>, Multicast.IMulticastBranchNode, Parallel.IPipelineNode, Parallel.IUnionSplittable<TOut>, Parallel.IRangeSplittable<TOut>
{
    private readonly PhysicalStream<TIn> _source;
    private readonly IReadOnlyList<PipelineKernelStep> _steps;
    private readonly KernelCompiler _compiler;
    private DeferredKernel<Action<TIn[], ulong[], TOut[]?, int>>? _kernel;
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

    /// <summary>Gets the type of the chain's output events.</summary>
    public Type OutputType => typeof(TOut);

    /// <summary>Gets the compiler the chain's kernels go through.</summary>
    public KernelCompiler Compiler => _compiler;

    /// <summary>Gets the multicast this chain reads when it is one of a replayed array's ingress (its chains may share one kernel).</summary>
    public Multicast.IFusesBranches? FusableMulticast => _source is Multicast.MulticastStream<TIn> { IsOverFusableIngress: true } multicast ? multicast : null;

    /// <remarks>
    /// Right after a replayed array's ingress also the kernel that reads the array itself (<see cref="IngressPipelineKernel"/>), so
    /// that wiring compiles nothing; <see cref="Connect"/> uses it unless the options or metrics rule the fused ingress out. A chain
    /// after a multicast of such an ingress has no kernel of its own for it: the multicast's one kernel of all its chains reads the
    /// slice (<see cref="MulticastIngressKernel"/>, compiled by the compiler's last stage).
    /// </remarks>
    /// <para>
    /// With that fused kernel, the chain's own kernel and the ingress's time kernel run only for a slice that falls back (out of
    /// order, a late event, a selector that throws) or when fusion is off at run time: they are deferred
    /// (<see cref="DeferredKernel{TDelegate}"/>), compiled then or at wiring, so a new query's first result waits for one compile
    /// instead of three (issue #19: a Where/Select after an array compiled 3 kernels where the unfused plan compiled 2).
    /// </para>
    public void CompileKernels()
    {
        if (_kernel is not null)
        {
            return;
        }

        if (_source is Ingress.IngressStream<TIn> { FusableStart: { } start } ingress)
        {
            _fusedKernel = IngressPipelineKernel.Compile<TIn, TOut>(start, _steps, _compiler);
            ingress.DeferTimeKernels();
            var steps = _steps;
            var compiler = _compiler;
            _kernel = new(() => PipelineKernel.Compile<TIn, TOut>(steps, compiler));
            return;
        }

        _kernel = new(PipelineKernel.Compile<TIn, TOut>(_steps, _compiler));
    }

    public override void Connect(IStreamObserver<TOut> downstream, QueryContext context)
    {
        CompileKernels(); // a no-op after the compiler's last stage
        var kernel = _kernel!;
        var op = new PipelineOperator<TIn, TOut>(downstream, context, kernel, PipelineKernel.HasProjection(_steps), Name, Detail, Internal.QuerySites.Describe(_steps.Select(s => s.Lambda)));

        // Right after a replayed array's or list's ingress (or a multicast of it), the chain also reads the array itself, event times included: one pass over the
        // event objects instead of a copy, a time pass and a chain pass (IFusedIngress). Not with Fuse = false (the unfused plan, as
        // written), nor with metrics (the ingress then sends to a counter, not to this operator).
        if (context.Options.Fuse && context.Metrics is null)
        {
            if (_fusedKernel is not null)
            {
                op.FuseWithIngress(_fusedKernel); // the chain's own kernel stays deferred: only a slice that falls back runs it
            }
            else if (_source is Multicast.MulticastStream<TIn> { BranchKernel: not null })
            {
                op.FuseAsBranch(this); // the multicast matches its consumers to its kernel's chains by node
            }
        }

        if (!op.CanFuse)
        {
            kernel.Compile(); // deferred for a fused ingress, but the chain reads batches after all: compiled at wiring, not mid-run
        }

        context.Wire(_source, op);
    }
}
