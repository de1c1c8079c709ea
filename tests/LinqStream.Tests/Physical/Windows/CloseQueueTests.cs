using LinqStream.Physical.Windows.KeyedFold;

namespace LinqStream.Tests.Physical.Windows;

/// <summary>The keyed fold's queue of closes (a radix heap) against a plain reference: the open entries sorted by close.</summary>
public sealed class CloseQueueTests
{
    [Theory]
    [InlineData(1, 1_000L)] // many equal closes
    [InlineData(2, 200_000_000L)] // q9's look-back of 20 s in ticks
    [InlineData(3, long.MaxValue / 4)] // huge distances: every bucket in use
    public void TakeBelowAWatermark_RandomCloses_GivesEachCloseInOrder(int seed, long span)
    {
        var random = new Random(seed);
        var queue = new CloseQueue();
        var open = new List<(long Close, int Slot)>();
        long watermark = random.Next(2) == 0 ? 0 : long.MinValue / 2;
        int nextSlot = 0;
        for (int round = 0; round < 2_000; round++)
        {
            // Groups open with closes at or after the watermark (as the fold's input gives them), some exactly on it, some at the end of time.
            int adds = random.Next(0, 40);
            for (int i = 0; i < adds; i++)
            {
                long close = random.Next(10) switch
                {
                    0 => watermark,
                    1 => long.MaxValue - random.Next(3),
                    _ => Plus(watermark, (long)(random.NextDouble() * span)),
                };
                queue.Enqueue(nextSlot, close);
                open.Add((close, nextSlot++));
            }

            Assert.Equal(open.Count, queue.Count);

            // Take out every close below a watermark that moves on, one close at a time, all groups of a close together.
            watermark = random.Next(50) == 0 ? long.MaxValue : Plus(watermark, (long)(random.NextDouble() * span / 8));
            var taken = new List<(long Close, int Slot)>();
            while (queue.TryPeek(out int slot, out long close) && close < watermark)
            {
                queue.Dequeue();
                taken.Add((close, slot));
            }

            var expected = open.Where(e => e.Close < watermark).OrderBy(e => e.Close).ToList();
            Assert.Equal(expected.Select(e => e.Close), taken.Select(e => e.Close));
            Assert.Equal(expected.OrderBy(e => e.Slot), taken.OrderBy(e => e.Slot)); // the same entries; within a close, any order
            open.RemoveAll(e => e.Close < watermark);
            Assert.Equal(open.Count, queue.Count);
            if (watermark == long.MaxValue)
            {
                watermark = random.Next(2) == 0 ? 0 : long.MinValue / 2;
                queue.Clear();
                open.Clear();
            }
        }
    }

    private static long Plus(long a, long b) => b > long.MaxValue - a ? long.MaxValue : a + b;

    [Fact]
    public void Enqueue_CloseBeforeTheLastTakenOut_StillComesOutFirst()
    {
        var queue = new CloseQueue();
        queue.Enqueue(0, 100);
        queue.Enqueue(1, 300);
        Assert.True(queue.TryPeek(out int slot, out long close));
        Assert.Equal((0, 100L), (slot, close));
        queue.Dequeue();
        queue.Enqueue(2, 50); // below the last close taken out: never from the fold's input, but the order holds
        queue.Enqueue(3, 200);
        var taken = new List<long>();
        while (queue.TryPeek(out _, out close))
        {
            queue.Dequeue();
            taken.Add(close);
        }

        Assert.Equal([50L, 200L, 300L], taken);
        Assert.Throws<InvalidOperationException>(queue.Dequeue);
    }
}
