using LinqStream.Runtime;

namespace LinqStream.Diagnostics;

/// <summary>
/// Sits on one edge of a metered query: counts the live events of each batch an operator sends and remembers its last watermark,
/// then hands the batch on. One extra call and one pop-count pass per batch, nothing per event.
/// </summary>
internal sealed class MeteredObserver<T>(OperatorCounters counters, IStreamObserver<T> downstream) : IStreamObserver<T>
{
    public void OnBatch(EventBatch<T> batch)
    {
        counters.AddOut(batch.LiveCount());
        downstream.OnBatch(batch);
    }

    public void OnWatermark(long watermark)
    {
        counters.SetWatermark(watermark);
        downstream.OnWatermark(watermark);
    }

    public void OnCompleted() => downstream.OnCompleted();

    public void OnError(Exception error) => downstream.OnError(error);
}

/// <summary>
/// What one operator (a node of the physical plan) has sent: written by the query's task only, read by exporters and the dashboard
/// from other threads (64-bit reads and writes are atomic; <see cref="Volatile"/> orders them).
/// </summary>
internal sealed class OperatorCounters
{
    private long _out;
    private long _watermark = Temporal.Ticks.MinusInfinity;

    public long Out => Volatile.Read(ref _out);

    public long Watermark => Volatile.Read(ref _watermark);

    public void AddOut(int count) => Volatile.Write(ref _out, _out + count);

    public void SetWatermark(long watermark) => Volatile.Write(ref _watermark, watermark);
}
