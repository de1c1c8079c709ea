using LinqStream.Runtime.Ingress;

namespace LinqStream.Tests.Parallel;

/// <summary>
/// How a replayed array in start order is dealt out to P source tasks (<see cref="ArrayChunks{T}"/>): every event in exactly one
/// part, each part in array order, no tick split between two parts, the parts moving through time together, read a batch at a
/// time across chunk ends.
/// </summary>
public sealed class ArrayChunksTests
{
    [Theory]
    [InlineData(1, 2, 16)]
    [InlineData(2, 3, 7)]
    [InlineData(3, 4, 64)]
    [InlineData(4, 2, 1)]
    public void Deal_EveryEventOnce_TicksWhole_PartsTogether(int seed, int parts, int chunk)
    {
        var random = new Random(seed);
        long time = 0;
        var times = new long[5_000];
        for (int i = 0; i < times.Length; i++)
        {
            time += random.Next(4) == 0 ? random.Next(1, 3) : 0; // runs of events on one tick, some longer than a chunk
            times[i] = time;
        }

        var items = Enumerable.Range(0, times.Length).ToArray();
        var time2 = new EventTime<int>(
            (System.Linq.Expressions.Expression<Func<int, long>>)(i => i),
            null,
            (payload, _, start, n) =>
            {
                for (int j = 0; j < n; j++)
                {
                    start[j] = times[payload[j]];
                }
            },
            null);
        var bounds = time2.ChunksInStartOrder(items, chunk);
        Assert.NotNull(bounds);
        Assert.Equal(0, bounds[0]);
        Assert.All(bounds.Skip(1), b => Assert.NotEqual(times[b - 1], times[b])); // a cut never splits a tick
        Assert.All(bounds.Zip(bounds.Skip(1)), p => Assert.True(p.Second - p.First >= chunk));

        var dealt = ArrayChunks<int>.Deal(items, bounds, parts);
        var seen = new List<int>();
        foreach (var part in dealt)
        {
            // Read it as the source does: a batch at a time, from the position reached.
            var read = new List<int>();
            var buffer = new int[random.Next(1, 3 * chunk)];
            for (int n; (n = part.CopyTo(read.Count, buffer)) > 0;)
            {
                read.AddRange(buffer.Take(n));
            }

            Assert.Equal(part.Count, read.Count);
            Assert.Equal(part.ToList(), read);
            Assert.True(read.SequenceEqual(read.Order()), "a part is not in array order");
            seen.AddRange(read);
        }

        Assert.Equal(items, seen.Order());
        var ticksOfPart = dealt.Select(p => p.Select(i => times[i]).ToHashSet()).ToArray();
        for (int a = 0; a < parts; a++)
        {
            for (int b = a + 1; b < parts; b++)
            {
                Assert.Empty(ticksOfPart[a].Intersect(ticksOfPart[b]));
            }
        }

        // Together through time: chunk c goes to part c mod P, so every part's k-th chunk is among the array's chunks k·P .. k·P + P - 1.
        var members = dealt.Select(p => p.ToHashSet()).ToArray();
        for (int c = 0; c < bounds.Count; c++)
        {
            int end = c + 1 < bounds.Count ? bounds[c + 1] : items.Length;
            Assert.All(items[bounds[c]..end], i => Assert.Contains(i, members[c % parts]));
        }
    }

    [Fact]
    public void OutOfOrder_GivesNoChunks()
    {
        var items = new[] { 1, 2, 3, 2, 5 };
        var time = new EventTime<int>((System.Linq.Expressions.Expression<Func<int, long>>)(i => i), null, (payload, _, start, n) =>
        {
            for (int j = 0; j < n; j++)
            {
                start[j] = payload[j];
            }
        }, null);
        Assert.Null(time.ChunksInStartOrder(items, 2));
        Assert.NotNull(time.ChunksInStartOrder([1, 2, 2, 3, 5], 2));
    }
}
