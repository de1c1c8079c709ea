using LinqStream.Physical.Union;
using LinqStream.Runtime;

namespace LinqStream.Tests.Physical.Union;

/// <summary>
/// The union's output order is (start, input index, order within the input) (docs/semantics.md §8) however the inputs'
/// batches, watermarks and completions interleave in time: finely interleaved inputs (partitions read side by side, where
/// runs are one event long and the heads are merged event by event), inputs far ahead of one another (whole batches
/// forwarded), ties within and across inputs, absent (filtered) events and empty inputs, on random inputs.
/// </summary>
public sealed class UnionOrderTests
{
    private readonly record struct Item(int Input, int Seq);

    private sealed class Collector(BatchPool<Item> pool) : IStreamObserver<Item>
    {
        public List<(long Start, Item Item)> Events { get; } = [];

        public List<long> Watermarks { get; } = [];

        public bool Completed { get; private set; }

        public void OnBatch(EventBatch<Item> batch)
        {
            for (int i = 0; i < batch.Count; i++)
            {
                if (!batch.IsAbsent(i))
                {
                    Events.Add((batch.Start[i], batch.Payload[i]));
                }
            }

            pool.Return(batch);
        }

        public void OnWatermark(long watermark) => Watermarks.Add(watermark);

        public void OnCompleted() => Completed = true;

        public void OnError(Exception error) => throw error;
    }

    public static TheoryData<int, int, string> Cases()
    {
        var data = new TheoryData<int, int, string>();
        foreach (string shape in new[] { "interleaved", "ahead", "ties", "mixed" })
        {
            for (int seed = 1; seed <= 6; seed++)
            {
                data.Add(seed, 2 + (seed % 4), shape);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void RandomArrivals_OutputIsStartThenInputThenSequence(int seed, int inputCount, string shape)
    {
        var random = new Random(seed * 7_919 + shape.Length);
        var context = new QueryContext(new QueryOptions { BatchSize = 1 + random.Next(64) });
        var pool = context.Pool<Item>();
        var collector = new Collector(pool);
        var union = new UnionOperator<Item>(collector, context, inputCount);
        var inputs = Enumerable.Range(0, inputCount).Select(k => Generate(random, k, inputCount, shape)).ToArray();
        var absent = inputs.Select(events => events.Select(_ => random.Next(10) == 0).ToArray()).ToArray();
        if (inputCount > 2)
        {
            inputs[1] = []; // one empty input
            absent[1] = [];
        }

        // Push each input's events in random batches, interleaving inputs at random, with watermarks now and then.
        var positions = new int[inputCount];
        var completed = new bool[inputCount];
        while (completed.Contains(false))
        {
            int k = random.Next(inputCount);
            if (completed[k])
            {
                continue;
            }

            var events = inputs[k];
            if (positions[k] == events.Length)
            {
                union.Input(k).OnCompleted();
                completed[k] = true;
                continue;
            }

            int take = Math.Min(events.Length - positions[k], 1 + random.Next(pool.BatchSize));
            var batch = pool.Rent();
            for (int i = 0; i < take; i++)
            {
                int at = positions[k] + i;
                batch.Add(events[at].Start, events[at].Start + 1, new Item(k, at));
                if (absent[k][at])
                {
                    batch.SetAbsent(i);
                }
            }

            positions[k] += take;
            union.Input(k).OnBatch(batch);
            if (random.Next(3) == 0)
            {
                union.Input(k).OnWatermark(events[positions[k] - 1].Start);
            }
        }

        var expected = inputs
            .SelectMany((events, k) => events.Select((e, at) => (e.Start, Item: new Item(k, at))))
            .Where(e => !absent[e.Item.Input][e.Item.Seq])
            .OrderBy(e => e.Start).ThenBy(e => e.Item.Input).ThenBy(e => e.Item.Seq)
            .ToList();
        Assert.True(collector.Completed);
        Assert.Equal(expected, collector.Events);
        Assert.Equal(collector.Watermarks.Order().ToList(), collector.Watermarks); // never backwards
        Assert.Equal(0, pool.Outstanding);
    }

    private static (long Start, int Unused)[] Generate(Random random, int input, int inputCount, string shape)
    {
        int count = random.Next(200, 3_000);
        var events = new (long, int)[count];
        long time = shape == "ahead" ? input * 10_000L : 0;
        for (int i = 0; i < count; i++)
        {
            time += shape switch
            {
                "interleaved" => inputCount, // partitions of one log read round-robin: every input advances in step
                "ties" => random.Next(2), // many equal starts within and across inputs
                "ahead" => 1 + random.Next(3),
                _ => random.Next(4) == 0 ? random.Next(50) : random.Next(2),
            };
            events[i] = (shape == "interleaved" ? time + input : time, 0);
        }

        return events;
    }
}
