using LinqStream.Physical.Kernels;
using LinqStream.Runtime;

namespace LinqStream.Physical.Pipeline;

/// <summary>The physical node of a filter/projection chain (one step, or several fused into one kernel).</summary>
internal sealed class PipelineStream<TIn, TOut> : PhysicalStream<TOut>, ICompilesKernels
{
    private readonly PhysicalStream<TIn> _source;
    private readonly IReadOnlyList<PipelineKernelStep> _steps;
    private readonly KernelCompiler _compiler;
    private Action<TIn[], ulong[], TOut[]?, int>? _kernel;

    public PipelineStream(PhysicalStream<TIn> source, IReadOnlyList<PipelineKernelStep> steps, KernelCompiler? kernels = null)
    {
        _source = source;
        _steps = steps;
        _compiler = kernels ?? KernelCompiler.Shared;
    }

    public IReadOnlyList<PipelineKernelStep> Steps => _steps;

    public override string Name => _steps.Count == 1 ? _steps[0].OperatorName : "Fused[" + string.Join(" > ", _steps.Select(s => s.OperatorName)) + "]";

    public override string Detail => string.Join(" > ", _steps.Select(s => s.Lambda.ToString()));

    public override IReadOnlyList<PhysicalNode> Inputs => [_source];

    public void CompileKernels() => _kernel ??= PipelineKernel.Compile<TIn, TOut>(_steps, _compiler);

    public override void Connect(IStreamObserver<TOut> downstream, QueryContext context)
    {
        CompileKernels(); // a no-op after the compiler's last stage
        context.Wire(
            _source,
            new PipelineOperator<TIn, TOut>(downstream, context, _kernel!, PipelineKernel.HasProjection(_steps), Name, Detail, Internal.QuerySites.Describe(_steps.Select(s => s.Lambda))));
    }
}
