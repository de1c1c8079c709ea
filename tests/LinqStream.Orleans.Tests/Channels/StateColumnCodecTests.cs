using LinqStream.Orleans.Channels;
using LinqStream.Runtime;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Orleans.Tests.Channels;

public sealed class StateColumnCodecTests
{
    [Fact]
    public void Encode_RecordPayloadsWithFilteredOutEvents_RoundTripsTheLiveOnesInOrder()
    {
        var random = new Random(7);
        var batch = new EventBatch<Bid>(64);
        var expected = new List<(long, long, Bid)>();
        for (int i = 0; i < 64; i++)
        {
            var bid = new Bid
            {
                Auction = random.Next(3) == 0 ? long.MaxValue : random.NextInt64(),
                Bidder = i % 5 == 0 ? long.MinValue : i,
                Price = random.Next(),
                Channel = i % 7 == 0 ? "" : "chännel-" + i, // empty and non-ASCII strings
                Url = "https://example.org/" + i,
                DateTime = new DateTime(2026, 12, 4, 0, 0, 0, DateTimeKind.Utc).AddTicks(i / 3), // ties
            };
            batch.Add(i / 3, (i / 3) + 10, bid);
            if (random.Next(4) == 0)
            {
                batch.SetAbsent(i);
            }
            else
            {
                expected.Add((i / 3, (i / 3) + 10, bid));
            }
        }

        // The JSON fallback (what a payload type the binary codec refuses gets), asked for by name here.
        var codec = new EventBatchCodec<Bid>(new StateColumnCodec<Bid>());
        var frame = codec.Encode(batch);
        var received = new EventBatch<Bid>(64);
        new EventBatchCodec<Bid>(new StateColumnCodec<Bid>()).Decode("c", frame, received);

        Assert.Equal(expected, Enumerable.Range(0, received.Count).Select(i => (received.Start[i], received.End[i], received.Payload[i])));
    }

    [Fact]
    public void For_UnmanagedPayload_CopiesMemoryAndRecordsAreBinary()
    {
        Assert.Same(BlittableColumnCodec<Item>.Instance, ColumnCodecs.For<Item>());
        Assert.IsType<BinaryColumnCodec<long?>>(ColumnCodecs.For<long?>());
        Assert.IsType<BinaryColumnCodec<HotItem>>(ColumnCodecs.For<HotItem>());
    }

    [Fact]
    public void Decode_TruncatedColumn_FailsNamingTheChannelTheFrameAndTheReason()
    {
        var batch = new EventBatch<HotItem>(4);
        var start = new DateTimeOffset(2026, 12, 4, 10, 0, 0, TimeSpan.Zero);
        batch.Add(1, 2, new HotItem(long.MaxValue, 3, start, start.AddSeconds(10)));
        batch.Add(1, 2, new HotItem(long.MinValue, 0, start, start.AddSeconds(10)));
        var frame = new EventBatchCodec<HotItem>(ColumnCodecs.For<HotItem>()).Encode(batch);
        frame.Sequence = 9;
        frame.Epoch = 2;
        frame.Columns = FrameColumns.Of(frame.Columns!.Span[..^5]);

        var error = Assert.Throws<InvalidDataException>(() => new EventBatchCodec<HotItem>(ColumnCodecs.For<HotItem>()).Decode("job/1/merge/task-0", frame, new EventBatch<HotItem>(4)));

        Assert.Contains("'job/1/merge/task-0'", error.Message, StringComparison.Ordinal);
        Assert.Contains("frame 9 of epoch 2", error.Message, StringComparison.Ordinal);
        Assert.Contains("HotItem", error.Message, StringComparison.Ordinal); // the column's type, from the codec
    }

    [Fact]
    public void Encode_HotItems_RoundTripEqual()
    {
        var batch = new EventBatch<HotItem>(8);
        var start = new DateTimeOffset(2026, 12, 4, 10, 0, 0, TimeSpan.FromHours(1));
        for (int i = 0; i < 8; i++)
        {
            batch.Add(i, i + 1, new HotItem(i * 1_000_000_007L, i, start.AddSeconds(i), start.AddSeconds(i + 10)));
        }

        var frame = new EventBatchCodec<HotItem>(ColumnCodecs.For<HotItem>()).Encode(batch);
        var received = new EventBatch<HotItem>(8);
        new EventBatchCodec<HotItem>(ColumnCodecs.For<HotItem>()).Decode("c", frame, received);

        Assert.Equal(batch.Payload.Take(8), received.Payload.Take(received.Count));
    }
}
