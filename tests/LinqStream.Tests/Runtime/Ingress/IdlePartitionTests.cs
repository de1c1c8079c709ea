using LinqStream.Runtime;
using LinqStream.Runtime.Ingress;

namespace LinqStream.Tests.Runtime.Ingress;

/// <summary>Idleness is judged where data arrives: a partition with received data still queued is never idle (FLIP-471).</summary>
public sealed class IdlePartitionTests
{
    private sealed class ManualClock : TimeProvider
    {
        public long Now { get; set; }

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Now;
    }

    private sealed class Partition : SourceDriver
    {
        public override bool CanReplay => true;

        public override string SourceName => "partition";

        public override long EventsRead => 0;

        public override long MaxEventTime => Watermark;

        public override long LateEvents => 0;

        public override bool IsLive => true;

        public void SetWatermark(long value) => Watermark = value;

        public override bool TryStep() => false;

        public override void WriteState(BinaryWriter writer) => writer.Write(Watermark);

        public override void ReadState(BinaryReader reader) => Watermark = reader.ReadInt64();
    }

    [Fact]
    public void Partition_WithQueuedDataPastTheTimeout_IsNotIdleAndHoldsTheOthersBack()
    {
        var clock = new ManualClock();
        var context = new QueryContext(new QueryOptions { TimeProvider = clock });
        var group = new PartitionGroup(TimeSpan.FromSeconds(5));
        var quiet = new Partition();
        var busy = new Partition();
        bool busyHasQueued = true;
        var quietIdle = group.Join(context, quiet, () => false);
        var busyIdle = group.Join(context, busy, () => busyHasQueued);
        quiet.SetWatermark(100);
        busy.SetWatermark(40);

        clock.Now += TimeSpan.FromSeconds(6).Ticks; // neither reader received anything for 6 s

        Assert.True(quietIdle.IsIdle);
        Assert.False(busyIdle.IsIdle); // its data waits behind backpressure: not idle
        Assert.Null(busyIdle.IdleWatermark());
        Assert.Equal(40, quietIdle.IdleWatermark()); // the quiet one may only move up to the busy one's watermark

        busyHasQueued = false; // drained, and still nothing received: now it is idle too
        Assert.True(busyIdle.IsIdle);
        Assert.Equal(100, busyIdle.IdleWatermark());
    }

    [Fact]
    public void Partition_ReceivedByTheReader_RestartsItsIdleClock()
    {
        var clock = new ManualClock();
        var context = new QueryContext(new QueryOptions { TimeProvider = clock });
        var group = new PartitionGroup(TimeSpan.FromSeconds(5));
        var idle = group.Join(context, new Partition(), () => false);
        clock.Now += TimeSpan.FromSeconds(4).Ticks;
        idle.Received();
        clock.Now += TimeSpan.FromSeconds(4).Ticks;
        Assert.False(idle.IsIdle);
        Assert.Equal(TimeSpan.FromSeconds(1), idle.UntilIdle);
        clock.Now += TimeSpan.FromSeconds(1).Ticks;
        Assert.True(idle.IsIdle);
    }
}
