using LinqStream.Orleans.Channels;
using LinqStream.Parallel;
using LinqStream.Runtime;

namespace LinqStream.Orleans.Tests.Channels;

/// <summary>
/// Frames coalesced by the writer (issue #17): the pieces of several batches in one frame of up to the frame size, the last watermark
/// among them carried after the events, the open frame sent before a barrier, an error or the completion, or when its linger is up.
/// Checked against the plain sequence of messages sent: the same events in the same order, every barrier after exactly the events
/// before it, watermarks that are among those sent, never ahead of an event read after them and none lost at a barrier.
/// </summary>
public sealed class CoalescedFrameTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(2);

    [Theory]
    [InlineData(1, 100)]
    [InlineData(2, 100)]
    [InlineData(3, 64)]
    [InlineData(4, 7)]
    public async Task Coalesced_LostRepeatedAndReorderedCalls_SameEventsInOrderBarriersInPlace(int seed, int frameEvents)
    {
        var (messages, events) = ChannelTraffic.Generate(seed, 600);
        var receiver = new ChannelReceiver("test/coalesced", epoch: 2, capacity: 8);
        var transport = new FlakyTransport(receiver, seed, lose: 0.1, loseAnswer: 0.1, duplicate: 0.1);
        var sender = new ChannelSender(transport, epoch: 2, maxBackoff: TimeSpan.FromMilliseconds(1));
        // A linger that never ends here: frames go when full or before a barrier, the error or the completion.
        var writer = new ChannelWriter<Item>(sender, Codec(), frameEvents, TimeSpan.FromHours(1));
        var reader = new ChannelReader<Item>(receiver, Codec());

        var reading = Task.Run(() => ChannelTraffic.ReadAllAsync(reader, batchSize: frameEvents));
        await Task.Run(() => ChannelTraffic.SendAsync(writer, messages, coalesce: true)).WaitAsync(Bound);
        var read = await reading.WaitAsync(Bound);

        var sent = messages.Select(m => m.Expected).ToList();
        AssertSameStream(sent, read, frameEvents);
        Assert.Equal(events, read.Sum(m => m.Events.Length));
        Assert.True(transport.LostCalls > 0 && sender.Retries > 0, $"lost calls {transport.LostCalls}, retries {sender.Retries}: the failures were not injected");

        // Exactly the frames the sizes call for: each stretch between two barriers (or the error) cut into full frames and one rest.
        int expectedFrames = 0;
        int stretch = 0;
        foreach (var message in sent)
        {
            if (message.Kind == ChannelMessage.Batch)
            {
                stretch += message.Events.Length;
            }
            else if (message.Kind is ChannelMessage.Barrier or ChannelMessage.Error)
            {
                expectedFrames += (stretch + frameEvents - 1) / frameEvents;
                stretch = 0;
            }
        }

        Assert.Equal(expectedFrames, read.Count(m => m.Kind == ChannelMessage.Batch));
        Assert.True(read.Count(m => m.Kind == ChannelMessage.Batch) < sent.Count(m => m.Kind == ChannelMessage.Batch && m.Events.Length > 0) || frameEvents < ChannelTraffic.BatchSize,
            "coalescing sent no fewer frames than batches");
    }

    [Fact]
    public async Task Coalesced_HugeKeysTiesAndEmptyBatches_WatermarkOnlyFrameWhenNoEventCame()
    {
        var receiver = new ChannelReceiver("test/watermarks", epoch: 1, capacity: 8);
        var sender = new ChannelSender(new FlakyTransport(receiver, seed: 5), epoch: 1);
        var writer = new ChannelWriter<Item>(sender, Codec(), frameEvents: 16, TimeSpan.FromHours(1));
        var reader = new ChannelReader<Item>(receiver, Codec());

        var empty = new EventBatch<Item>(8);
        var filtered = new EventBatch<Item>(8);
        filtered.Add(10, 11, new Item(long.MinValue, 1, 0));
        filtered.SetAbsent(0);
        var ties = new EventBatch<Item>(8);
        ties.Add(20, 21, new Item(long.MaxValue, 2, 0));
        ties.Add(20, 25, new Item(long.MinValue, 3, 1));

        Assert.False(await writer.AddAsync(empty));
        Assert.False(await writer.AddAsync(filtered));
        Assert.True(writer.IsEmpty); // nothing live came: nothing to send
        writer.AddWatermark(15);
        writer.AddWatermark(12); // older: the frame keeps 15
        await writer.SendBarrierAsync(1); // a watermark-only frame, then the barrier
        Assert.False(await writer.AddAsync(ties));
        writer.AddWatermark(20);
        await writer.CompleteAsync();

        var read = await ChannelTraffic.ReadAllAsync(reader, batchSize: 16).WaitAsync(Bound);
        Message[] expected =
        [
            new(ChannelMessage.Watermark, 15, []),
            new(ChannelMessage.Barrier, 1, []),
            new(ChannelMessage.Batch, 0, [(20L, 21L, new Item(long.MaxValue, 2, 0)), (20L, 25L, new Item(long.MinValue, 3, 1))]),
            new(ChannelMessage.Watermark, 20, []),
            new(ChannelMessage.Completed, 0, []),
        ];
        Assert.Equal(expected, read);
        Assert.Equal(4, sender.AcknowledgedThrough); // watermark, barrier, the batch with its watermark, completion
    }

    [Fact]
    public async Task Pump_OpenFrameWaitsItsLingerThenGoes_AFullFrameGoesAtOnce()
    {
        var clock = new ManualClock();
        var receiver = new ChannelReceiver("test/linger", epoch: 1, capacity: 8);
        var transport = new FlakyTransport(receiver, seed: 3);
        var sender = new ChannelSender(transport, epoch: 1);
        var writer = new ChannelWriter<Item>(sender, Codec(), frameEvents: 64, TimeSpan.FromMilliseconds(20), clock);
        var reader = new ChannelReader<Item>(receiver, Codec());
        var channel = new SpscChannel<Item>(8, 64);

        Publish(channel, first: 0, count: 10);
        channel.SendWatermark(9);
        await Take(channel, writer);
        await Take(channel, writer);
        Assert.Equal(TimeSpan.FromMilliseconds(20), writer.LingerLeft);

        // Nothing more comes: the pump waits (real time passes, the linger's clock does not), and nothing is sent.
        var pump = Task.Run(() => writer.NextMessage(channel, CancellationToken.None));
        await Task.Delay(150);
        Assert.False(pump.IsCompleted);
        Assert.Equal(0, transport.Pushes);

        // The linger is up: the open frame goes (10 events and the watermark after them) and the pump waits for the next message.
        clock.Advance(TimeSpan.FromMilliseconds(20));
        await WaitUntil(() => sender.AcknowledgedThrough == 1);
        Assert.True(writer.IsEmpty);
        var batch = new EventBatch<Item>(64);
        Assert.True(reader.TryRead(batch, out var kind, out _, out _));
        Assert.Equal((ChannelMessage.Batch, 10), (kind, batch.Count));
        Assert.True(reader.TryRead(batch, out kind, out long watermark, out _));
        Assert.Equal((ChannelMessage.Watermark, 9L), (kind, watermark));
        Assert.False(pump.IsCompleted);

        // 100 events in two batches: a full frame of 64 goes at once, without the clock; 36 stay open.
        Publish(channel, first: 10, count: 50);
        Publish(channel, first: 60, count: 50);
        channel.SendWatermark(109);
        var slot = await pump.WaitAsync(Bound);
        Assert.Equal(ChannelMessage.Batch, slot!.Kind);
        await writer.AddAsync(slot.Batch);
        channel.Release();
        await Take(channel, writer);
        await Take(channel, writer);
        await WaitUntil(() => sender.AcknowledgedThrough == 2);
        batch.Reset();
        Assert.True(reader.TryRead(batch, out kind, out _, out _));
        Assert.Equal((ChannelMessage.Batch, 64), (kind, batch.Count));
        Assert.False(reader.TryRead(batch, out _, out _, out _)); // the full frame carries no watermark: it came after event 109
        Assert.False(writer.IsEmpty);

        // Closed while a frame is open: the pump ends without sending it (the task stops; the epoch is rolled back).
        channel.Close();
        Assert.Null(writer.NextMessage(channel, CancellationToken.None));
        Assert.Equal(2, sender.AcknowledgedThrough);
    }

    [Fact]
    public void Writer_WithoutFrameSize_RefusesToCoalesce()
    {
        var receiver = new ChannelReceiver("test/plain", epoch: 1);
        var writer = new ChannelWriter<Item>(new ChannelSender(new FlakyTransport(receiver, seed: 1), epoch: 1), Codec());
        Assert.Throws<InvalidOperationException>(() => writer.AddWatermark(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ChannelWriter<Item>(writer.Sender, Codec(), frameEvents: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new JobSubmission { Definition = "q5", FrameLinger = TimeSpan.FromSeconds(11) });
    }

    /// <summary>The read stream against the sent one: events, barriers, the error and the completion exactly; watermarks as a coalescing writer may carry them.</summary>
    private static void AssertSameStream(List<Message> sent, List<Message> read, int frameEvents)
    {
        Assert.All(read.Where(m => m.Kind == ChannelMessage.Batch), m => Assert.InRange(m.Events.Length, 1, frameEvents));

        // The same events in the same order, and the same non-data messages (watermarks aside) in the same places among them.
        static IEnumerable<object> Flatten(IEnumerable<Message> messages) => messages.SelectMany(m => m.Kind switch
        {
            ChannelMessage.Batch => m.Events.Select(e => (object)e),
            ChannelMessage.Watermark => [],
            _ => [(object)(m.Kind, m.Value, m.Error)],
        });

        Assert.Equal(Flatten(sent), Flatten(read));

        // Watermarks: each one read was sent, they never fall, none is ahead of an event read after it, and the last one sent before
        // each barrier, the error or the end is read before it (a barrier flushes the open frame, watermark included).
        var sentWatermarks = sent.Where(m => m.Kind == ChannelMessage.Watermark).Select(m => m.Value).ToHashSet();
        long last = long.MinValue;
        foreach (var (message, index) in read.Select((m, i) => (m, i)))
        {
            if (message.Kind != ChannelMessage.Watermark)
            {
                continue;
            }

            Assert.Contains(message.Value, sentWatermarks);
            Assert.True(message.Value >= last, $"watermark {message.Value} after {last}");
            last = message.Value;
            var later = read.Skip(index + 1).SelectMany(m => m.Events).ToList();
            Assert.All(later, e => Assert.True(e.Start >= message.Value, $"event at {e.Start} read after watermark {message.Value}"));
        }

        static List<long?> LastWatermarkBeforeEachMark(IEnumerable<Message> messages)
        {
            var marks = new List<long?>();
            long? watermark = null;
            foreach (var message in messages)
            {
                if (message.Kind == ChannelMessage.Watermark)
                {
                    watermark = Math.Max(watermark ?? long.MinValue, message.Value);
                }
                else if (message.Kind != ChannelMessage.Batch)
                {
                    marks.Add(watermark);
                }
            }

            return marks;
        }

        Assert.Equal(LastWatermarkBeforeEachMark(sent), LastWatermarkBeforeEachMark(read));
    }

    private static void Publish(SpscChannel<Item> channel, int first, int count)
    {
        var batch = channel.BeginBatch()!;
        for (int i = first; i < first + count; i++)
        {
            batch.Add(i, i + 1, new Item(i, i, i));
        }

        channel.PublishBatch();
    }

    /// <summary>One message from the channel into the writer, as a pump does (the channel has one).</summary>
    private static async Task Take(SpscChannel<Item> channel, ChannelWriter<Item> writer)
    {
        var slot = channel.TryPeek() ?? throw new InvalidOperationException("no message");
        if (slot.Kind == ChannelMessage.Batch)
        {
            await writer.AddAsync(slot.Batch);
        }
        else
        {
            writer.AddWatermark(slot.Value);
        }

        channel.Release();
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < Bound, "timed out");
            await Task.Delay(5);
        }
    }

    private static EventBatchCodec<Item> Codec() => new(BlittableColumnCodec<Item>.Instance);

    /// <summary>A clock that moves only when told.</summary>
    private sealed class ManualClock : TimeProvider
    {
        private long _ticks = 1_000_000;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Read(ref _ticks);

        public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
    }
}
