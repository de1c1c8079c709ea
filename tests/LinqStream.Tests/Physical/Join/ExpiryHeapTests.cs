using LinqStream.Physical.Join;

namespace LinqStream.Tests.Physical.Join;

public sealed class ExpiryHeapTests
{
    [Theory]
    [InlineData(0.0)]
    [InlineData(0.1)]
    [InlineData(1.0)]
    public void ExpiryHeap_MixedPushesAndPops_PopsInEndOrder(double disorder)
    {
        // Ends mostly increase (as for equal durations), with a share of smaller ones that must go through the heap.
        var random = new Random(17);
        var heap = new ExpiryHeap();
        var reference = new PriorityQueue<int, long>();
        var ends = new Dictionary<int, long>();
        long clock = long.MinValue / 2;
        for (int slot = 0; slot < 50_000; slot++)
        {
            clock += random.Next(3);
            long end = random.NextDouble() < disorder ? clock - random.Next(1000) : clock + 10;
            heap.Push(end, slot);
            reference.Enqueue(slot, end);
            ends[slot] = end;
            while (random.Next(3) == 0 && heap.Count > 0)
            {
                long min = heap.MinEnd;
                Assert.Equal(ends[reference.Peek()], min);
                int popped = heap.Pop();
                Assert.Equal(min, ends[popped]);
                reference.Dequeue();
            }
        }

        Assert.Equal(reference.Count, heap.Count);
        long last = long.MinValue;
        while (heap.Count > 0)
        {
            long end = ends[heap.Pop()];
            Assert.True(end >= last);
            last = end;
        }
    }
}
