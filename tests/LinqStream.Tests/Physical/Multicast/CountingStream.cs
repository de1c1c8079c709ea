using LinqStream.Runtime;

namespace LinqStream.Tests.Physical.Multicast;

/// <summary>Passes a source through and counts how often it was wired and how many events went through it.</summary>
internal sealed class CountingStream<T>(PhysicalStream<T> source) : PhysicalStream<T>
{
    public int Connects { get; private set; }

    public long Events { get; private set; }

    public override string Name => "Counting";

    public override IReadOnlyList<PhysicalNode> Inputs => [source];

    public override void Connect(IStreamObserver<T> downstream, QueryContext context)
    {
        Connects++;
        source.Connect(new Counter(this, downstream), context);
    }

    private sealed class Counter(CountingStream<T> owner, IStreamObserver<T> downstream) : IStreamObserver<T>
    {
        public void OnBatch(EventBatch<T> batch)
        {
            owner.Events += batch.LiveCount();
            downstream.OnBatch(batch);
        }

        public void OnWatermark(long watermark) => downstream.OnWatermark(watermark);

        public void OnCompleted() => downstream.OnCompleted();

        public void OnError(Exception error) => downstream.OnError(error);
    }
}
