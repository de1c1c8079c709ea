using LinqStream.Runtime;

namespace LinqStream.Tests.Physical.Join;

/// <summary>A sink that counts errors and lets a test look at the operator's state at every output watermark.</summary>
internal sealed class ProbeSink<T>(QueryContext context) : IStreamObserver<T>
{
    private readonly BatchPool<T> _pool = context.Pool<T>();

    public List<StreamEvent<T>> Events { get; } = [];

    public List<long> Watermarks { get; } = [];

    public List<Exception> Errors { get; } = [];

    public bool Completed { get; private set; }

    /// <summary>Gets or sets what runs at each watermark (it must not throw: the operator would report it as the query's error).</summary>
    public Action<long>? AtWatermark { get; set; }

    public void OnBatch(EventBatch<T> batch)
    {
        for (int i = 0; i < batch.Count; i++)
        {
            if (!batch.IsAbsent(i))
            {
                Events.Add(new StreamEvent<T>(batch.Start[i], batch.End[i], batch.Payload[i]));
            }
        }

        _pool.Return(batch);
    }

    public void OnWatermark(long watermark)
    {
        Watermarks.Add(watermark);
        AtWatermark?.Invoke(watermark);
    }

    public void OnCompleted() => Completed = true;

    public void OnError(Exception error) => Errors.Add(error);
}
