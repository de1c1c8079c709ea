using System.Collections.Concurrent;
using System.Text;
using LinqStream.Testing;
using LinqStream.Testing.Io;

namespace LinqStream.Conformance.Tests.Parallel;

/// <summary>
/// A query (not a job) whose keyed window aggregate runs at P &gt; 1 over a replayed array in start order reads the array on P
/// source tasks, in chunks dealt out in turn; the output is parallelism 1's, event for event and in the same order (many
/// events on one tick, skew, huge keys, empty windows, order-sensitive aggregates). An array out of order, too small, or
/// read by a job stays on one source task, with the same output and the same errors.
/// </summary>
public sealed class RangeSplitTests
{
    public sealed record Reading(long Time, long Sensor, int Value);

    private static readonly long Origin = new DateTime(2026, 1, 1).Ticks;
    private static readonly ConcurrentDictionary<string, int> s_threads = new();

    /// <summary>Readings in start order (many on one tick), keys with extremes, sensor 0 with half when skewed, and a 5 s gap (empty windows).</summary>
    private static Reading[] Sorted(int seed, int count, bool skewed)
    {
        var random = new Random(seed);
        long[] extremes = [long.MinValue, long.MaxValue, -1, 0];
        var readings = new Reading[count];
        for (int i = 0; i < count; i++)
        {
            long time = Origin + (i * TimeSpan.TicksPerSecond / 500);
            time -= time % (TimeSpan.TicksPerSecond / 20);
            if (i > count / 2)
            {
                time += 5 * TimeSpan.TicksPerSecond;
            }

            long sensor = skewed && random.Next(2) == 0 ? 0 : random.Next(10) == 0 ? extremes[random.Next(extremes.Length)] : random.NextInt64(1, 300);
            readings[i] = new Reading(time, sensor, random.Next(-1000, 1000));
        }

        return readings;
    }

    public static bool OnThread(int value)
    {
        s_threads[Thread.CurrentThread.Name ?? "unnamed"] = 0;
        return value != 0;
    }

    private static IQStream<string> Query(Reading[] data, IngressPolicy policy) =>
        from r in QStream.From(data, r => r.Time, policy, "readings").Where(r => OnThread(r.Value)).TumblingWindow(TimeSpan.FromSeconds(1))
        group r by r.Sensor into g
        select $"{g.Window.StartTicks} {g.Key} {g.Count()} {g.Sum(r => (long)r.Value)} {g.Aggregate(17L, (a, r) => (a * 31) + r.Value)} {g.Sum(r => r.Value * 0.1):R}";

    private static async Task<(string Output, string[] Threads)> Run(IQStream<string> query, int parallelism, int batchSize)
    {
        s_threads.Clear();
        var text = new StringBuilder();
        await foreach (var e in query.WithOptions(new QueryOptions { Strict = true, BatchSize = batchSize, Parallelism = parallelism }).ToStreamEvents())
        {
            text.Append(e.Start).Append(' ').Append(e.End).Append(' ').Append(e.Payload).Append('\n');
        }

        return (text.ToString(), [.. s_threads.Keys.Order(StringComparer.Ordinal)]);
    }

    private static string[] SourceTasks(int count) =>
        count == 1 ? ["LinqStream source task"] : [.. Enumerable.Range(1, count).Select(k => $"LinqStream source task {k}/{count}")];

