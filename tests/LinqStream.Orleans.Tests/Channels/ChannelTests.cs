using LinqStream.Orleans.Channels;
using LinqStream.Runtime;

namespace LinqStream.Orleans.Tests.Channels;

/// <summary>The cross-silo channel's protocol (sender, receiver, codec) over calls that fail, repeat and overtake each other.</summary>
public sealed class ChannelTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(2);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public async Task Channel_LostRepeatedAndReorderedCalls_DeliversEveryMessageOnceInOrder(int seed)
    {
        var (messages, events) = ChannelTraffic.Generate(seed, 600);
        var receiver = new ChannelReceiver("test/lossy", epoch: 3, capacity: 8);
        var transport = new FlakyTransport(receiver, seed, lose: 0.1, loseAnswer: 0.1, duplicate: 0.1);
        var sender = new ChannelSender(transport, epoch: 3, maxBackoff: TimeSpan.FromMilliseconds(1));
        var writer = new ChannelWriter<Item>(sender, new EventBatchCodec<Item>(BlittableColumnCodec<Item>.Instance));
        var reader = new ChannelReader<Item>(receiver, new EventBatchCodec<Item>(BlittableColumnCodec<Item>.Instance));

        var reading = Task.Run(() => ChannelTraffic.ReadAllAsync(reader, new Random(seed)));
        await Task.Run(() => ChannelTraffic.SendAsync(writer, messages)).WaitAsync(Bound);
        var read = await reading.WaitAsync(Bound);

        Assert.Equal(messages.Select(m => m.Expected), read);
        Assert.Equal(events, read.Sum(m => m.Events.Length));
        Assert.True(transport.LostCalls > 0 && sender.Retries > 0, $"lost calls {transport.LostCalls}, retries {sender.Retries}: the failures were not injected");
        Assert.True(receiver.Duplicates > 0, "no copy reached the receiver: the duplicates were not injected");
        Assert.InRange(sender.MaxUnacknowledged, 1, receiver.Capacity);
        Assert.InRange(receiver.MaxHeld, 1, receiver.Capacity);
        Assert.Equal(messages.Count, sender.AcknowledgedThrough);
    }

    [Fact]
    public async Task Channel_ReliableCalls_DeliversInOrderWithoutRetries()
    {
        var (messages, _) = ChannelTraffic.Generate(seed: 9, 300);
        var receiver = new ChannelReceiver("test/reliable", epoch: 1, capacity: 4);
        var transport = new FlakyTransport(receiver, seed: 9);
        var sender = new ChannelSender(transport, epoch: 1);
        var reading = Task.Run(() => ChannelTraffic.ReadAllAsync(new ChannelReader<Item>(receiver, Codec())));
        await ChannelTraffic.SendAsync(new ChannelWriter<Item>(sender, Codec()), messages).WaitAsync(Bound);

        Assert.Equal(messages.Select(m => m.Expected), await reading.WaitAsync(Bound));
        Assert.Equal(0, sender.Retries);
        Assert.Equal(0, receiver.Duplicates);
        Assert.Equal(messages.Count, transport.FramesPushed); // every frame once
        Assert.Equal(sender.Calls, transport.Pushes);
        Assert.InRange(sender.MaxFramesInACall, 1, sender.FramesPerCall);
    }

    [Fact]
    public async Task Channel_ReceiverNotReading_SenderStopsAtTheCreditAndMovesOnePerFrameTaken()
    {
        var receiver = new ChannelReceiver("test/slow", epoch: 1, capacity: 4);
        var transport = new FlakyTransport(receiver, seed: 1, creditWait: TimeSpan.FromMinutes(5));
        var sender = new ChannelSender(transport, epoch: 1);
        var writer = new ChannelWriter<Item>(sender, Codec());
        int offered = 0;
        var sending = Task.Run(async () =>
        {
            var batch = new EventBatch<Item>(ChannelTraffic.BatchSize);
            for (int i = 0; i < 1_000; i++)
            {
                batch.Reset();
                for (int e = 0; e < ChannelTraffic.BatchSize; e++)
                {
                    batch.Add(i, i + 1, new Item(e, i, 0));
                }

                await writer.SendBatchAsync(batch);
                Interlocked.Increment(ref offered);
            }
        });

        // The sender fills the receiver's 4 slots, then asks for credit and waits: nothing more is sent while nobody reads.
        await WaitUntilAsync(() => Volatile.Read(ref transport.CreditRequests) >= 1 && receiver.ReceivedThrough == 4);
        Assert.False(sending.IsCompleted);
        Assert.Equal(4, Volatile.Read(ref offered));
        Assert.Equal(4, transport.FramesPushed);
        Assert.Equal(4, receiver.MaxHeld);

        for (int taken = 1; taken <= 20; taken++)
        {
            Assert.True(receiver.TryTake(out var frame));
            Assert.Equal(taken, frame.Sequence);
            await WaitUntilAsync(() => receiver.ReceivedThrough == 4 + taken && Volatile.Read(ref transport.CreditRequests) >= taken + 1);
            Assert.Equal(4 + taken, transport.FramesPushed);
            Assert.InRange(sender.Unacknowledged, 0, 4);
        }

        Assert.False(sending.IsCompleted);
        Assert.Equal(4, receiver.MaxHeld);
        Assert.InRange(sender.MaxUnacknowledged, 1, 4);
    }

    [Fact]
    public async Task Channel_SenderOfAnOlderEpoch_IsRefusedAndNothingIsDelivered()
    {
        var receiver = new ChannelReceiver("test/fenced", epoch: 5, capacity: 8);
        var sender = new ChannelSender(new FlakyTransport(receiver, seed: 2), epoch: 4);
        var writer = new ChannelWriter<Item>(sender, Codec());

        var refused = await Assert.ThrowsAsync<ChannelException>(async () =>
        {
            await writer.SendWatermarkAsync(10);
            await writer.CompleteAsync();
        });

        Assert.Equal(ChannelAckStatus.StaleEpoch, refused.Status);
        Assert.Equal("test/fenced", refused.Channel);
        Assert.Contains("epoch 4", refused.Message, StringComparison.Ordinal);
        Assert.Contains("epoch 5", refused.Message, StringComparison.Ordinal);
        Assert.False(receiver.TryTake(out _));
        Assert.Equal(0, receiver.ReceivedThrough);
    }

    [Fact]
    public async Task Channel_SenderOfANewerEpochThanTheReceiver_FailsAsNotOpen()
    {
        var receiver = new ChannelReceiver("test/not-open", epoch: 1, capacity: 8);
        var sender = new ChannelSender(new FlakyTransport(receiver, seed: 2), epoch: 2);

        // The first credit request already gets the refusal: nothing is sent.
        var refused = await Assert.ThrowsAsync<ChannelException>(() => sender.SendAsync(ChannelFrame.Control(ChannelFrameKind.Watermark, 1)).AsTask());

        Assert.Equal(ChannelAckStatus.NotOpen, refused.Status);
        Assert.Contains("not open for epoch 2 (it is at epoch 1)", refused.Message, StringComparison.Ordinal);
        Assert.Equal(0, sender.AcknowledgedThrough);
        Assert.False(receiver.TryTake(out _));
    }

    [Fact]
    public async Task Channel_ReceiverUnreachable_SenderGivesUpAtTheRetryLimitAsUnreachable()
    {
        var receiver = new ChannelReceiver("test/unreachable", epoch: 1, capacity: 8);
        var transport = new FailingTransport(receiver) { Down = true };
        var sender = new ChannelSender(transport, epoch: 1, maxBackoff: TimeSpan.FromMilliseconds(20), retryLimit: TimeSpan.FromMilliseconds(300));

        var gaveUp = await Assert.ThrowsAsync<ChannelException>(async () =>
        {
            await sender.SendAsync(ChannelFrame.Control(ChannelFrameKind.Watermark, 7));
            await sender.FlushAsync();
        }).WaitAsync(Bound);

        Assert.Equal(ChannelAckStatus.Unreachable, gaveUp.Status);
        Assert.Equal("test/unreachable", gaveUp.Channel);
        Assert.Contains("channel 'test/unreachable' (epoch 1)", gaveUp.Message, StringComparison.Ordinal);
        Assert.Contains("frame 1", gaveUp.Message, StringComparison.Ordinal);
        Assert.Contains("roll back", gaveUp.Message, StringComparison.Ordinal);
        Assert.IsType<TimeoutException>(gaveUp.InnerException);
        Assert.True(sender.Retries >= 2, $"retries {sender.Retries}: the sender gave up without retrying");
        Assert.Equal(transport.Failures, sender.Retries + 1); // every failed call was retried but the last, which gave up
        Assert.Equal(0, receiver.ReceivedThrough);
    }

    [Fact]
    public async Task Channel_TransientFailuresOfEveryFrame_AreRetriedAndEverythingIsDelivered()
    {
        var (messages, _) = ChannelTraffic.Generate(seed: 5, 120);
        var receiver = new ChannelReceiver("test/transient", epoch: 1, capacity: 4);
        var transport = new FailingTransport(receiver, failFirst: 3);
        var sender = new ChannelSender(transport, epoch: 1, maxBackoff: TimeSpan.FromMilliseconds(1), retryLimit: TimeSpan.FromMinutes(1));
        var reading = Task.Run(() => ChannelTraffic.ReadAllAsync(new ChannelReader<Item>(receiver, Codec())));
        await ChannelTraffic.SendAsync(new ChannelWriter<Item>(sender, Codec()), messages).WaitAsync(Bound);

        Assert.Equal(messages.Select(m => m.Expected), await reading.WaitAsync(Bound));
        Assert.Equal(3L * transport.Delivered, sender.Retries); // every call failed 3 times, then got through
        Assert.Equal(sender.Calls, transport.Delivered);
        Assert.Equal(messages.Count, sender.AcknowledgedThrough);
    }

    [Fact]
    public void Sender_RetryLimitNotPositive_IsRefused()
    {
        var receiver = new ChannelReceiver("test/limit", epoch: 1, capacity: 2);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new ChannelSender(new FailingTransport(receiver), epoch: 1, retryLimit: TimeSpan.Zero));
        Assert.Equal("retryLimit", error.ParamName);
    }

    [Fact]
    public void Receiver_FrameBeyondTheCredit_IsRefusedAndNotHeld()
    {
        var receiver = new ChannelReceiver("test/limit", epoch: 1, capacity: 2);
        var ack = receiver.Push(new ChannelFrame { Epoch = 1, Sequence = 3, Kind = ChannelFrameKind.Watermark });

        Assert.Equal(ChannelAckStatus.OverLimit, ack.Status);
        Assert.Equal(2, ack.Limit);
        Assert.Equal(0, receiver.MaxHeld);
    }

    [Fact]
    public void Receiver_FramesOutOfOrder_AreHeldAndHandedOverInSequence()
    {
        var receiver = new ChannelReceiver("test/order", epoch: 1, capacity: 4);
        Assert.Equal(0, receiver.Push(Watermark(3)).ReceivedThrough);
        Assert.Equal(0, receiver.Push(Watermark(2)).ReceivedThrough);
        Assert.False(receiver.TryTake(out _));
        var ack = receiver.Push(Watermark(1));
        Assert.Equal(3, ack.ReceivedThrough);
        Assert.Equal(4, ack.Limit);
        Assert.Equal(3, receiver.Push(Watermark(2)).ReceivedThrough); // a copy: dropped
        Assert.Equal(1, receiver.Duplicates);

        var taken = new List<long>();
        while (receiver.TryTake(out var frame))
        {
            taken.Add(frame.Value);
        }

        Assert.Equal([1L, 2L, 3L], taken);
        Assert.Equal(7, receiver.Push(Watermark(4)).Limit);
    }

    private static ChannelFrame Watermark(long sequence) => new() { Epoch = 1, Sequence = sequence, Kind = ChannelFrameKind.Watermark, Value = sequence };

    private static EventBatchCodec<Item> Codec() => new(BlittableColumnCodec<Item>.Instance);

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(Bound);
        while (!condition())
        {
            await Task.Delay(1, timeout.Token);
        }

        // Let anything the condition released run on, so a sender that would (wrongly) go past the credit has done so.
        for (int i = 0; i < 20; i++)
        {
            await Task.Delay(1);
        }
    }
}
