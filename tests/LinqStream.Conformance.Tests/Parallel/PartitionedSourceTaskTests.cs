using System.Collections.Concurrent;
using LinqStream.Conformance.Tests.Infrastructure;
using LinqStream.Testing;
using LinqStream.Testing.Io;
using static LinqStream.Conformance.Tests.Parallel.ParallelOutput;

namespace LinqStream.Conformance.Tests.Parallel;

/// <summary>
/// A keyed window aggregate over a partitioned source (<c>QStream.From(partitions, ...)</c>) at parallelism above 1 reads the
/// partitions on several source tasks, each with its own watermarks and filters, and gives parallelism 1's answer event for
/// event, in the same order, also for aggregates that depend on the order of events (a fold, a double sum) with ties across
/// partitions; on random inputs out of order within each partition, with huge keys and one key holding half of the events.
/// </summary>
public sealed class PartitionedSourceTaskTests
{
    public sealed record Reading(long Time, long Sensor, int Value);

    public sealed record Result(long Sensor, int Count, long Sum, long Fold, double Real, long Start, long End);

    private static readonly long Origin = new DateTime(2026, 1, 1).Ticks;

    /// <summary>(seed, partitions, skewed).</summary>
    public static TheoryData<int, int, bool> Inputs => new() { { 1, 2, false }, { 2, 3, true }, { 3, 5, false }, { 4, 4, true } };

    /// <summary>
    /// Random readings spread over <paramref name="partitions"/> partitions: each partition out of order by up to 1 s (never
    /// late under Reorder(2 s)), many on the same tick in several partitions; keys include extremes; when skewed sensor 0 has half.
    /// </summary>
    private static Reading[][] Generate(int seed, int partitions, bool skewed, int count = 6_000)
    {
        var random = new Random(seed);
        var lists = Enumerable.Range(0, partitions).Select(_ => new List<Reading>()).ToArray();
        long[] extremes = [long.MinValue, long.MaxValue, -1, 0];
        for (int i = 0; i < count; i++)
        {
            long time = Origin + (i * TimeSpan.TicksPerSecond / 200) - random.NextInt64(0, TimeSpan.TicksPerSecond);
            time -= time % (TimeSpan.TicksPerSecond / 20); // ties, within and across partitions
            long sensor = skewed && random.Next(2) == 0 ? 0
                : random.Next(10) == 0 ? extremes[random.Next(extremes.Length)]
                : random.NextInt64(1, 300);
            lists[random.Next(partitions)].Add(new Reading(time, sensor, random.Next(-1000, 1000)));
        }

        return [.. lists.Select(l => l.ToArray())];
    }

    private static IQStream<Reading> Source(Reading[][] partitions) =>
        QStream.From(
            [.. partitions.Select((p, i) => (EventSource<Reading>)new ArrayEventSource<Reading>(p, "readings-" + i) { MaxRead = 50 + (i * 37) })],
            r => r.Time,
            IngressPolicy.Reorder(TimeSpan.FromSeconds(2)),
            name: "readings");

    private static Task AssertSameAtEveryParallelism<T>(Func<IQStream<T>> query) => AssertSameAsParallelism1(query, [2, 3, 4]);

    private static IQStream<Result> TumblingQuery(Reading[][] data) =>
        from r in Source(data).TumblingWindow(TimeSpan.FromSeconds(1))
        group r by r.Sensor into g
        select new Result(g.Key, g.Count(), g.Sum(r => (long)r.Value), g.Aggregate(17L, (a, r) => (a * 31) + r.Value), g.Sum(r => r.Value * 0.1), g.Window.StartTicks, g.Window.EndTicks);

