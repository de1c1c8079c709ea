using LinqStream.Physical.Join;
using LinqStream.Runtime;

namespace LinqStream.Tests.Physical.Join;

/// <summary>The walk of a buffered join's run (<see cref="JoinRun"/>, through <see cref="InputQueue{T, TKey}.Run"/>) against LINQ over the batch.</summary>
public sealed class JoinRunTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void JoinRun_RandomBatches_ProcessesThePresentNonEmptyEventsUpToTheFirstPresentOneAfterTheBound(int seed)
    {
        var random = new Random(seed);
        for (int round = 0; round < 2_000; round++)
        {
            // A batch in start order with ties, huge and negative starts, empty lifetimes (end <= start) and filtered-out events.
            int capacity = random.Next(1, 300);
            var batch = new EventBatch<int>(capacity);
            int count = random.Next(0, capacity + 1);
            long start = random.Next(3) == 0 ? long.MaxValue - 1_000 : random.NextInt64(-1_000_000, 1_000_000);
            for (int i = 0; i < count; i++)
            {
                start += random.Next(4) == 0 ? 0 : random.Next(1, 50);
                start = Math.Min(start, long.MaxValue - 10);
                long end = random.Next(5) switch
                {
                    0 => start,
                    1 => start - random.Next(1, 10),
                    2 => long.MaxValue,
                    _ => start + random.Next(1, 10),
                };
                batch.Add(start, end, i);
                if (random.Next(4) == 0)
                {
                    batch.SetAbsent(i);
                }
            }

            var queue = new InputQueue<int, long>(new BatchPool<int>(capacity));
            queue.Enqueue(batch, new long[capacity]);
            int from = random.Next(0, count + 1);
            queue.Index = from;
            long bound = count == 0 || random.Next(6) == 0 ? random.NextInt64(long.MinValue / 2, long.MaxValue) : batch.Start[random.Next(count)] + random.Next(-2, 3);

            // The reference: the run stops at the first present event (from the cursor on) that starts after the bound, or at the end.
            int stop = Enumerable.Range(from, count - from).Where(i => !batch.IsAbsent(i) && batch.Start[i] > bound).DefaultIfEmpty(count).First();
            var expected = Enumerable.Range(from, stop - from)
                .Where(i => !batch.IsAbsent(i) && batch.End[i] > batch.Start[i])
                .Select(i => (i, batch.Start[i], batch.End[i]))
                .ToList();

            var run = queue.Run(bound);
            var actual = new List<(int, long, long)>();
            while (run.MoveNext())
            {
                actual.Add((run.Index, run.Start, run.End));
            }

            Assert.Equal(expected, actual);
            Assert.Equal(stop, run.Stop);
            Assert.False(run.MoveNext()); // stays stopped
            Assert.Equal(stop, run.Stop);
        }
    }
}
