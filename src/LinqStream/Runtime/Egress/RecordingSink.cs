namespace LinqStream.Runtime.Egress;

/// <summary>Records everything that reaches the end of a query, watermarks included (tests and <c>ToStreamEvents</c> checks).</summary>
internal sealed class RecordingSink<T> : IStreamObserver<T>
{
    private readonly BatchPool<T> _pool;

    public RecordingSink(QueryContext context) => _pool = context.Pool<T>();

    public List<StreamEvent<T>> Events { get; } = [];

    public List<long> Watermarks { get; } = [];

    public bool Completed { get; private set; }

    public Exception? Error { get; private set; }

    /// <summary>Gets a description of the first broken promise seen: an event before the last watermark, or out of start order.</summary>
    public string? Violation { get; private set; }

    public void OnBatch(EventBatch<T> batch)
    {
        long last = Events.Count > 0 ? Events[^1].Start : long.MinValue;
        long watermark = Watermarks.Count > 0 ? Watermarks[^1] : long.MinValue;
        for (int i = 0; i < batch.Count; i++)
        {
            if (batch.IsAbsent(i))
            {
                continue;
            }

            var e = new StreamEvent<T>(batch.Start[i], batch.End[i], batch.Payload[i]);
            if (Violation is null && e.Start < last)
            {
                Violation = $"event {Events.Count} starts at {e.Start}, before the previous event's start {last}";
            }

            if (Violation is null && e.Start < watermark)
            {
                Violation = $"event {Events.Count} starts at {e.Start}, before the watermark {watermark}";
            }

            if (Violation is null && e.End <= e.Start)
            {
                Violation = $"event {Events.Count} has an empty lifetime [{e.Start}, {e.End})";
            }

            last = e.Start;
            Events.Add(e);
        }

        _pool.Return(batch);
    }

    public void OnWatermark(long watermark)
    {
        if (Violation is null && Watermarks.Count > 0 && watermark < Watermarks[^1])
        {
            Violation = $"watermark {watermark} after watermark {Watermarks[^1]}";
        }

        Watermarks.Add(watermark);
    }

    public void OnCompleted() => Completed = true;

    public void OnError(Exception error) => Error = error;
}
