using LinqStream.Parallel;

namespace LinqStream.Tests.Parallel;

public sealed class SpscChannelTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Channel_SmallRingBetweenThreads_DeliversEveryMessageInOrder(bool spin)
    {
        // Without the spin every wait on an empty or full ring blocks at once: the announce-and-look-again protocol alone must
        // not lose a wake-up (a lost one would stall the test at the 100 ms backstop per message, far beyond its time-out).
        var channel = new SpscChannel<long>(capacity: 2, batchSize: 4) { SpinBeforeBlocking = spin };
        const int Batches = 20_000;
        var producer = Task.Run(() =>
        {
            long next = 0;
            for (int b = 0; b < Batches; b++)
            {
                var batch = channel.BeginBatch()!;
                int count = b % 4 + 1;
                for (int i = 0; i < count; i++)
                {
                    batch.Add(next, next + 1, next);
                    next++;
                }

                channel.PublishBatch();
                channel.SendWatermark(next);
            }

            channel.SendCompleted();
        });

        long expected = 0, watermark = long.MinValue;
        bool completed = false;
        var consumer = Task.Run(() =>
        {
            while (channel.Peek() is { } slot)
            {
                switch (slot.Kind)
                {
                    case ChannelMessage.Batch:
                        for (int i = 0; i < slot.Batch.Count; i++)
                        {
                            Assert.Equal(expected++, slot.Batch.Payload[i]);
                            Assert.True(slot.Batch.Start[i] >= watermark);
                        }

                        break;
                    case ChannelMessage.Watermark:
                        Assert.Equal(expected, slot.Value);
                        watermark = slot.Value;
                        break;
                    case ChannelMessage.Completed:
                        completed = true;
                        channel.Release();
                        return;
                }

                channel.Release();
            }
        });

        await Task.WhenAll(producer, consumer).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(completed);
        Assert.Equal(Enumerable.Range(0, Batches).Sum(b => b % 4 + 1), expected);
    }

    [Fact]
    public void ShouldSpin_OnlyWhenTheRunsThreadsFitOnTheCores_UnlessForced()
    {
        int cores = Environment.ProcessorCount;
        Assert.True(ChannelWaits.ShouldSpin(cores, forced: null));
        Assert.True(ChannelWaits.ShouldSpin(1, forced: null));
        Assert.False(ChannelWaits.ShouldSpin(cores + 1, forced: null));
        Assert.True(ChannelWaits.ShouldSpin(cores + 1, forced: true));
        Assert.False(ChannelWaits.ShouldSpin(1, forced: false));
    }

    [Fact]
    public async Task Channel_Full_ProducerWaitsUntilClosedThenGivesUp()
    {
        var channel = new SpscChannel<int>(capacity: 2, batchSize: 1);
        Assert.True(channel.SendWatermark(1));
        Assert.True(channel.SendWatermark(2));
        var blocked = Task.Run(() => channel.SendWatermark(3));
        Assert.False(blocked.IsCompleted);
        Assert.Equal(2, channel.Depth);
        channel.Close();
        Assert.False(await blocked.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Null(channel.BeginBatch());
    }

    [Fact]
    public void SendBatch_SameCapacity_SwapsColumnsWithoutCopying()
    {
        var channel = new SpscChannel<string>(capacity: 2, batchSize: 8);
        var batch = new LinqStream.Runtime.EventBatch<string>(8);
        batch.Add(1, 2, "a");
        batch.Add(3, 4, "b");
        batch.SetAbsent(1);
        var payload = batch.Payload;
        Assert.True(channel.SendBatch(batch));
        Assert.Equal(0, batch.Count);
        var slot = channel.Peek()!;
        Assert.Same(payload, slot.Batch.Payload);
        Assert.Equal(2, slot.Batch.Count);
        Assert.True(slot.Batch.IsAbsent(1));
        Assert.False(slot.Batch.IsAbsent(0));
    }

    [Fact]
    public async Task WaitForMessageAsync_EmptyChannel_CompletesWhenTheProducerPublishes()
    {
        var channel = new SpscChannel<int>(capacity: 2, batchSize: 1);
        var wait = channel.WaitForMessageAsync();
        Assert.False(wait.IsCompleted);
        Assert.Same(wait, channel.WaitForMessageAsync()); // a second look before anything came waits on the same message

        Assert.True(channel.SendWatermark(5));
        await wait.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(channel.WaitForMessageAsync().IsCompleted); // a message is there: no wait
        Assert.Equal(5, channel.Peek()!.Value);
        channel.Release();
        Assert.False(channel.WaitForMessageAsync().IsCompleted);
    }

    [Fact]
    public async Task WaitForMessageAsync_ChannelClosed_Completes()
    {
        var channel = new SpscChannel<int>(capacity: 2, batchSize: 1);
        var wait = channel.WaitForMessageAsync();
        Assert.False(wait.IsCompleted);
        channel.Close();
        await wait.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(channel.WaitForMessageAsync().IsCompleted);
    }

    [Fact]
    public async Task WaitForMessageAsync_RacingAProducer_NeverMissesAMessage()
    {
        // Every round the consumer announces its wait while the producer publishes: the wait must end each time.
        var channel = new SpscChannel<int>(capacity: 2, batchSize: 1);
        const int Rounds = 20_000;
        var consumed = new SemaphoreSlim(0);
        var producer = Task.Run(async () =>
        {
            for (int i = 0; i < Rounds; i++)
            {
                Assert.True(channel.SendWatermark(i));
                await consumed.WaitAsync();
            }
        });

        for (int i = 0; i < Rounds; i++)
        {
            await channel.WaitForMessageAsync().WaitAsync(TimeSpan.FromSeconds(30));
            var slot = channel.TryPeek();
            Assert.NotNull(slot);
            Assert.Equal(i, slot.Value);
            channel.Release();
            consumed.Release();
        }

        await producer.WaitAsync(TimeSpan.FromSeconds(30));
    }
}
