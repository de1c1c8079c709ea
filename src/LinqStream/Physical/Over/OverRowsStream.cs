using System.Linq.Expressions;
using LinqStream.Physical.Kernels;
using LinqStream.Runtime;

namespace LinqStream.Physical.Over;

/// <summary>A count-based over-window per key (<c>Over</c>): per event, a user aggregate over the key's last rows.</summary>
/// <remarks>
/// Lifetime and order: each result has its event's lifetime and comes out in the input's order, so watermarks pass through.
/// State: per key, a ring of at most <c>rows</c> payloads and the key's latest start; a key idle for the timeout is freed.
/// </remarks>
internal sealed class OverRowsStream<T, TKey, TState, TResult, TAggregate> : PhysicalStream<TResult>, ICompilesKernels
    where TKey : notnull
    where TAggregate : IAggregate<T, TState, TResult>
{
    private readonly PhysicalStream<T> _source;
    private readonly KernelCompiler _compiler;
    private readonly int _rows;
    private readonly long _idleTicks;
    private readonly TAggregate _aggregate;
    private Action<T[], ulong[]?, TKey[], int>? _keyKernel;

    public OverRowsStream(PhysicalStream<T> source, LambdaExpression keySelector, int rows, long idleTicks, TAggregate aggregate, string detail, KernelCompiler? kernels = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(keySelector);
        _source = source;
        KeySelector = keySelector;
        _rows = rows;
        _idleTicks = idleTicks;
        _aggregate = aggregate;
        Detail = detail;
        _compiler = kernels ?? KernelCompiler.Shared;
    }

    public LambdaExpression KeySelector { get; }

    public override string Name => "Over";

    public override string Detail { get; }

    public override IReadOnlyList<PhysicalNode> Inputs => [_source];

    public void CompileKernels() => _keyKernel ??= ColumnKernel.Compile<T, TKey>(KeySelector, _compiler);

    public override void Connect(IStreamObserver<TResult> downstream, QueryContext context)
    {
        CompileKernels(); // a no-op after the compiler's last stage
        context.Wire(_source, new OverRowsOperator<T, TKey, TState, TResult, TAggregate>(downstream, context, _keyKernel!, KeySelector.ToString(), _rows, _idleTicks, _aggregate));
    }
}
