using LinqStream.Orleans.Channels;
using LinqStream.Parallel;
using LinqStream.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace LinqStream.Orleans.Tests.Channels;

/// <summary>
/// The channel's rules for several frames per call: frames that queue behind the calls in flight go in one call, a call's frames
/// are resent together when it fails, copies are dropped frame by frame, answers are applied in call order, and each side's pooled
/// columns go back to the pool (the receiver keeps its own copy also when the call stays on one silo).
/// </summary>
public sealed class MultiFrameCallTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task BusyChannel_FramesQueuedBehindTheCallsInFlight_GoInOneCallAndAnswersApplyInCallOrder()
    {
        var (receiver, transport, sender, writer) = Open("test/batched", capacity: 8);
        for (int i = 1; i <= 8; i++)
        {
            await writer.SendBatchAsync(Batch(i)).AsTask().WaitAsync(Bound); // within the credit: none waits
        }

        // Two calls in flight (frames 1 and 2); frames 3-8 wait for the next call.
        Assert.Equal(2, transport.Count);
        Assert.Equal([1L], transport.Sequences(0));
        Assert.Equal([2L], transport.Sequences(1));
        transport.Deliver(0);
        await WaitUntilAsync(() => transport.Count == 3);
        Assert.Equal([3L, 4L, 5L, 6L, 7L, 8L], transport.Sequences(2));

        // The third call arrives before the second: the receiver holds 3-8 but acknowledges only 1; the sender waits for call 2.
        var early = transport.Deliver(2);
        Assert.Equal(1, early.ReceivedThrough);
        await Task.Delay(50);
        Assert.Equal(1, sender.AcknowledgedThrough);
        Assert.Equal(ChannelAckStatus.Accepted, transport.Deliver(1).Status);
        await sender.FlushAsync().AsTask().WaitAsync(Bound);

        Assert.Equal(8, sender.AcknowledgedThrough);
        Assert.Equal(3, sender.Calls);
        Assert.Equal(6, sender.MaxFramesInACall);
        Assert.Equal(0, sender.Retries);
        Assert.Equal(Enumerable.Range(1, 8), ReadValues(receiver, 8));
    }

    [Fact]
    public async Task LostMultiFrameCall_IsSentAgainWholeAndEveryFrameArrivesOnce()
    {
        var (receiver, transport, sender, writer) = Open("test/lost", capacity: 8);
        for (int i = 1; i <= 8; i++)
        {
            await writer.SendBatchAsync(Batch(i)).AsTask().WaitAsync(Bound);
        }

        transport.Deliver(0);
        await WaitUntilAsync(() => transport.Count == 3);
        transport.Lose(2); // frames 3-8 never reach the receiver
        await WaitUntilAsync(() => transport.Count == 4);
        Assert.Equal([3L, 4L, 5L, 6L, 7L, 8L], transport.Sequences(3));
        transport.Deliver(3);
        transport.Deliver(1);
        await sender.FlushAsync().AsTask().WaitAsync(Bound);

        Assert.Equal(1, sender.Retries);
        Assert.Equal(0, receiver.Duplicates);
        Assert.Equal(Enumerable.Range(1, 8), ReadValues(receiver, 8));
        Assert.All(transport.Copies, c => Assert.True(c.Columns!.IsReturned, $"frame {c.Sequence}'s columns are still out of the pool"));
    }

    [Fact]
    public async Task CallWhoseAnswerWasLostAndWhoseFramesAnEarlierAnswerAcknowledged_IsSettledWithoutSendingThemAgain()
    {
        var receiver = new ChannelReceiver("test/settled", epoch: 1, capacity: 8);
        var transport = new GatedTransport(receiver);
        var clock = new HeldClock();
        var sender = new ChannelSender(transport, epoch: 1, time: clock);
        var codec = Codec();
        var sent = new List<ChannelFrame>();
        for (int i = 1; i <= 8; i++)
        {
            sent.Add(codec.Encode(Batch(i)));
            await sender.SendAsync(sent[^1]).AsTask().WaitAsync(Bound);
        }

        transport.LoseAnswer(1); // frame 2 reaches the receiver; the sender backs off (held) before sending it again
        await WaitUntilAsync(() => clock.Waiting == 1);
        transport.Deliver(0); // the answer to frame 1 acknowledges frame 2 as well: its columns go back to the pool
        await WaitUntilAsync(() => transport.Count == 3 && sent[1].Columns!.IsReturned);
        Assert.Equal([3L, 4L, 5L, 6L, 7L, 8L], transport.Sequences(2));

        clock.Release(); // the retry finds frame 2 acknowledged: nothing is sent again (its bytes are gone), the call is settled
        await Task.Delay(50);
        Assert.Equal(3, transport.Count);
        transport.Deliver(2);
        await sender.FlushAsync().AsTask().WaitAsync(Bound);

        Assert.Equal(1, sender.Retries);
        Assert.Equal(0, receiver.Duplicates);
        Assert.Equal(Enumerable.Range(1, 8), ReadValues(receiver, 8));
        Assert.All(sent, f => Assert.True(f.Columns!.IsReturned));
    }

    [Fact]
    public async Task MultiFrameCallWithItsAnswerLostAndALateCopy_CopiesAreDroppedFrameByFrameAndEveryArrayGoesBack()
    {
        var (receiver, transport, sender, _) = Open("test/copies", capacity: 8);
        var codec = Codec();
        var sent = new List<ChannelFrame>();
        for (int i = 1; i <= 8; i++)
        {
            var frame = codec.Encode(Batch(i));
            sent.Add(frame);
            await sender.SendAsync(frame).AsTask().WaitAsync(Bound);
        }

        transport.Deliver(0);
        await WaitUntilAsync(() => transport.Count == 3);
        transport.LoseAnswer(2); // the receiver holds 3-8, the sender does not know
        await WaitUntilAsync(() => transport.Count == 4);
        transport.Deliver(3); // the retry: six copies
        Assert.Equal(6, receiver.Duplicates);
        transport.DeliverCopy(0); // a late copy of the first call
        Assert.Equal(7, receiver.Duplicates);
        Assert.False(sent[2].Columns!.IsReturned); // not acknowledged yet: the sender still holds frame 3's bytes
        transport.Deliver(1);
        await sender.FlushAsync().AsTask().WaitAsync(Bound);

        Assert.All(sent, f => Assert.True(f.Columns!.IsReturned, $"the sender kept frame {f.Sequence}'s columns after the acknowledgement"));
        Assert.Equal(Enumerable.Range(1, 8), ReadValues(receiver, 8));
        Assert.Equal(1, sender.Retries);
        Assert.All(transport.Copies, c => Assert.True(c.Columns!.IsReturned, $"a copy of frame {c.Sequence} was neither decoded nor given back"));
    }

    [Fact]
    public async Task ReceiverThatAcknowledgesLessThanACallItAccepted_FailsTheSender()
    {
        var (_, transport, sender, writer) = Open("test/liar", capacity: 8);
        await writer.SendBatchAsync(Batch(1)).AsTask().WaitAsync(Bound);
        transport.DeliverAnswering(0, ack => ack with { ReceivedThrough = 0 });

        var error = await Assert.ThrowsAsync<ChannelException>(() => sender.FlushAsync().AsTask().WaitAsync(Bound));
        Assert.Contains("accepted frame 1 of epoch 1 but acknowledges only up to 0", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ChannelException>(() => writer.SendBatchAsync(Batch(2)).AsTask()); // the sender stays failed
    }

    [Fact]
    public async Task CallOnOneSilo_SharesTheSendersColumns_ReceiverKeepsACopyOfItsOwn()
    {
        var receiver = new ChannelReceiver("test/same-silo", epoch: 1, capacity: 32);
        var transport = new GatedTransport(receiver, sameSilo: true) { DeliverAtOnce = true };
        var sender = new ChannelSender(transport, epoch: 1);
        var writer = new ChannelWriter<Item>(sender, Codec());

        // All 24 frames acknowledged before anyone reads: the sender's arrays went back to the pool and were rented again (and
        // overwritten) by the later frames, so a receiver that kept the shared instances would read other frames' bytes or fail.
        for (int i = 1; i <= 24; i++)
        {
            await writer.SendBatchAsync(Batch(i)).AsTask().WaitAsync(Bound);
        }

        await sender.FlushAsync().AsTask().WaitAsync(Bound);
        Assert.All(transport.Copies, c => Assert.True(c.Columns!.IsReturned));
        Assert.Equal(Enumerable.Range(1, 24), ReadValues(receiver, 24));
    }

    [Fact]
    public void OrleansSerializer_CarriesColumnsIntoPooledArraysAndControlFramesAsTheyAre()
    {
        using var services = new ServiceCollection().AddSerializer(b => b.AddAssembly(typeof(ChannelFrame).Assembly)).BuildServiceProvider();
        var events = new EventBatch<Item>(ChannelTraffic.BatchSize);
        for (int i = 0; i < 30; i++)
        {
            events.Add(i, long.MaxValue, new Item(i % 2 == 0 ? long.MinValue : long.MaxValue, i, -i));
        }

        var batch = Codec().Encode(events);
        batch.Sequence = 5;
        batch.Epoch = 2;
        var barrier = new ChannelFrame { Epoch = 2, Sequence = 6, Kind = ChannelFrameKind.Barrier, Value = 3, Payload = [1, 2, 3] };

        var bytes = services.GetRequiredService<Serializer>().SerializeToArray(new[] { batch, barrier });
        var back = services.GetRequiredService<Serializer>().Deserialize<ChannelFrame[]>(bytes)!;

        Assert.Equal(2, back.Length);
        Assert.Equal((5L, 2L, ChannelFrameKind.Batch, 30), (back[0].Sequence, back[0].Epoch, back[0].Kind, back[0].Count));
        Assert.True(back[0].Columns!.FromWire);
        Assert.Equal(batch.Columns!.Span.ToArray(), back[0].Columns!.Span.ToArray());

        // 1,200 bytes of columns in a rented array of 2,048: only the 1,200 go on the wire.
        Assert.Equal(30 * 40, batch.Columns.Length);
        Assert.True(batch.Columns!.Array.Length >= 2_048);
        Assert.True(bytes.Length < batch.Columns.Length + 200, $"{bytes.Length} bytes on the wire for {batch.Columns.Length} bytes of columns");
        Assert.Null(back[1].Columns);
        Assert.Equal([1, 2, 3], back[1].Payload);
        Assert.Equal((3L, ChannelFrameKind.Barrier), (back[1].Value, back[1].Kind));

        var received = new EventBatch<Item>(ChannelTraffic.BatchSize);
        Codec().Decode("c", back[0], received);
        Assert.Equal(events.Payload.Take(30), received.Payload.Take(received.Count));

        // A call on one silo: Orleans' copy of the call shares the columns (the receiver then copies them, above).
        var copy = services.GetRequiredService<DeepCopier>().Copy(new[] { batch });
        Assert.NotSame(batch, copy[0]);
        Assert.Same(batch.Columns, copy[0].Columns);
    }

    private static (ChannelReceiver, GatedTransport, ChannelSender, ChannelWriter<Item>) Open(string name, int capacity)
    {
        var receiver = new ChannelReceiver(name, epoch: 1, capacity);
        var transport = new GatedTransport(receiver);
        var sender = new ChannelSender(transport, epoch: 1, maxBackoff: TimeSpan.FromMilliseconds(1));
        return (receiver, transport, sender, new ChannelWriter<Item>(sender, Codec()));
    }

    /// <summary>A batch of 5 events whose values are <paramref name="value"/> (keys at both ends of the range).</summary>
    private static EventBatch<Item> Batch(int value)
    {
        var batch = new EventBatch<Item>(ChannelTraffic.BatchSize);
        for (int i = 0; i < 5; i++)
        {
            batch.Add(value, value + 1, new Item(i % 2 == 0 ? long.MinValue : long.MaxValue, value, i));
        }

        return batch;
    }

    /// <summary>Reads <paramref name="count"/> batches (every one must be here) and gives each one's value, checking its events.</summary>
    private static List<int> ReadValues(ChannelReceiver receiver, int count)
    {
        var reader = new ChannelReader<Item>(receiver, Codec());
        var batch = new EventBatch<Item>(ChannelTraffic.BatchSize);
        var values = new List<int>();
        for (int n = 0; n < count; n++)
        {
            Assert.True(reader.TryRead(batch, out var kind, out _, out _), $"batch {n + 1} of {count} is not here");
            Assert.Equal(ChannelMessage.Batch, kind);
            Assert.Equal(5, batch.Count);
            int value = (int)batch.Payload[0].Value;
            for (int i = 0; i < 5; i++)
            {
                Assert.Equal(new Item(i % 2 == 0 ? long.MinValue : long.MaxValue, value, i), batch.Payload[i]);
                Assert.Equal((value, value + 1L), (batch.Start[i], batch.End[i]));
            }

            values.Add(value);
            batch.Reset();
        }

        Assert.False(reader.TryRead(batch, out _, out _, out _));
        return values;
    }

    private static EventBatchCodec<Item> Codec() => new(BlittableColumnCodec<Item>.Instance);

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(Bound);
        while (!condition())
        {
            await Task.Delay(1, timeout.Token);
        }
    }

    /// <summary>A clock whose timers (the sender's back-off) fire only when the test releases them.</summary>
    private sealed class HeldClock : TimeProvider
    {
        private readonly List<Held> _timers = [];

        public int Waiting
        {
            get
            {
                lock (_timers)
                {
                    return _timers.Count;
                }
            }
        }

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = new Held(callback, state);
            lock (_timers)
            {
                _timers.Add(timer);
            }

            return timer;
        }

        public void Release()
        {
            Held[] due;
            lock (_timers)
            {
                due = [.. _timers];
                _timers.Clear();
            }

            foreach (var timer in due)
            {
                timer.Fire();
            }
        }

        private sealed class Held(TimerCallback callback, object? state) : ITimer
        {
            private int _done;

            public void Fire()
            {
                if (Interlocked.Exchange(ref _done, 1) == 0)
                {
                    callback(state);
                }
            }

            public bool Change(TimeSpan dueTime, TimeSpan period) => true;

            public void Dispose() => Interlocked.Exchange(ref _done, 1);

            public ValueTask DisposeAsync()
            {
                Dispose();
                return ValueTask.CompletedTask;
            }
        }
    }
}
