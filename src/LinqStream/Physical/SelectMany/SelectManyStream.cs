using System.Linq.Expressions;
using LinqStream.Physical.Kernels;
using LinqStream.Runtime;

namespace LinqStream.Physical.SelectMany;

/// <summary>Replaces each event by the events of the sequence its payload maps to (<c>SelectMany</c>).</summary>
/// <remarks>
/// Lifetime: every output event keeps the lifetime of the input event it came from. State: none. Order and watermarks:
/// outputs follow their inputs' order (those of one input in the sequence's order), so watermarks pass through unchanged.
/// </remarks>
internal sealed class SelectManyStream<TIn, TOut> : PhysicalStream<TOut>, ICompilesKernels
{
    private readonly PhysicalStream<TIn> _source;
    private readonly KernelCompiler _compiler;
    private Func<TIn, IEnumerable<TOut>>? _selector;

    public SelectManyStream(PhysicalStream<TIn> source, LambdaExpression selector, KernelCompiler? kernels = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(selector);
        _source = source;
        Selector = selector;
        _compiler = kernels ?? KernelCompiler.Shared;
    }

    public LambdaExpression Selector { get; }

    public override string Name => "SelectMany";

    public override string Detail => Selector.ToString();

    public override IReadOnlyList<PhysicalNode> Inputs => [_source];

    public void CompileKernels() => _selector ??= SelectManyKernel.Compile<TIn, TOut>(Selector, _compiler);

    public override void Connect(IStreamObserver<TOut> downstream, QueryContext context)
    {
        CompileKernels(); // a no-op after the compiler's last stage
        context.Wire(_source, new SelectManyOperator<TIn, TOut>(downstream, context, _selector!, Detail));
    }
}
