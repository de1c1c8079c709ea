using LinqStream.Testing.Io;
using static LinqStream.Conformance.Tests.Parallel.ParallelOutput;

namespace LinqStream.Conformance.Tests.Parallel;

/// <summary>
/// A hash plan over replayed partitions (arrays merged, not declared by key) with as many source tasks as tasks (S = P) runs source
/// task t and task t on one thread (chained, docs/parallelism.md "Chained tasks in the hash plan"): the events of task t's key groups
/// go to it by a call, the rest through the channels to the other tasks, which each thread takes between its steps. The output is
/// parallelism 1's byte for byte at P = 2 and 4 and batch sizes 1, 64 and 4,096 (ordering union, two phases, events as they come,
/// sessions; events out of order, ties across partitions, empty windows and partitions, skew, huge keys), equals LINQ to objects,
/// the unchained run and itself over 20 reruns; errors on either side of the thread are parallelism 1's; the bounded channels still
/// hold the sources back behind a blocked sink; as jobs, crashes on either side restore to the uninterrupted output, and a
/// checkpoint restores at another parallelism.
/// </summary>
public sealed class ChainedHashTests : IDisposable
{
    private const string OnePhase = PartitionedReadings.OnePhase;
    private const string TwoPhase = PartitionedReadings.TwoPhase;
    private const string AsTheyCome = PartitionedReadings.AsTheyCome;
    private const string Chained = "Chained: source task t and task t run on one thread (its hash exchange calls task t's operators";
    private const string Hash = "Exchange: hash by key group of 'r => r.Sensor'";

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "linqstream-chained-hash-" + Guid.NewGuid().ToString("N"));

    /// <summary>(seed, partitions, skewed): with 4 or more partitions the second is empty.</summary>
    public static TheoryData<int, int, bool> Inputs => new() { { 1, 4, false }, { 2, 5, true }, { 3, 2, true } };

    /// <summary>Readings dealt to the partitions at random (so every source task has keys of every task).</summary>
    private static Reading[][] Generate(int seed, int partitions, bool skewed, int count = 6_000) =>
        PartitionedReadings.Generate(seed, partitions, count, skewed);

    /// <summary>The partitions as arrays (each its own ingress, <c>Reorder(2 s)</c>), merged: a union the planner splits over source tasks and hashes.</summary>
    private static IQStream<Reading> Arrays(Reading[][] data, Func<Reading, bool>? filter = null)
    {
        var streams = data.Select((p, i) => QStream.From(p, r => r.Time, IngressPolicy.Reorder(TimeSpan.FromSeconds(2)), "readings-" + i)).ToArray();
        var union = streams[0].Merge(streams[1..]);
        return filter is null ? union.Where(r => r.Value % 5 != 0) : union.Where(r => filter(r));
    }

    private static IQStream<string> Query(string plan, Reading[][] data) => PartitionedReadings.Keyed(plan, Arrays(data));

    [Theory]
    [MemberData(nameof(Inputs))]
    public async Task Arrays_SameOutputAsParallelism1_AtP2AndP4_EveryBatchSize(int seed, int partitions, bool skewed)
    {
        var data = Generate(seed, partitions, skewed);
        int[] parallelisms = partitions >= 4 ? [2, 4] : [2];
        await AssertSameAsParallelism1(() => Query(OnePhase, data), parallelisms, Hash, Chained, "union of the 2 source tasks");
        await AssertSameAsParallelism1(() => Query(TwoPhase, data), parallelisms, Hash, Chained, "Two-phase");
        await AssertSameAsParallelism1(() => Query(AsTheyCome, data), parallelisms, Hash, Chained, "as they come");
        await AssertSameAsParallelism1(
            () => from r in Arrays(data).SessionWindow(TimeSpan.FromMilliseconds(700), TimeSpan.FromSeconds(5))
                  group r by r.Sensor into g
                  select $"{g.Key} {g.Count()} {g.Window.StartTicks} {g.Window.EndTicks} {g.Aggregate(3L, (a, x) => (a * 31) + x.Value)}",
            parallelisms,
            Chained);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public async Task Arrays_MatchLinqToObjects_AndReruns_AreByteIdentical(int parallelism)
    {
        var data = Generate(11, 4, skewed: true);
        var expected = PartitionedReadings.OnePhaseReference(data, r => r.Value % 5 != 0);
        var actual = await Query(OnePhase, data).WithOptions(Options(parallelism)).ToListAsync();
        Assert.Equal(expected, actual.Order(StringComparer.Ordinal).ToList());

        string first = await Output(Query(TwoPhase, data), Options(parallelism, batchSize: 16));
        for (int run = 0; run < 20; run++)
        {
            Assert.Equal(first, await Output(Query(TwoPhase, data), Options(parallelism, batchSize: 16)));
        }
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public async Task Arrays_Unchained_GiveTheSameOutput_AndExplainSaysNotChained(int seed, int partitions, bool skewed)
    {
        var data = Generate(seed, partitions, skewed, count: 3_000);
        await AssertSameAsParallelism1(() => Query(TwoPhase, data), [2], options => options with { ChainHashTasks = false }, Hash);
        Assert.DoesNotContain("Chained", Query(TwoPhase, data).WithOptions(Options(2) with { ChainHashTasks = false }).Explain(), StringComparison.Ordinal);
        Assert.Contains(Chained, Query(TwoPhase, data).WithOptions(Options(2)).Explain(), StringComparison.Ordinal);
    }

    /// <summary>Fewer partitions than tasks (S &lt; P: tasks no source task runs), or partitions read on pool threads: not chained, the same output.</summary>
    [Fact]
    public async Task FewerPartitionsThanTasks_OrEventSources_AreNotChained()
    {
        var data = Generate(5, 2, skewed: true, count: 3_000);
        await AssertSameAsParallelism1(() => Query(OnePhase, data), [4], Hash);
        Assert.DoesNotContain("Chained", Query(OnePhase, data).WithOptions(Options(4)).Explain(), StringComparison.Ordinal);

        var sources = PartitionedReadings.Sources(Generate(6, 4, skewed: false, count: 500));
        string plan = PartitionedReadings.Keyed(OnePhase, PartitionedReadings.Union(sources)).WithOptions(Options(2)).Explain();
        Assert.Contains(Hash, plan, StringComparison.Ordinal);
        Assert.DoesNotContain("Chained", plan, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(2, true)]
    [InlineData(4, true)]
    [InlineData(2, false)]
    [InlineData(4, false)]
    public async Task ThrowsOnTheChainedThread_InTheAggregateOrTheFilter_FailsAsAtParallelism1(int parallelism, bool inTask)
    {
        var data = Generate(12, 4, skewed: true, count: 3_000);
        var poison = data.SelectMany(p => p).Where(r => r.Value % 5 != 0).OrderBy(r => r.Time).ElementAt(1_500);
        var inFilter = inTask ? null : poison;
        var inFold = inTask ? poison : null;
        IQStream<string> Throwing() =>
            from r in Arrays(data, r => Poisoned(r, inFilter) && r.Value % 5 != 0).TumblingWindow(TimeSpan.FromSeconds(1))
            group r by r.Sensor into g
            select $"{g.Window.StartTicks} {g.Key} {g.Aggregate(17L, (a, x) => Poisoned(x, inFold) ? (a * 31) + x.Value : a)}";

        var one = await Assert.ThrowsAnyAsync<Exception>(() => Throwing().WithOptions(Options(1)).ToListAsync());
        Assert.Contains("poison reading", one.ToString(), StringComparison.Ordinal);
        Assert.Contains(Chained, Throwing().WithOptions(Options(parallelism)).Explain(), StringComparison.Ordinal);
        foreach (int batch in new[] { 1, 64, 4096 })
        {
            var parallel = await Assert.ThrowsAnyAsync<Exception>(() => Throwing().WithOptions(Options(parallelism, batch)).ToListAsync());
            Assert.Equal(one.GetType(), parallel.GetType());
            Assert.Contains("poison reading", parallel.ToString(), StringComparison.Ordinal);
        }
    }

    /// <summary>True, or throws at <paramref name="poison"/> (matched by value: the pipeline may hand on equal copies).</summary>
    private static bool Poisoned(Reading r, Reading? poison) => poison is null || r != poison ? true : throw new InvalidOperationException("poison reading");

    /// <summary>
    /// A sink that blocks at its first result holds 4 chained threads back: each waits for room in its output (or in another task's
    /// channel, running its own task meanwhile), so the partitions are read only as far as the bounded channels hold.
    /// </summary>
    [Fact]
    public async Task SlowSink_Parallelism4_BoundedChannelsHoldTheChainedThreadsBack()
    {
        const int PerPartition = 500_000, BatchSize = 1024;
        var partitions = Enumerable.Range(0, 4).Select(p => new PulledReadings(p, PerPartition)).ToArray();
        var streams = partitions.Select((p, i) => QStream.From(p, r => r.Time, IngressPolicy.Throw, "pulled-" + i)).ToArray();
        var query =
            from r in streams[0].Merge(streams[1..]).TumblingWindow(TimeSpan.FromMilliseconds(1))
            group r by r.Sensor into g
            select g.Count(); // every reading is its own group: as many results as readings
        Assert.Contains(Chained, query.WithOptions(Options(4, BatchSize)).Explain(), StringComparison.Ordinal);
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

        long last = -1;
        for (int i = 0; i < 600 && partitions.Sum(p => p.Pulled) != last; i++)
        {
            last = partitions.Sum(p => p.Pulled);
            await Task.Delay(100);
        }

        long pulled = partitions.Sum(p => p.Pulled);
        release.Release();
        await run.WaitAsync(TimeSpan.FromMinutes(2));

        // In flight at most: 12 channels between the threads and 4 outputs, 8 messages of 1,024 each, the exchanges' open batches,
        // each partition's ingress batch, and the merge's output batch; far below the 2M offered.
        long bound = (12 + 4) * 8 * BatchSize + (4 * 8 * BatchSize);
        Assert.True(pulled <= bound, $"The partitions were read to {pulled:N0} readings while the sink was blocked; the channels should hold them at {bound:N0}.");
        Assert.True(pulled >= BatchSize, $"The partitions gave only {pulled} readings.");
        Assert.Equal(4L * PerPartition, Interlocked.Read(ref results));
    }

    private static QueryOptions JobQueryOptions => new() { BatchSize = 64, Strict = true };

    /// <summary>(seed, partitions, parallelism, crash on the task side: in the aggregate, else in the partitions' filter).</summary>
    public static TheoryData<int, int, int, bool> CrashCases => new() { { 1, 4, 2, false }, { 2, 4, 4, true }, { 3, 5, 2, true }, { 4, 2, 2, false }, { 5, 5, 4, false } };

    [Theory]
    [MemberData(nameof(CrashCases))]
    public async Task Job_Crashes_OnTheChainedThread_RestoredOutput_EqualsParallelism1(int seed, int partitions, int parallelism, bool inTask)
    {
        var data = Generate(seed, partitions, skewed: seed % 2 == 0);
        var crash = new ChainedForwardTests.CrashSwitch();
        IQStream<string> CrashingQuery() =>
            from r in Arrays(data, r => crash.Pass(r, !inTask)).TumblingWindow(TimeSpan.FromSeconds(1))
            group r by r.Sensor into g
            select $"{g.Window.StartTicks} {g.Key} {g.Count()} {g.Aggregate(17L, (a, x) => crash.Fold(a, x, inTask))}";

        var reference = await CrashingQuery().WithOptions(JobQueryOptions).ToListAsync();
        Assert.NotEmpty(reference);
        Assert.Contains(Chained, CrashingQuery().WithOptions(JobQueryOptions with { Parallelism = parallelism }).Explain(), StringComparison.Ordinal);
        var random = new Random((seed * 7919) + parallelism);
        var kept = data.MaxBy(p => p.Length)!.Where(r => r.Value % 5 != 0).ToList();
        var crashes = Enumerable.Range(1, 3).Select(k => kept[(kept.Count * k / 4) + random.Next(-kept.Count / 20, kept.Count / 20)]).ToList();
        var store = new DirectoryCheckpointStore(Path.Combine(_directory, $"crash-{seed}-{partitions}-{parallelism}-{inTask}"));
        await ChainedForwardTests.AssertCrashesRestore(() => CrashingQuery().WithOptions(JobQueryOptions), reference, crash, crashes, store, parallelism, random);
    }

    /// <summary>A checkpoint taken at <c>from</c> two thirds through restores at <c>to</c>: chained to chained (2 to 4, 4 to 2), to parallelism 1, and from it.</summary>
    [Theory]
    [InlineData(2, 1)]
    [InlineData(2, 4)]
    [InlineData(4, 2)]
    [InlineData(1, 2)]
    public async Task Job_CheckpointAtOneParallelism_RestoresAtAnother_WithTheUninterruptedOutput(int from, int to)
    {
        var data = Generate(41 + from + to, 4, skewed: true, count: 40_000);
        var reference = await Query(OnePhase, data).WithOptions(JobQueryOptions).ToListAsync();
        var store = new DirectoryCheckpointStore(Path.Combine(_directory, $"rescale-{from}-to-{to}"));
        await PartitionedReadings.AssertRestoresAtAnotherParallelism(() => Query(OnePhase, data), reference, store, from, to);
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    /// <summary>A partition that counts how far it was read: every reading a sensor of its own, 10 per millisecond.</summary>
    private sealed class PulledReadings(int partition, int count) : IEnumerable<Reading>
    {
        private long _pulled;

        public long Pulled => Interlocked.Read(ref _pulled);

        public IEnumerator<Reading> GetEnumerator()
        {
            for (int i = 0; i < count; i++)
            {
                Interlocked.Increment(ref _pulled);
                yield return new Reading(PartitionedReadings.Origin + (i * 1_000L), ((long)i * 4) + partition, 1);
            }
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
