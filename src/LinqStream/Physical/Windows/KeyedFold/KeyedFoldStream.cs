using LinqStream.Physical.Kernels;
using LinqStream.Runtime;

namespace LinqStream.Physical.Windows.KeyedFold;

/// <summary>The physical node of <see cref="KeyedFoldNode"/>: one commutative fold per (close time, key), emitted at the close.</summary>
/// <remarks>
/// <para>Lifetimes: a group closing at <c>c</c> gives one result living <c>[c, c + 1)</c>, as the one-tick window it replaces.</para>
/// <para>State: one aggregate state per open (close time, key); nothing per input value.</para>
/// <para>Ordering: groups come out when the watermark passes their close, by close time, then in stable key order (a null key
/// first); the watermark is forwarded after them.</para>
/// </remarks>
internal sealed class KeyedFoldStream<TX, TKey, TIn, TState, TAggResult, TAggregate, TResult> : PhysicalStream<TResult>, ICompilesKernels
    where TKey : notnull
    where TAggregate : IAggregate<TIn, TState, TAggResult>
{
    private readonly PhysicalStream<Closing<TX>> _source;
    private readonly KeyedFoldKernels<TX, TKey, TIn, TAggResult, TResult> _kernels;
    private readonly TAggregate _aggregate;
    private readonly string _detail;

    public KeyedFoldStream(PhysicalStream<Closing<TX>> source, KeyedFoldLambdas lambdas, TAggregate aggregate, string detail, KernelCompiler? kernels = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        _source = source;
        _kernels = new KeyedFoldKernels<TX, TKey, TIn, TAggResult, TResult>(lambdas, kernels);
        _aggregate = aggregate;
        _detail = detail;
    }

    public override string Name => "KeyedFold";

    public override string Detail => _detail;

    public override IReadOnlyList<PhysicalNode> Inputs => [_source];

    public void CompileKernels() => _kernels.CompileKernels();

    public override void Connect(IStreamObserver<TResult> downstream, QueryContext context)
    {
        CompileKernels(); // a no-op after the compiler's last stage
        context.Wire(_source, new KeyedFoldOperator<TX, TKey, TIn, TState, TAggResult, TAggregate, TResult>(downstream, context, _kernels, _aggregate));
    }
}
