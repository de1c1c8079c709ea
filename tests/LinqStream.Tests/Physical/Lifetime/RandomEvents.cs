using LinqStream.Physical.Ingress;
using LinqStream.Tests.Infrastructure;

namespace LinqStream.Tests.Physical.Lifetime;

/// <summary>A test payload: its own lifetime (for the ingress), a key and a unique id.</summary>
internal readonly record struct Ev(long Time, long End, int Key, int Id);

/// <summary>Seeded random inputs in start order, with ties, finite and infinite lifetimes, at any base time.</summary>
internal static class RandomEvents
{
    /// <summary>Batch sizes × base times (zero, far before the epoch, far in the future) for oracle theories.</summary>
    public static TheoryData<int, long> BatchSizesAndBases()
    {
        var data = new TheoryData<int, long>();
        foreach (int batchSize in (int[])[1, 7, 4096])
        {
            foreach (long baseTime in (long[])[0, -1_000_000_000_000_000, long.MaxValue / 4])
            {
                data.Add(batchSize, baseTime);
            }
        }

        return data;
    }

    /// <summary>About 30% ties; gaps of 1..<paramref name="maxGap"/>; durations of 1..<paramref name="maxDuration"/>, some infinite.</summary>
    public static Ev[] Generate(int seed, int count, int keys, long baseTime, int maxGap = 5, int maxDuration = 20, double infiniteRate = 0.05)
    {
        var random = new Random(seed);
        var items = new Ev[count];
        long t = baseTime;
        for (int i = 0; i < count; i++)
        {
            if (random.NextDouble() >= 0.3)
            {
                t += random.Next(1, maxGap + 1);
            }

            long end = random.NextDouble() < infiniteRate ? long.MaxValue : t + random.Next(1, maxDuration + 1);
            items[i] = new Ev(t, end, random.Next(keys), i);
        }

        return items;
    }

    public static IngressStream<Ev> Source(Ev[] items) => Harness.Source(items, x => x.Time, end: x => x.End);

    /// <summary>The events as the ingress produces them (every generated lifetime is non-empty).</summary>
    public static List<StreamEvent<Ev>> AsEvents(IEnumerable<Ev> items) => items.Select(x => new StreamEvent<Ev>(x.Time, x.End, x)).ToList();
}
