namespace LinqStream.Runtime;

/// <summary>The engine's observer: batches of events ordered by start time, and watermarks.</summary>
/// <remarks>
/// One virtual call per batch, never per event. <see cref="OnBatch"/> hands over ownership of the batch.
/// A watermark <c>W</c> promises that no later event has <c>Start &lt; W</c>; <see cref="Temporal.Ticks.Infinity"/>
/// is sent before <see cref="OnCompleted"/>.
/// </remarks>
internal interface IStreamObserver<T>
{
    void OnBatch(EventBatch<T> batch);

    void OnWatermark(long watermark);

    void OnCompleted();

    void OnError(Exception error);
}
