using LinqStream.Physical.Kernels;
using LinqStream.Runtime;

namespace LinqStream.Physical.Windows.ArgMax;

/// <summary>The physical node of <see cref="WindowArgMaxNode"/>: the events at their window's maximum, each with the window's row.</summary>
/// <remarks>
/// <para>Lifetimes: a result lives <c>[max(start, windowStart), min(end, windowEnd))</c>, as the join it replaces gave it.</para>
/// <para>State: the open window's maximum and the events at it (one window at a time: the input is in start order).</para>
/// <para>Ordering: a window's results come out when the next window starts or the watermark passes its start, newest tied event
/// first; the watermark is forwarded after them.</para>
/// </remarks>
internal sealed class WindowArgMaxStream<TIn, TRow, TKey, TResult> : PhysicalStream<TResult>, ICompilesKernels, Parallel.ITaskLocalStep<TIn>
{
    private readonly PhysicalStream<TIn> _source;
    private readonly WindowArgMaxKernels<TIn, TRow, TKey, TResult> _kernels;
    private readonly long _rowSize;
    private readonly string _detail;

    public WindowArgMaxStream(PhysicalStream<TIn> source, WindowArgMaxNodeLambdas lambdas, long rowSize, string detail, KernelCompiler? kernels = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        _source = source;
        _kernels = new WindowArgMaxKernels<TIn, TRow, TKey, TResult>(lambdas, kernels);
        _rowSize = rowSize;
        _detail = detail;
    }

    public override string Name => "WindowArgMax";

    public override string Detail => _detail;

    public override IReadOnlyList<PhysicalNode> Inputs => [_source];

    public void CompileKernels() => _kernels.CompileKernels();

    /// <summary>Gets the input (when it is a split keyed aggregate, each task keeps its own maximum first: <see cref="TaskArgMaxOperator{T}"/>).</summary>
    public PhysicalNode Input => _source;

    public string LocalDescription =>
        $"WindowArgMax's window maximum of {_kernels.Lambdas.Value} (each task passes on only its events at its own maximum per window; WindowArgMax after the merge keeps those at the overall maximum)";

    public IStreamObserver<TIn> CreateTaskStep(IStreamObserver<TIn> downstream, QueryContext context)
    {
        CompileKernels();
        return new TaskArgMaxOperator<TIn>(downstream, context, _kernels.Value, _kernels.Lambdas.Value.ToString());
    }

    public override void Connect(IStreamObserver<TResult> downstream, QueryContext context)
    {
        CompileKernels(); // a no-op after the compiler's last stage
        context.Wire(_source, new WindowArgMaxOperator<TIn, TRow, TKey, TResult>(downstream, context, _kernels, _rowSize));
    }
}
