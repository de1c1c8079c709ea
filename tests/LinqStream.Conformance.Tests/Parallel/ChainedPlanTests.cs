using LinqStream.Testing.Io;
using static LinqStream.Conformance.Tests.Parallel.ParallelOutput;

namespace LinqStream.Conformance.Tests.Parallel;

/// <summary>
/// What every chained plan (source task t and task t on one thread, docs/parallelism.md "Chained tasks") must do, whichever exchange
/// runs between them: <see cref="ChainedForwardTests"/> (a forward plan over arrays partitioned by key) and <see cref="ChainedHashTests"/>
/// (a hash plan over arrays with S = P) each run these over their own partitions. The output equals LINQ to objects and itself over
/// 20 reruns; an aggregate or a filter that throws on the chained thread fails as at parallelism 1; as jobs, crashes on either side
/// restore to the uninterrupted output, and a checkpoint restores at another parallelism (2 to 1 and 4, 4 to 2, 1 to 2).
/// </summary>
public abstract class ChainedPlanTests : IDisposable
{
    protected const string OnePhase = PartitionedReadings.OnePhase;
    protected const string TwoPhase = PartitionedReadings.TwoPhase;

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "linqstream-chained-" + Guid.NewGuid().ToString("N"));

    /// <summary>(seed, partitions, skewed).</summary>
    public static TheoryData<int, int, bool> Inputs => new() { { 1, 4, false }, { 2, 5, true }, { 3, 2, true } };

    /// <summary>(seed, partitions, parallelism, crash on the task side: in the aggregate, else in the partitions' filter).</summary>
    public static TheoryData<int, int, int, bool> CrashCases => new() { { 1, 4, 2, false }, { 2, 4, 4, true }, { 3, 5, 2, true }, { 4, 2, 2, false }, { 5, 4, 1, false }, { 6, 4, 1, true }, { 7, 5, 4, false } };

    /// <summary>Gets what <c>Explain()</c> says when the plan under test chains.</summary>
    protected abstract string Chained { get; }

    /// <summary>Gets what <c>Explain()</c> says of the plan under test with chaining switched off (<see cref="Unchained"/>).</summary>
    protected abstract string NotChained { get; }

    /// <summary>Gets the aggregates of <see cref="PartitionedReadings.Keyed"/> the plan under test is run with.</summary>
    protected abstract IReadOnlyList<string> Plans { get; }

    /// <summary>What <c>Explain()</c> says of the plan under test for aggregate <paramref name="plan"/> of <see cref="Plans"/>.</summary>
    protected abstract string[] PlanSays(string plan);

    /// <summary>The options with the plan under test's chaining switched off.</summary>
    protected abstract QueryOptions Unchained(QueryOptions options);

    protected static QueryOptions JobQueryOptions => new() { BatchSize = 64, Strict = true };

    /// <summary>Random readings (out of order by up to 1 s, ties across partitions, extreme sensors, sensor 0 with half when skewed), partitioned as the plan under test reads them.</summary>
    protected abstract Reading[][] Generate(int seed, int partitions, bool skewed, int count = 6_000);

    /// <summary>The partitions as one stream the plan under test splits, without a filter.</summary>
    protected abstract IQStream<Reading> Partitioned(Reading[][] data);

    protected IQStream<string> Query(string plan, Reading[][] data) =>
        PartitionedReadings.Keyed(plan, Partitioned(data).Where(r => r.Value % 5 != 0));

    /// <summary>A folder for a job's checkpoints, deleted with the test.</summary>
    protected string StorePath(string name) => Path.Combine(_directory, name);

    [Theory]
    [MemberData(nameof(Inputs), MemberType = typeof(ChainedPlanTests))]
    public async Task Arrays_SameOutputAsParallelism1_AtP2AndP4_EveryBatchSize(int seed, int partitions, bool skewed)
    {
        var data = Generate(seed, partitions, skewed);
        int[] parallelisms = partitions >= 4 ? [2, 4] : [2];
        foreach (string plan in Plans)
        {
            await AssertSameAsParallelism1(() => Query(plan, data), parallelisms, [Chained, .. PlanSays(plan)]);
        }

        await AssertSameAsParallelism1(
            () => from r in Partitioned(data).SessionWindow(TimeSpan.FromMilliseconds(700), TimeSpan.FromSeconds(5))
                  group r by r.Sensor into g
                  select $"{g.Key} {g.Count()} {g.Window.StartTicks} {g.Window.EndTicks} {g.Aggregate(3L, (a, x) => (a * 31) + x.Value)}",
            parallelisms,
            Chained);
    }

    [Theory]
    [MemberData(nameof(Inputs), MemberType = typeof(ChainedPlanTests))]
    public async Task Arrays_Unchained_GiveTheSameOutput_AndExplainSaysNotChained(int seed, int partitions, bool skewed)
    {
        var data = Generate(seed, partitions, skewed, count: 3_000);
        foreach (string plan in Plans)
        {
            await AssertSameAsParallelism1(() => Query(plan, data), [2], Unchained, [NotChained, .. PlanSays(plan)]);
            Assert.DoesNotContain(Chained, Query(plan, data).WithOptions(Unchained(Options(2))).Explain(), StringComparison.Ordinal);
        }
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

        foreach (string plan in new[] { OnePhase, TwoPhase })
        {
            string first = await Output(Query(plan, data), Options(parallelism, batchSize: 16));
            for (int run = 0; run < 10; run++)
            {
                Assert.Equal(first, await Output(Query(plan, data), Options(parallelism, batchSize: 16)));
            }
        }
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
            from r in Partitioned(data).Where(r => Poisoned(r, inFilter) && r.Value % 5 != 0).TumblingWindow(TimeSpan.FromSeconds(1))
            group r by r.Sensor into g
            select $"{g.Window.StartTicks} {g.Key} {g.Aggregate(17L, (a, x) => Fold(a, x, inFold))}";

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

    [Theory]
    [MemberData(nameof(CrashCases), MemberType = typeof(ChainedPlanTests))]
    public async Task Job_Crashes_OnTheChainedThread_RestoredOutput_EqualsParallelism1(int seed, int partitions, int parallelism, bool inTask)
    {
        var data = Generate(seed, partitions, skewed: seed % 2 == 0);
        var crash = new CrashSwitch();
        IQStream<string> CrashingQuery() =>
            from r in Partitioned(data).Where(r => crash.Pass(r, !inTask)).TumblingWindow(TimeSpan.FromSeconds(1))
            group r by r.Sensor into g
            select $"{g.Window.StartTicks} {g.Key} {g.Count()} {g.Aggregate(17L, (a, x) => crash.Fold(a, x, inTask))}";

        var reference = await CrashingQuery().WithOptions(JobQueryOptions).ToListAsync();
        Assert.NotEmpty(reference);
        if (parallelism > 1)
        {
            Assert.Contains(Chained, CrashingQuery().WithOptions(JobQueryOptions with { Parallelism = parallelism }).Explain(), StringComparison.Ordinal);
        }

        var random = new Random((seed * 7919) + parallelism);
        // In one partition (a checkpoint cuts each partition at its own place), in its order and seconds apart (in different windows):
        // each restored run starts before its crash, so it reaches the next.
        var kept = data.MaxBy(p => p.Length)!.Where(r => r.Value % 5 != 0).ToList();
        var crashes = Enumerable.Range(1, 3).Select(k => kept[(kept.Count * k / 4) + random.Next(-kept.Count / 20, kept.Count / 20)]).ToList();
        var store = new DirectoryCheckpointStore(StorePath($"crash-{seed}-{partitions}-{parallelism}-{inTask}"));
        var sink = new MemorySink<string>();
        int crashed = 0;
        foreach (var target in crashes.Append(null))
        {
            crash.Arm(target);
            await using var job = CrashingQuery().WithOptions(JobQueryOptions)
                .ToJob(sink, new JobOptions { Checkpoints = store, CheckpointEveryEvents = random.Next(50, 900), Parallelism = parallelism });
            try
            {
                var result = await job.RunAsync();
                Assert.True(target is null, $"The run armed at {target} ran to its end; the switch saw {crash.Seen} readings, the armed one {crash.SeenArmed} times.");
                Assert.Equal(parallelism, result.Parallelism);
            }
            catch (Exception ex) when (target is not null && ex.ToString().Contains("Simulated crash", StringComparison.Ordinal))
            {
                crashed++;
            }
        }

        Assert.Equal(crashes.Count, crashed);
        Assert.True(sink.Completed);
        Assert.Equal(reference, sink.Items);
    }

    /// <summary>A checkpoint taken at <c>from</c> two thirds through restores at <c>to</c>: chained to chained (2 to 4, 4 to 2), to parallelism 1, and from it.</summary>
    [Theory]
    [InlineData(2, 1)]
    [InlineData(2, 4)]
    [InlineData(4, 2)]
    [InlineData(1, 2)]
    public async Task Job_CheckpointAtOneParallelism_RestoresAtAnother_WithTheUninterruptedOutput(int from, int to)
    {
        var data = Generate(21 + from + to, 4, skewed: true, count: 40_000);
        var reference = await Query(OnePhase, data).WithOptions(JobQueryOptions).ToListAsync();
        var store = new DirectoryCheckpointStore(StorePath($"rescale-{from}-to-{to}"));
        await PartitionedReadings.AssertRestoresAtAnotherParallelism(() => Query(OnePhase, data), reference, store, from, to);
    }

    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing && Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    /// <summary>True, or throws at <paramref name="poison"/> (matched by value: the pipeline may hand on equal copies).</summary>
    private static bool Poisoned(Reading r, Reading? poison) => poison is null || r != poison ? true : throw new InvalidOperationException("poison reading");

    private static long Fold(long a, Reading r, Reading? poison) => Poisoned(r, poison) ? (a * 31) + r.Value : a;

    /// <summary>Throws at the armed reading (matched by value: the pipeline may hand on equal copies), in the filter (the source side) or in the aggregate (the task side).</summary>
    public sealed class CrashSwitch
    {
        private Reading? _target;
        private long _seen;
        private long _seenArmed;

        public long Seen => Interlocked.Read(ref _seen);

        public long SeenArmed => Interlocked.Read(ref _seenArmed);

        public void Arm(Reading? target)
        {
            Volatile.Write(ref _target, target);
            Interlocked.Exchange(ref _seen, 0);
            Interlocked.Exchange(ref _seenArmed, 0);
        }

        public bool Pass(Reading r, bool here)
        {
            Hit(r, here);
            return r.Value % 5 != 0;
        }

        public long Fold(long a, Reading r, bool here)
        {
            Hit(r, here);
            return (a * 31) + r.Value;
        }

        private void Hit(Reading r, bool here)
        {
            if (!here)
            {
                return;
            }

            Interlocked.Increment(ref _seen);
            if (Volatile.Read(ref _target) is { } target && target == r)
            {
                Interlocked.Increment(ref _seenArmed);
            }

            if (Volatile.Read(ref _target) is { } armed && armed == r)
            {
                // Armed until the next run: a filter kernel that fails on a batch runs it again one event at a time, and must fail again.
                throw new IOException("Simulated crash at " + r);
            }
        }
    }
}
