using LinqStream.Parallel;

namespace LinqStream.Tests.Parallel;

public sealed class SpscChannelTests
{
    [Fact]
    public async Task Channel_SmallRingBetweenThreads_DeliversEveryMessageInOrder()
    {
        var channel = new SpscChannel<long>(capacity: 2, batchSize: 4);
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
}
