using LinqStream.Orleans.Channels;
using LinqStream.Parallel;
using LinqStream.Runtime;

namespace LinqStream.Orleans.Tests.Channels;

/// <summary>A payload with keys at the ends of the range (an unmanaged struct: one copy per column).</summary>
internal readonly record struct Item(long Key, long Value, long Tag);

/// <summary>What a channel carries, written as the plain list a reference comparison needs.</summary>
internal sealed record Message(ChannelMessage Kind, long Value, (long Start, long End, Item Payload)[] Events, string? Error = null)
{
    public bool Equals(Message? other) =>
        other is not null && Kind == other.Kind && Value == other.Value && Error == other.Error && Events.SequenceEqual(other.Events);

    public override int GetHashCode() => HashCode.Combine(Kind, Value, Events.Length);

    public override string ToString() => $"{Kind} {Value} [{Events.Length}] {Error}";
}

/// <summary>Random channel traffic (batches with filtered-out events, empty batches, ties, huge keys, watermarks, barriers) and the sending and reading loops.</summary>
internal static class ChannelTraffic
{
    public const int BatchSize = 64;

    /// <summary>Random messages and, for each batch, the batch to send (with absent events); the expected messages hold only live events.</summary>
    public static (List<(Message Expected, EventBatch<Item>? Batch)> Messages, int Events) Generate(int seed, int count)
    {
        var random = new Random(seed);
        var messages = new List<(Message, EventBatch<Item>?)>();
        long time = 0;
        long barrier = 0;
        int events = 0;
        for (int m = 0; m < count; m++)
        {
            int roll = random.Next(10);
            if (roll < 7)
            {
                var batch = new EventBatch<Item>(BatchSize);
                int n = random.Next(0, BatchSize + 1);
                var live = new List<(long, long, Item)>();
                for (int i = 0; i < n; i++)
                {
                    time += random.Next(0, 3); // ties
                    long key = random.Next(4) switch { 0 => long.MaxValue, 1 => long.MinValue, _ => random.NextInt64() };
                    var item = new Item(key, random.NextInt64(), i);
                    batch.Add(time, time + random.Next(1, 100), item);
                    if (random.Next(5) == 0)
                    {
                        batch.SetAbsent(i);
                    }
                    else
                    {
                        live.Add((batch.Start[i], batch.End[i], item));
                    }
                }

                events += live.Count;
                messages.Add((new Message(ChannelMessage.Batch, 0, [.. live]), batch));
            }
            else if (roll < 9)
            {
                messages.Add((new Message(ChannelMessage.Watermark, time, []), null));
            }
            else
            {
                messages.Add((new Message(ChannelMessage.Barrier, ++barrier, []), null));
            }
        }

        messages.Add((new Message(ChannelMessage.Error, 0, [], "source 'bids-0' failed at entry 17-3"), null));
        messages.Add((new Message(ChannelMessage.Completed, 0, []), null));
        return (messages, events);
    }

    /// <summary>Sends the messages in order: each batch and watermark as a frame, or with <paramref name="coalesce"/> into the writer's open frame.</summary>
    public static async Task SendAsync(ChannelWriter<Item> writer, IEnumerable<(Message Expected, EventBatch<Item>? Batch)> messages, bool coalesce = false)
    {
        foreach (var (expected, batch) in messages)
        {
            switch (expected.Kind)
            {
                case ChannelMessage.Batch when coalesce:
                    await writer.AddAsync(batch!);
                    break;
                case ChannelMessage.Batch:
                    await writer.SendBatchAsync(batch!);
                    break;
                case ChannelMessage.Watermark when coalesce:
                    writer.AddWatermark(expected.Value);
                    break;
                case ChannelMessage.Watermark:
                    await writer.SendWatermarkAsync(expected.Value);
                    break;
                case ChannelMessage.Barrier:
                    await writer.SendBarrierAsync(expected.Value);
                    break;
                case ChannelMessage.Error:
                    await writer.SendErrorAsync(expected.Error!);
                    break;
                default:
                    await writer.CompleteAsync();
                    break;
            }
        }
    }

    /// <summary>Reads until completion into batches of <paramref name="batchSize"/> (a coalescing writer's frame size); <paramref name="pause"/> makes the consumer slow at random.</summary>
    public static async Task<List<Message>> ReadAllAsync(ChannelReader<Item> reader, Random? pause = null, int batchSize = BatchSize)
    {
        var read = new List<Message>();
        var batch = new EventBatch<Item>(batchSize);
        while (true)
        {
            await reader.WaitToReadAsync().WaitAsync(TimeSpan.FromMinutes(2));
            while (reader.TryRead(batch, out var kind, out long value, out string? error))
            {
                var events = new (long, long, Item)[batch.Count];
                for (int i = 0; i < batch.Count; i++)
                {
                    events[i] = (batch.Start[i], batch.End[i], batch.Payload[i]);
                }

                batch.Reset();
                read.Add(new Message(kind, kind == ChannelMessage.Batch ? 0 : value, events, error));
                if (kind == ChannelMessage.Completed)
                {
                    return read;
                }

                if (pause is not null && pause.Next(4) == 0)
                {
                    await Task.Yield();
                }
            }
        }
    }
}
