using LinqStream.Orleans.Channels;
using LinqStream.Runtime;

namespace LinqStream.Orleans.Tests.Channels;

public sealed class EventBatchCodecTests
{
    private static readonly EventBatchCodec<Item> Codec = new(BlittableColumnCodec<Item>.Instance);

    [Fact]
    public void Encode_BatchWithFilteredOutEvents_SendsOnlyTheLiveOnesInOrder()
    {
        var batch = new EventBatch<Item>(8);
        for (int i = 0; i < 8; i++)
        {
            batch.Add(i / 2, long.MaxValue, new Item(i % 2 == 0 ? long.MinValue : long.MaxValue, i, i));
        }

        batch.SetAbsent(0);
        batch.SetAbsent(5);
        var frame = Codec.Encode(batch);
        var received = new EventBatch<Item>(8);
        Codec.Decode("c", frame, received);

        var expected = Enumerable.Range(0, 8).Where(i => i is not 0 and not 5).Select(i => (batch.Start[i], batch.End[i], batch.Payload[i])).ToList();
        Assert.Equal(6, frame.Count);
        Assert.Equal(6 * (8 + 8 + 24), frame.Columns!.Length);
        Assert.Equal(expected, Enumerable.Range(0, received.Count).Select(i => (received.Start[i], received.End[i], received.Payload[i])));
        Assert.Equal(0, received.Count - received.LiveCount());
        Assert.Equal(8, batch.Count); // the sent batch is not changed
    }

    [Fact]
    public void Encode_EmptyBatch_RoundTripsToNoEvents()
    {
        var frame = Codec.Encode(new EventBatch<Item>(4));
        var received = new EventBatch<Item>(4);
        Codec.Decode("c", frame, received);

        Assert.Equal(0, frame.Count);
        Assert.Equal(0, frame.Columns!.Length);
        Assert.Equal(0, received.Count);
    }

    [Fact]
    public void Decode_TruncatedFrame_ThrowsNamingTheChannelTheFrameAndTheReason()
    {
        var frame = Codec.Encode(Batch(3));
        frame.Sequence = 41;
        frame.Epoch = 2;
        frame.Columns = FrameColumns.Of(frame.Columns!.Span[..^5]);

        var error = Assert.Throws<InvalidDataException>(() => Codec.Decode("job/agg/1/source-0", frame, new EventBatch<Item>(8)));
        Assert.Contains("'job/agg/1/source-0'", error.Message, StringComparison.Ordinal);
        Assert.Contains("frame 41 of epoch 2", error.Message, StringComparison.Ordinal);
        Assert.Contains("3 values of Item", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_StartsOutOfOrder_ThrowsNamingTheEvent()
    {
        var frame = Codec.Encode(Batch(3));
        BitConverter.TryWriteBytes(frame.Columns!.Writable[8..], -5L); // event 1 now starts at -5, before event 0

        var error = Assert.Throws<InvalidDataException>(() => Codec.Decode("c", frame, new EventBatch<Item>(8)));
        Assert.Contains("event 1 starts at -5, before event 0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_MoreEventsThanTheReceivingBatchHolds_ThrowsAskingForTheSameBatchSize()
    {
        var error = Assert.Throws<InvalidDataException>(() => Codec.Decode("c", Codec.Encode(Batch(5)), new EventBatch<Item>(4)));
        Assert.Contains("same batch size", error.Message, StringComparison.Ordinal);
    }

    private static EventBatch<Item> Batch(int count)
    {
        var batch = new EventBatch<Item>(8);
        for (int i = 0; i < count; i++)
        {
            batch.Add(i, i + 1, new Item(i, i, i));
        }

        return batch;
    }
}
