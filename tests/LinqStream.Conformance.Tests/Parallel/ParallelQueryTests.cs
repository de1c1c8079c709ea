using LinqStream.Conformance.Tests.Infrastructure;
using LinqStream.Testing;
using static LinqStream.Conformance.Tests.Parallel.ParallelOutput;

namespace LinqStream.Conformance.Tests.Parallel;

/// <summary>
/// Keyed window aggregates on 2 and 4 tasks give parallelism 1's answer event for event, in the same order (docs/semantics.md
/// §8), on random inputs: out of order, ties on time, huge and null keys, and one key holding half of the events.
/// </summary>
public sealed class ParallelQueryTests
{
    public sealed record Reading(long Time, long Sensor, string? Site, int Value);

    public sealed record SensorCount(long Sensor, int Count, long Sum, long Start, long End);

    public static TheoryData<int, bool> Inputs => new() { { 1, false }, { 2, false }, { 3, true }, { 4, true } };

    private static readonly long Origin = new DateTime(2026, 1, 1).Ticks;

    /// <summary>Random readings, out of order by up to 2 s, many on the same tick; keys include extremes, and when skewed sensor 0 has half.</summary>
    private static Reading[] Generate(int seed, bool skewed, int count = 6_000)
    {
        var random = new Random(seed);
        var readings = new Reading[count];
        long[] extremes = [long.MinValue, long.MaxValue, -1, 0];
        for (int i = 0; i < count; i++)
        {
            long time = Origin + (i * TimeSpan.TicksPerSecond / 200) - random.NextInt64(0, 2 * TimeSpan.TicksPerSecond);
            time -= time % (TimeSpan.TicksPerSecond / 20); // ties
            long sensor = skewed && random.Next(2) == 0 ? 0
                : random.Next(10) == 0 ? extremes[random.Next(extremes.Length)]
                : random.NextInt64(1, 300);
            string? site = random.Next(8) == 0 ? null : "site-" + random.Next(40) + (random.Next(5) == 0 ? "-ü" : string.Empty);
            readings[i] = new Reading(time, sensor, site, random.Next(-1000, 1000));
        }

        return readings;
    }

    private static IQStream<Reading> Source(Reading[] data) =>
        QStream.From(data, r => r.Time, IngressPolicy.Reorder(TimeSpan.FromSeconds(2)), "readings");

    private static Task AssertSameAtEveryParallelism<T>(Func<IQStream<T>> query) => AssertSameAsParallelism1(query, [2, 4]);