    [Theory]
    [MemberData(nameof(Inputs))]
    public async Task Tumbling_OrderSensitiveAggregates_SameOutputAndOrderAtP1To4(int seed, int partitions, bool skewed)
    {
        var data = Generate(seed, partitions, skewed);
        await AssertSameAtEveryParallelism(() => TumblingQuery(data));
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public async Task Tumbling_Parallelism4_MatchesLinqToObjectsInPartitionOrder(int seed, int partitions, bool skewed)
    {
        var data = Generate(seed, partitions, skewed);
        var size = TimeSpan.FromSeconds(1).Ticks;

        // The reference: every event, ordered by (time, partition, place in the partition), grouped with LINQ to objects.
        var ordered = data.SelectMany((p, i) => p.Select((r, j) => (r, i, j))).OrderBy(x => x.r.Time).ThenBy(x => x.i).ThenBy(x => x.j).Select(x => x.r).ToList();
        var expected = ReferenceWindows.Fixed(ordered.Select(r => (r.Time, r)), size, size, r => r.Sensor,
                g => new Result(g.Key, g.Count(), g.Sum(r => (long)r.Value), g.Aggregate(17L, (a, r) => (a * 31) + r.Value), g.Sum(r => r.Value * 0.1), 0, 0))
            .Select(r => Run.Event(r.Start, r.End, r.Result with { Start = r.Start, End = r.End })).ToList();
        var actual = new List<StreamEvent<Result>>();
        await foreach (var e in TumblingQuery(data).WithOptions(Options(4)).ToStreamEvents())
        {
            actual.Add(e);
        }

        Run.AssertEquivalent(expected, actual);
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public async Task HoppingAndSession_WithFilterInsidePartitions_SameOutputAndOrder(int seed, int partitions, bool skewed)
    {
        var data = Generate(seed, partitions, skewed);
        await AssertSameAtEveryParallelism(() =>
            from r in Source(data).Where(r => r.Value % 3 != 0).HoppingWindow(TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(1))
            group r by r.Sensor % 7 into g
            select new { g.Key, Count = g.Count(), Max = g.Max(r => r.Value), Fold = g.Aggregate(0L, (a, r) => (a * 7) + r.Value), g.Window.StartTicks });
        await AssertSameAtEveryParallelism(() =>
            from r in Source(data).SessionWindow(TimeSpan.FromMilliseconds(700), TimeSpan.FromSeconds(5))
            group r by r.Sensor into g
            select new { Sensor = g.Key, Count = g.Count(), g.Window.StartTicks, g.Window.EndTicks });
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public async Task ProjectionAfterThePartitions_RunsInEveryPartition_SameOutputAndOrder(int seed, int partitions, bool skewed)
    {
        var data = Generate(seed, partitions, skewed);
        IQStream<Result> Query() =>
            from x in Source(data).Select(r => new { r.Time, Key = r.Sensor % 50, Scaled = r.Value * 3 }).Where(x => x.Scaled % 7 != 0).TumblingWindow(TimeSpan.FromSeconds(1))
            group x by x.Key into g
            select new Result(g.Key, g.Count(), g.Sum(x => (long)x.Scaled), g.Aggregate(5L, (a, x) => (a * 31) + x.Scaled), 0, g.Window.StartTicks, g.Window.EndTicks);
        Assert.Contains($"Stage: {Math.Min(partitions, 2)} source tasks", Query().WithOptions(Options(2)).Explain(), StringComparison.Ordinal);
        await AssertSameAtEveryParallelism(Query);
    }

    private static readonly ConcurrentDictionary<string, int> s_filterThreads = new();

    public static bool OnThread(int value)
    {
        s_filterThreads[Thread.CurrentThread.Name ?? "unnamed"] = 0;
        return value != 0;
    }

    [Fact]
    public async Task Parallelism2_FourMergedStreams_FiltersRunOnTwoSourceTasksAndExplainShowsThem()
    {
        // Replayed arrays run on the source tasks' own threads (an EventSource is read asynchronously, on the thread pool).
        var data = Generate(11, 4, skewed: false);
        s_filterThreads.Clear();
        var streams = data.Select((p, i) => QStream.From(p, r => r.Time, IngressPolicy.Reorder(TimeSpan.FromSeconds(2)), "readings-" + i)).ToArray();
        var query =
            from r in streams[0].Merge(streams[1..]).Where(r => OnThread(r.Value)).TumblingWindow(TimeSpan.FromSeconds(1))
            group r by r.Sensor into g
            select g.Count();
        string plan = query.WithOptions(Options(2)).Explain();
        Assert.Contains("Stage: 2 source tasks, union inputs [0..1] [2..3]", plan, StringComparison.Ordinal);
        Assert.Contains("from every source task to every task", plan, StringComparison.Ordinal);

        var results = await query.WithOptions(Options(2)).ToListAsync();
        Assert.Equal(data.Sum(p => p.Count(r => r.Value != 0)), results.Sum());
        Assert.Equal(["LinqStream source task 1/2", "LinqStream source task 2/2"], s_filterThreads.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(await Output(query, Options(1)), await Output(query, Options(2)));
    }

    [Fact]
    public void Explain_IdleTimeoutPartitions_KeepOneSourceTask()
    {
        var data = Generate(14, 3, skewed: false, count: 100);
        var query =
            from r in QStream.From([.. data.Select((p, i) => (EventSource<Reading>)new ArrayEventSource<Reading>(p, "r" + i))], r => r.Time, idleTimeout: TimeSpan.FromSeconds(5)).TumblingWindow(TimeSpan.FromSeconds(1))
            group r by r.Sensor into g
            select g.Count();
        string plan = query.WithOptions(Options(2)).Explain();
        Assert.Contains("Stage: 1 task:", plan, StringComparison.Ordinal);
        Assert.DoesNotContain("source tasks", plan, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reruns_Parallelism4_AreByteIdentical()
    {
        var data = Generate(7, 4, skewed: true, count: 3_000);
        string first = await Output(TumblingQuery(data), Options(4, batchSize: 32));
        for (int run = 0; run < 50; run++)
        {
            Assert.Equal(first, await Output(TumblingQuery(data), Options(run % 2 == 0 ? 4 : 2, batchSize: 32)));
        }
    }

    [Fact]
    public async Task KeySelectorThrowsInOnePartition_Parallelism2_FailsWithTheMessageOfParallelism1()
    {
        var data = Generate(8, 3, skewed: false, count: 2_000);
        data[2][100] = data[2][100] with { Value = 0 };
        IQStream<int> Query() =>
            from r in Source(data).TumblingWindow(TimeSpan.FromSeconds(1))
            group r by r.Sensor / r.Value into g
            select g.Count();
        var one = await Assert.ThrowsAsync<QueryExecutionException>(() => Query().WithOptions(Options(1)).ToListAsync());
        var two = await Assert.ThrowsAsync<QueryExecutionException>(() => Query().WithOptions(Options(2)).ToListAsync());
        Assert.Contains("DivideByZeroException", one.Message, StringComparison.Ordinal);
        Assert.Equal(one.Message, two.Message);
    }

    [Fact]
    public async Task EmptyPartitions_Parallelism4_SameOutputAsParallelism1()
    {
        var data = Generate(12, 2, skewed: false, count: 1_000);
        Reading[][] withEmpty = [[], data[0], [], data[1], []];
        await AssertSameAtEveryParallelism(() => TumblingQuery(withEmpty));
        Assert.Equal(string.Empty, await Output(TumblingQuery([[], []]), Options(2)));
    }

    [Fact]
    public async Task Job_Parallelism2_PartitionedSource_UsesTwoSourceTasksAndGivesParallelism1Output()
    {
        var data = Generate(13, 3, skewed: true, count: 3_000);
        async Task<IReadOnlyList<Result>> RunJob(int parallelism)
        {
            var sink = new MemorySink<Result>();
            // Replayed arrays are read on the source tasks' own threads (an EventSource on the thread pool).
            var streams = data.Select((p, i) => QStream.From(p, r => r.Time, IngressPolicy.Reorder(TimeSpan.FromSeconds(2)), "readings-" + i)).ToArray();
            var query =
                from r in streams[0].Merge(streams[1..]).Where(r => OnThread(r.Value + 1)).TumblingWindow(TimeSpan.FromSeconds(1))
                group r by r.Sensor into g
                select new Result(g.Key, g.Count(), g.Sum(r => (long)r.Value), g.Aggregate(17L, (a, r) => (a * 31) + r.Value), g.Sum(r => r.Value * 0.1), g.Window.StartTicks, g.Window.EndTicks);
            await using var job = query.WithOptions(Options(1)).ToJob(sink, new JobOptions { Parallelism = parallelism });
            var result = await job.RunAsync();
            Assert.Equal(parallelism, result.Parallelism);
            return sink.Items;
        }

        s_filterThreads.Clear();
        var two = await RunJob(2);
        Assert.Equal(["LinqStream source task 1/2", "LinqStream source task 2/2"], s_filterThreads.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(await RunJob(1), two);
    }
}
