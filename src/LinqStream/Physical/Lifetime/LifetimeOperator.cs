using LinqStream.Runtime;

namespace LinqStream.Physical.Lifetime;

/// <summary>Applies a stateless lifetime kernel to each batch in place and maps the watermarks the same way.</summary>
/// <remarks>Nothing is buffered: each batch goes on as soon as it is rewritten (or back to the pool when every event was dropped).</remarks>
internal sealed class LifetimeOperator<T, TKernel> : UnaryOperator<T, T>
    where TKernel : struct, ILifetimeKernel
{
    private readonly TKernel _kernel;
    private readonly BatchPool<T> _pool;
    private long _watermark = long.MinValue;

    public LifetimeOperator(IStreamObserver<T> downstream, QueryContext context, TKernel kernel)
        : base(downstream, context)
    {
        _kernel = kernel;
        _pool = context.Pool<T>();
    }

    public override void OnBatch(EventBatch<T> batch)
    {
        if (Faulted)
        {
            _pool.Return(batch);
            return;
        }

        if (_kernel.Apply(batch.Start, batch.End, batch.Absent, batch.Count) && batch.LiveCount() == 0)
        {
            _pool.Return(batch);
            return;
        }

        Downstream.OnBatch(batch);
    }

    public override void OnWatermark(long watermark)
    {
        long mapped = _kernel.MapWatermark(watermark);
        if (mapped > _watermark)
        {
            _watermark = mapped;
            base.OnWatermark(mapped);
        }
    }
}