    [Theory]
    [MemberData(nameof(Inputs))]
    public async Task Tumbling_CountPerKey_SameOutputAndOrderAtP1P2P4(int seed, bool skewed)
    {
        var data = Generate(seed, skewed);
        await AssertSameAtEveryParallelism(() =>
            from r in Source(data).TumblingWindow(TimeSpan.FromSeconds(1))
            group r by r.Sensor into g
            select new SensorCount(g.Key, g.Count(), g.Sum(r => (long)r.Value), g.Window.StartTicks, g.Window.EndTicks));
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public async Task Tumbling_CountPerKey_MatchesLinqToObjects(int seed, bool skewed)
    {
        var data = Generate(seed, skewed);
        var size = TimeSpan.FromSeconds(1);
        var expected = ReferenceWindows.Fixed(data.Select(r => (r.Time, r)), size.Ticks, size.Ticks, r => r.Sensor,
                g => new SensorCount(g.Key, g.Count(), g.Sum(r => (long)r.Value), 0, 0))
            .Select(r => Run.Event(r.Start, r.End, r.Result with { Start = r.Start, End = r.End })).ToList();
        var actual = new List<StreamEvent<SensorCount>>();
        var query =
            from r in Source(data).TumblingWindow(size)
            group r by r.Sensor into g
            select new SensorCount(g.Key, g.Count(), g.Sum(r => (long)r.Value), g.Window.StartTicks, g.Window.EndTicks);
        await foreach (var e in query.WithOptions(Options(4)).ToStreamEvents())
        {
            actual.Add(e);
        }

        Run.AssertEquivalent(expected, actual);
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public async Task HoppingPanes_StringKeysWithNulls_SameOutputAndOrder(int seed, bool skewed)
    {
        var data = Generate(seed, skewed);
        await AssertSameAtEveryParallelism(() =>
            from r in Source(data).HoppingWindow(TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(1))
            group r by r.Site into g
            select new { Site = g.Key, Count = g.Count(), Max = g.Max(r => r.Value), g.Window.StartTicks });
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public async Task Hopping_CompositeKey_ThenFilterAndProject_SameOutputAndOrder(int seed, bool skewed)
    {
        var data = Generate(seed, skewed);
        await AssertSameAtEveryParallelism(() =>
            from g in
                from r in Source(data).HoppingWindow(TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(2))
                group r by new { r.Site, Parity = r.Sensor % 2 } into g
                select new { g.Key.Site, g.Key.Parity, Count = g.Count(), Distinct = g.Select(r => r.Sensor).Distinct().Count() }
            where g.Count > 1
            select g.Site + "/" + g.Parity + "=" + g.Count + "," + g.Distinct);
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public async Task Session_PerKey_SameOutputAndOrder(int seed, bool skewed)
    {
        var data = Generate(seed, skewed);
        await AssertSameAtEveryParallelism(() =>
            from r in Source(data).SessionWindow(TimeSpan.FromMilliseconds(700), TimeSpan.FromSeconds(5))
            group r by r.Sensor into g
            select new { Sensor = g.Key, Count = g.Count(), g.Window.StartTicks, g.Window.EndTicks });
    }

    [Fact]
    public async Task AggregateThenJoin_TopOfPlanRunsAfterTheMerge_SameOutputAndOrder()
    {
        var data = Generate(5, skewed: true);
        await AssertSameAtEveryParallelism(() =>
        {
            var counts =
                from r in Source(data).HoppingWindow(TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(2))
                group r by r.Sensor into g
                select new SensorCount(g.Key, g.Count(), 0, g.Window.StartTicks, g.Window.EndTicks);
            var maxima = counts.TumblingWindow(TimeSpan.FromSeconds(2)).Select(w => new { Start = w.Window.StartTicks, Max = w.Max(c => c.Count) });
            return
                from c in counts
                join m in maxima on c.Start equals m.Start
                where c.Count == m.Max
                select c;
        });
    }

    [Fact]
    public async Task Reruns_Parallelism4_AreByteIdentical()
    {
        var data = Generate(7, skewed: true, count: 3_000);
        IQStream<SensorCount> Query() =>
            from r in Source(data).TumblingWindow(TimeSpan.FromMilliseconds(500))
            group r by r.Sensor into g
            select new SensorCount(g.Key, g.Count(), g.Sum(r => (long)r.Value), g.Window.StartTicks, g.Window.EndTicks);
        string first = await Output(Query(), Options(4, batchSize: 32));
        for (int run = 0; run < 100; run++)
        {
            Assert.Equal(first, await Output(Query(), Options(run % 2 == 0 ? 4 : 2, batchSize: 32)));
        }
    }

    [Fact]
    public async Task KeySelectorThrows_Parallelism2_FailsWithTheMessageOfParallelism1()
    {
        var data = Generate(8, skewed: false, count: 2_000);
        data[1234] = data[1234] with { Value = 0 };
        IQStream<SensorCount> Query() =>
            from r in Source(data).TumblingWindow(TimeSpan.FromSeconds(1))
            group r by r.Sensor / r.Value into g
            select new SensorCount(g.Key, g.Count(), 0, g.Window.StartTicks, g.Window.EndTicks);
        var one = await Assert.ThrowsAsync<QueryExecutionException>(() => Query().WithOptions(Options(1)).ToListAsync());
        var two = await Assert.ThrowsAsync<QueryExecutionException>(() => Query().WithOptions(Options(2)).ToListAsync());
        Assert.Contains("DivideByZeroException", one.Message, StringComparison.Ordinal);
        Assert.Equal(one.Message, two.Message);
    }

    [Fact]
    public async Task StopReadingEarly_Parallelism4_EndsTheRun()
    {
        var data = Generate(9, skewed: false, count: 50_000);
        var query =
            from r in Source(data).TumblingWindow(TimeSpan.FromMilliseconds(100))
            group r by r.Sensor into g
            select g.Count();
        int seen = 0;
        await foreach (var count in query.WithOptions(Options(4, 16)).ToAsyncEnumerable().WithCancellation(new CancellationTokenSource(TimeSpan.FromMinutes(1)).Token))
        {
            if (++seen == 10)
            {
                break;
            }
        }

        Assert.Equal(10, seen);
    }

    [Fact]
    public void Explain_Parallelism4_ShowsStagesExchangesAndKeyGroups()
    {
        var data = Generate(1, skewed: false, count: 10);
        var query =
            from r in Source(data).TumblingWindow(TimeSpan.FromSeconds(1))
            group r by r.Sensor into g
            select g.Count();
        string plan = query.WithOptions(Options(4)).Explain();
        Assert.Contains("Parallelism: 4 tasks per keyed stage, 128 key groups", plan, StringComparison.Ordinal);
        Assert.Contains("Exchange: hash by key group of 'r => r.Sensor'", plan, StringComparison.Ordinal);
        Assert.Contains("key groups [0,32) [32,64) [64,96) [96,128)", plan, StringComparison.Ordinal);
        Assert.Contains("order-restoring merge", plan, StringComparison.Ordinal);
        Assert.Contains("Parallelism: 1 (one task", query.Explain(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task QueryWithoutKey_Parallelism4_RunsOnOneTaskAndExplainSaysWhy()
    {
        var data = Generate(2, skewed: false, count: 500);
        var query = Source(data).TumblingWindow(TimeSpan.FromSeconds(1)).Select(w => w.Count());
        string plan = query.WithOptions(Options(4)).Explain();
        Assert.Contains("Runs on one task although Parallelism is 4", plan, StringComparison.Ordinal);
        Assert.Equal(await Output(query, Options(1)), await Output(query, Options(4)));
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> s_threads = new();

    public static long OnThread(long key)
    {
        s_threads[Thread.CurrentThread.Name ?? "unnamed"] = 0;
        return key;
    }

    [Fact]
    public async Task Parallelism4_OnePhase_KeysAreComputedOnTheTaskThreads()
    {
        var data = Generate(10, skewed: false, count: 4_000);
        s_threads.Clear();
        var query =
            from r in Source(data).TumblingWindow(TimeSpan.FromSeconds(1))
            group r by OnThread(r.Sensor) into g
            select g.Count();
        var results = await query.WithOptions(Options(4) with { TwoPhaseAggregation = false }).ToListAsync();
        Assert.Equal(data.Length, results.Sum());
        Assert.Contains("LinqStream source task", s_threads.Keys);
        for (int task = 1; task <= 4; task++)
        {
            Assert.Contains($"LinqStream task {task}/4", s_threads.Keys);
        }
    }

    /// <summary>Counts what the engine pulled from it: how far the sources ran ahead of a blocked sink.</summary>
    private sealed class CountingSource(int count) : IEnumerable<Reading>
    {
        private long _pulled;

        public long Pulled => Interlocked.Read(ref _pulled);

        public IEnumerator<Reading> GetEnumerator()
        {
            for (int i = 0; i < count; i++)
            {
                Interlocked.Increment(ref _pulled);
                yield return new Reading(Origin + i * 1_000L, i, null, 1);
            }
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    [Fact]
    public async Task SlowSink_Parallelism4_BoundedChannelsHoldTheSourcesBack()
    {
        const int Events = 2_000_000, BatchSize = 1024;
        var source = new CountingSource(Events);
        var query =
            from r in QStream.From(source, r => r.Time, IngressPolicy.Throw, "counting").TumblingWindow(TimeSpan.FromMilliseconds(1))
            group r by r.Sensor into g
            select g.Count(); // every event is its own group: as many results as events
        using var sinkBlocked = new SemaphoreSlim(0);
        using var release = new SemaphoreSlim(0);
        long results = 0;
        var observer = System.Reactive.Observer.Create<int>(
            _ =>
            {
                if (Interlocked.Increment(ref results) == 1)
                {
                    sinkBlocked.Release();
                    Assert.True(release.Wait(TimeSpan.FromMinutes(2)), "the test never released the sink");
                }
            });
        var run = Task.Run(() => query.WithOptions(Options(4, BatchSize)).Subscribe(observer));
        Assert.True(await sinkBlocked.WaitAsync(TimeSpan.FromMinutes(1)));

        // Wait until the sources stop advancing (the channels are full), then check how far they got.
        long last = -1;
        for (int i = 0; i < 600 && source.Pulled != last; i++)
        {
            last = source.Pulled;
            await Task.Delay(100);
        }

        long pulled = source.Pulled;
        release.Release();
        await run.WaitAsync(TimeSpan.FromMinutes(2));

        // In flight at most: 4 tasks x (8 input + 8 output messages) x 1,024 events, the exchange's open batches, the
        // ingress's batch and the merge's output batch, and the windows open in each task; far below the 2M offered.
        long bound = 4 * 16 * BatchSize + 8 * BatchSize;
        Assert.True(pulled <= bound, $"The sources read {pulled:N0} events while the sink was blocked; the channels should hold them at {bound:N0}.");
        Assert.True(pulled >= BatchSize, $"The sources read only {pulled} events.");
        Assert.Equal(Events, Interlocked.Read(ref results));
    }

    [Fact]
    public void ParallelismOption_OutOfRange_IsAnArgumentError()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new QueryOptions { Parallelism = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new QueryOptions { KeyGroups = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new QueryOptions { Parallelism = 1025 });
    }
}