    [Theory]
    [InlineData(1, false, IngressPolicyKind.Throw)]
    [InlineData(2, true, IngressPolicyKind.Throw)]
    [InlineData(3, true, IngressPolicyKind.Reorder)]
    [InlineData(4, false, IngressPolicyKind.Drop)]
    public async Task SortedArray_IsReadAsPRanges_WithParallelism1Output(int seed, bool skewed, IngressPolicyKind kind)
    {
        var policy = kind switch
        {
            IngressPolicyKind.Reorder => IngressPolicy.Reorder(TimeSpan.FromSeconds(1)),
            IngressPolicyKind.Drop => IngressPolicy.Drop,
            _ => IngressPolicy.Throw,
        };
        var data = Sorted(seed, 20_000, skewed);
        var (one, _) = await Run(Query(data, policy), 1, 64);
        Assert.NotEmpty(one);
        foreach (int p in new[] { 2, 3, 4 })
        {
            foreach (int batch in new[] { 16, 64, 512 })
            {
                var (parallel, threads) = await Run(Query(data, policy), p, batch);
                Assert.Equal(SourceTasks(p), threads);
                Assert.True(one == parallel, $"P = {p}, batch {batch}: the output differs from parallelism 1");
            }
        }

        Assert.Contains("dealt out in turn", Query(data, policy).WithOptions(new QueryOptions { Parallelism = 2 }).Explain(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SortedArray_Parallelism4_MatchesLinqToObjects()
    {
        var data = Sorted(9, 30_000, skewed: true);
        var size = TimeSpan.FromSeconds(1).Ticks;
        var expected = ReferenceWindows.Fixed(data.Where(r => r.Value != 0).Select(r => (r.Time, r)), size, size, r => r.Sensor, g => (Key: g.Key, Count: g.Count(), Sum: g.Sum(r => (long)r.Value)))
            .Select(r => $"{r.Start} {r.Result.Key} {r.Result.Count} {r.Result.Sum}").Order(StringComparer.Ordinal).ToList();
        var query =
            from r in QStream.From(data, r => r.Time, IngressPolicy.Throw, "readings").Where(r => OnThread(r.Value)).TumblingWindow(TimeSpan.FromSeconds(1))
            group r by r.Sensor into g
            select $"{g.Window.StartTicks} {g.Key} {g.Count()} {g.Sum(r => (long)r.Value)}";
        s_threads.Clear();
        var actual = await query.WithOptions(new QueryOptions { BatchSize = 256, Parallelism = 4 }).ToListAsync();
        Assert.Equal(SourceTasks(4), s_threads.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(expected, actual.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ArrayOutOfOrder_StaysOnOneSourceTask_WithParallelism1Output()
    {
        var data = Sorted(5, 20_000, skewed: false);
        (data[7_000], data[12_000]) = (data[12_000], data[7_000]); // one pair out of order: late under Drop at parallelism 1
        var (one, _) = await Run(Query(data, IngressPolicy.Drop), 1, 64);
        var (two, threads) = await Run(Query(data, IngressPolicy.Drop), 2, 64);
        Assert.Equal(SourceTasks(1), threads);
        Assert.Equal(one, two);
    }

    [Fact]
    public async Task SmallArray_StaysOnOneSourceTask()
    {
        var data = Sorted(6, 500, skewed: false);
        var (one, _) = await Run(Query(data, IngressPolicy.Throw), 1, 64);
        var (four, threads) = await Run(Query(data, IngressPolicy.Throw), 4, 64); // 125 events a part, fewer than two chunks of 128
        Assert.Equal(SourceTasks(1), threads);
        Assert.Equal(one, four);
    }

    [Fact]
    public async Task TimeSelectorThrows_StaysOnOneSourceTask_AndFailsAsParallelism1()
    {
        var data = Sorted(7, 20_000, skewed: false);
        data[15_000] = data[15_000] with { Value = 0 };
        IQStream<int> Failing() =>
            from r in QStream.From(data, r => r.Time / (r.Value == 0 ? 0 : 1), IngressPolicy.Throw, "readings").TumblingWindow(TimeSpan.FromSeconds(1))
            group r by r.Sensor into g
            select g.Count();
        var one = await Assert.ThrowsAsync<QueryExecutionException>(() => Failing().WithOptions(new QueryOptions { Parallelism = 1 }).ToListAsync());
        var two = await Assert.ThrowsAsync<QueryExecutionException>(() => Failing().WithOptions(new QueryOptions { Parallelism = 2 }).ToListAsync());
        Assert.Contains("readings", one.Message, StringComparison.Ordinal);
        Assert.Equal(one.Message, two.Message);
    }

    [Fact]
    public async Task Job_OverASortedArray_ReadsItOnOneSourceTask()
    {
        var data = Sorted(8, 20_000, skewed: true);
        var sink = new MemorySink<string>();
        s_threads.Clear();
        await using (var job = Query(data, IngressPolicy.Throw).WithOptions(new QueryOptions { BatchSize = 64 }).ToJob(sink, new JobOptions { Parallelism = 2 }))
        {
            Assert.Equal(2, (await job.RunAsync()).Parallelism);
        }

        Assert.Equal(SourceTasks(1), s_threads.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(await Query(data, IngressPolicy.Throw).WithOptions(new QueryOptions { BatchSize = 64 }).ToListAsync(), sink.Items);
    }
}
