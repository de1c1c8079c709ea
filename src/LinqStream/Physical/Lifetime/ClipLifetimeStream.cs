using System.Linq.Expressions;
using LinqStream.Physical.Kernels;
using LinqStream.Runtime;

namespace LinqStream.Physical.Lifetime;

/// <summary>Ends each event when the next event with the same key starts (<c>ClipLifetime</c>).</summary>
/// <remarks>
/// Lifetime: <c>End = min(End, s)</c>, where <c>s</c> is the start of the first later event with the same key whose start is
/// strictly greater (events of one key with equal starts do not clip each other). State: per key, the undecided events of
/// its latest start, plus the FIFO of events not yet emitted. Order and watermarks: an event is emitted, in start order,
/// once it is decided (the next same-key event arrived, or the watermark reached its end); the output watermark is held at
/// the start of the earliest event still held back.
/// </remarks>
internal sealed class ClipLifetimeStream<T, TKey> : PhysicalStream<T>, ICompilesKernels
    where TKey : notnull
{
    private readonly PhysicalStream<T> _source;
    private readonly KernelCompiler _compiler;
    private Action<T[], ulong[]?, TKey[], int>? _keyKernel;

    public ClipLifetimeStream(PhysicalStream<T> source, LambdaExpression keySelector, KernelCompiler? kernels = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(keySelector);
        _source = source;
        KeySelector = keySelector;
        _compiler = kernels ?? KernelCompiler.Shared;
    }

    public LambdaExpression KeySelector { get; }

    public override string Name => "ClipLifetime";

    public override string Detail => KeySelector.ToString();

    public override IReadOnlyList<PhysicalNode> Inputs => [_source];

    public void CompileKernels() => _keyKernel ??= ColumnKernel.Compile<T, TKey>(KeySelector, _compiler);

    public override void Connect(IStreamObserver<T> downstream, QueryContext context)
    {
        CompileKernels(); // a no-op after the compiler's last stage
        context.Wire(_source, new ClipLifetimeOperator<T, TKey>(downstream, context, _keyKernel!, Detail));
    }
}
