using LinqStream.Testing.Io;
using static LinqStream.Conformance.Tests.Parallel.ParallelOutput;

namespace LinqStream.Conformance.Tests.Parallel;

/// <summary>
/// A source partitioned by key (<c>QStream.FromKeyPartitioned</c>, written with <see cref="KeyPartitioner.PartitionOf{TKey}"/>)
/// under a keyed window aggregate grouped by the same key runs with a forward exchange at parallelism above 1: each source task
/// reads its partitions, checks every event's key group against its partition's, and hands whole batches to its own task. The
/// output is parallelism 1's byte for byte (also for order-dependent aggregates, two-phase ones and sessions; events out of
/// order, ties across partitions, empty windows, skew, huge keys), equals LINQ to objects, a misrouted event is caught (an error
/// or a dead letter naming the partition, never a silently wrong answer), and checkpoints restore after crashes and at another
/// parallelism, between the forward and the hash plan too. Explain says "forward", or why it hashes.
/// </summary>
public sealed class ForwardExchangeTests : IDisposable
{
    private const string OnePhase = PartitionedReadings.OnePhase;
    private const string TwoPhase = PartitionedReadings.TwoPhase;
    private const string Forward = "Exchange: forward";

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "linqstream-forward-" + Guid.NewGuid().ToString("N"));

    /// <summary>(seed, partitions, skewed).</summary>
    public static TheoryData<int, int, bool> Inputs => new() { { 1, 4, false }, { 2, 5, true }, { 3, 4, true } };

    private static Reading[][] Generate(int seed, int partitions, bool skewed, int count = 6_000, int keyGroups = 128) =>
        PartitionedReadings.ByKey(seed, partitions, skewed, count, keyGroups);

    private static ArrayEventSource<Reading>[] Sources(Reading[][] data, Random? random = null, int failIn = -1, int failAt = -1) =>
        PartitionedReadings.Sources(data, random, failIn, failAt);

    private static IQStream<Reading> Partitioned(IReadOnlyList<ArrayEventSource<Reading>> partitions, int keyGroups = 128) =>
        QStream.FromKeyPartitioned([.. partitions.Cast<EventSource<Reading>>()], r => r.Time, r => r.Sensor, IngressPolicy.Reorder(TimeSpan.FromSeconds(2)), keyGroups, name: "readings");

    private static IQStream<string> Query(string plan, Reading[][] data) =>
        PartitionedReadings.Keyed(plan, Partitioned(Sources(data)).Where(r => r.Value % 5 != 0));

    [Theory]
    [MemberData(nameof(Inputs))]
    public async Task OrderDependentAggregates_SameOutputAsParallelism1_AtP2AndP4AndEveryBatchSize(int seed, int partitions, bool skewed)
    {
        var data = Generate(seed, partitions, skewed);
        await AssertSameAsParallelism1(() => Query(OnePhase, data), [2, 4], Forward, "One phase: each key's events are on one task already");
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public async Task MergeableAggregatesAndSessions_SameOutputAsParallelism1(int seed, int partitions, bool skewed)
    {
        var data = Generate(seed, partitions, skewed);
        await AssertSameAsParallelism1(() => Query(TwoPhase, data), [2, 4], Forward);
        await AssertSameAsParallelism1(
            () => from r in Partitioned(Sources(data)).SessionWindow(TimeSpan.FromMilliseconds(700), TimeSpan.FromSeconds(5))
                  group r by r.Sensor into g
                  select $"{g.Key} {g.Count()} {g.Window.StartTicks} {g.Window.EndTicks} {g.Aggregate(3L, (a, x) => (a * 31) + x.Value)}",
            [2, 4],
            Forward);
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public async Task Parallelism4_MatchesLinqToObjects(int seed, int partitions, bool skewed)
    {
        var data = Generate(seed, partitions, skewed);

        // The reference: every event, in (time, partition, place in the partition) order, grouped per (1 s window, sensor) with LINQ to objects.
        var ordered = data.SelectMany((p, i) => p.Select((r, j) => (r, i, j))).OrderBy(x => x.r.Time).ThenBy(x => x.i).ThenBy(x => x.j).Select(x => x.r).Where(r => r.Value % 5 != 0);
        var size = TimeSpan.TicksPerSecond;
        var expected = ordered
            .GroupBy(r => (Start: r.Time - (((r.Time % size) + size) % size), r.Sensor))
            .Select(g => $"{g.Key.Start} {g.Key.Sensor} {g.Count()} {g.Sum(r => (long)r.Value)} {g.Aggregate(17L, (a, r) => (a * 31) + r.Value)} {g.Sum(r => r.Value * 0.1):R}")
            .Order(StringComparer.Ordinal)
            .ToList();
        var actual = await Query(OnePhase, data).WithOptions(Options(4)).ToListAsync();
        Assert.Equal(expected, actual.Order(StringComparer.Ordinal).ToList());
    }

    [Fact]
    public async Task Reruns_AreByteIdentical_AndTheTasksOwnTheirPartitionsKeyGroups()
    {
        var data = Generate(7, 4, skewed: true, count: 3_000);
        string first = await Output(Query(OnePhase, data), Options(4, batchSize: 32));
        for (int run = 0; run < 20; run++)
        {
            Assert.Equal(first, await Output(Query(OnePhase, data), Options(run % 2 == 0 ? 4 : 2, batchSize: 32)));
        }

        // The task ranges are the partitions' ranges: partition p of 4 holds the key groups task p of 4 owns.
        string plan = Query(OnePhase, data).WithOptions(Options(2)).Explain();
        Assert.Contains("Stage: 2 source tasks, union inputs [0..1] [2..3]", plan, StringComparison.Ordinal);
        Assert.Contains("key groups [0,64) [64,128) (its partitions' key groups)", plan, StringComparison.Ordinal);
        Assert.Contains("Exchange: forward: the source is partitioned by 'r => r.Sensor' into 4 partitions of 128 key groups", plan, StringComparison.Ordinal);
        Assert.DoesNotContain("hash by key group", plan, StringComparison.Ordinal);
        Assert.Contains("key groups [0,43) [43,86) [86,128) (its partitions' key groups)", PartitionedReadings.Keyed(OnePhase, Partitioned(Sources(Generate(7, 3, false, 300)))).WithOptions(Options(3)).Explain(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeclarationThatDoesNotMatch_Hashes_ExplainSaysWhy_AndTheOutputIsParallelism1s()
    {
        var data = Generate(5, 4, skewed: false, count: 2_000);
        IQStream<string> OtherKey() =>
            from r in Partitioned(Sources(data)).TumblingWindow(TimeSpan.FromSeconds(1))
            group r by r.Sensor % 7 into g
            select $"{g.Window.StartTicks} {g.Key} {g.Count()} {g.Aggregate(1L, (a, x) => (a * 31) + x.Value)}";
        IQStream<string> Projected() =>
            from x in Partitioned(Sources(data)).Select(r => new Reading(r.Time, r.Sensor + 1, r.Value)).TumblingWindow(TimeSpan.FromSeconds(1))
            group x by x.Sensor into g
            select $"{g.Window.StartTicks} {g.Key} {g.Count()}";
        IQStream<string> OtherKeyGroups() => PartitionedReadings.Keyed(OnePhase, Partitioned(Sources(data), keyGroups: 64));

        Assert.Contains("(not forward: the aggregate's key 'r => (r.Sensor % 7)' is not the partition key 'r => r.Sensor')", OtherKey().WithOptions(Options(2)).Explain(), StringComparison.Ordinal);
        Assert.Contains("(not forward: a projection between the partitions and the aggregate may change the key", Projected().WithOptions(Options(2)).Explain(), StringComparison.Ordinal);
        Assert.Contains("(not forward: the source was partitioned over 64 key groups, the query has 128", OtherKeyGroups().WithOptions(Options(2)).Explain(), StringComparison.Ordinal);
        var two = Generate(5, 2, skewed: false, count: 2_000);
        Assert.Contains("(not forward: 2 partitions for 4 tasks: the hash exchange spreads the keys over all 4)", Query(OnePhase, two).WithOptions(Options(4)).Explain(), StringComparison.Ordinal);
        Assert.Contains(Forward, Query(OnePhase, two).WithOptions(Options(2)).Explain(), StringComparison.Ordinal);

        // The key a parameter of another name selects is the same key.
        var renamed = from q in Partitioned(Sources(data)).TumblingWindow(TimeSpan.FromSeconds(1)) group q by q.Sensor into g select g.Count();
        Assert.Contains(Forward, renamed.WithOptions(Options(2)).Explain(), StringComparison.Ordinal);

        await AssertSameAsParallelism1(OtherKey, [2, 4], "hash by key group");
        await AssertSameAsParallelism1(Projected, [2], "hash by key group");
        await AssertSameAsParallelism1(() => Query(OnePhase, two), [4]);
    }

    /// <summary>(partitions, from, to, parallelism): one event of partition <c>from</c> is written to partition <c>to</c>.</summary>
    public static TheoryData<int, int, int, int> Misrouted => new() { { 4, 2, 0, 2 }, { 4, 1, 0, 2 }, { 4, 3, 2, 4 }, { 5, 0, 4, 4 } };

    [Theory]
    [MemberData(nameof(Misrouted))]
    public async Task MisroutedEvent_FailsTheQuery_NamingThePartitionThePlaceAndBothKeyGroups(int partitions, int from, int to, int parallelism)
    {
        var data = Generate(9, partitions, skewed: false, count: 3_000);
        var (moved, _) = PartitionedReadings.Move(data, from, to);
        foreach (int batch in new[] { 1, 64, 4096 })
        {
            var error = await Assert.ThrowsAsync<QueryExecutionException>(() => Query(OnePhase, moved).WithOptions(Options(parallelism, batch)).ToListAsync());
            Assert.Contains($"Partition {to} ('readings[{to}]') of a source partitioned by 'r => r.Sensor' into {partitions} partitions of 128 key groups", error.Message, StringComparison.Ordinal);
            Assert.Contains($"which belongs to partition {from}", error.Message, StringComparison.Ordinal);
            Assert.Contains("this run read from the partition, at ", error.Message, StringComparison.Ordinal);
        }

        // At parallelism 1 every key meets in one operator: nothing is checked, and the answer is right.
        Assert.NotEmpty(await Output(Query(OnePhase, moved), Options(1)));
    }

    [Theory]
    [MemberData(nameof(Misrouted))]
    public async Task MisroutedEvent_UnderSkipAndDeadLetter_IsDeadLetteredOnce_AndTheRestIsParallelism1sAnswerWithoutIt(int partitions, int from, int to, int parallelism)
    {
        var data = Generate(10, partitions, skewed: true, count: 3_000);
        var (moved, rest) = PartitionedReadings.Move(data, from, to);
        string expected = await Output(Query(OnePhase, rest), Options(1));
        foreach (int batch in new[] { 1, 64, 4096 })
        {
            var letters = new PartitionedReadings.Letters();
            var options = Options(parallelism, batch) with { OnError = ErrorPolicy.SkipAndDeadLetter, DeadLetters = letters };
            Assert.Equal(expected, await Output(Query(OnePhase, moved), options));
            var letter = Assert.Single(letters.Items);
            Assert.Equal($"readings[{to}]", letter.Source);
            Assert.StartsWith("event ", letter.Position, StringComparison.Ordinal);
            Assert.Contains($"which belongs to partition {from}", letter.Reason, StringComparison.Ordinal);
        }
    }

    private static QueryOptions JobQueryOptions => new() { BatchSize = 64, Strict = true };

    /// <summary>(seed, partitions, parallelism, plan).</summary>
    public static TheoryData<int, int, int, string> CrashCases => new()
    {
        { 1, 4, 2, OnePhase }, { 2, 4, 4, OnePhase }, { 3, 5, 2, TwoPhase }, { 4, 2, 2, OnePhase }, { 5, 5, 4, TwoPhase },
    };

    [Theory]
    [MemberData(nameof(CrashCases))]
    public async Task Job_CrashesInRandomPartitions_RestoredOutput_EqualsParallelism1(int seed, int partitions, int parallelism, string plan)
    {
        var data = Generate(seed, partitions, skewed: seed % 2 == 0);
        var reference = await Query(plan, data).WithOptions(JobQueryOptions).ToListAsync();
        Assert.NotEmpty(reference);
        Assert.Contains(Forward, Query(plan, data).WithOptions(JobQueryOptions with { Parallelism = parallelism }).Explain(), StringComparison.Ordinal);

        var random = new Random((seed * 7919) + parallelism);
        var store = new DirectoryCheckpointStore(Path.Combine(_directory, $"crash-{seed}-{partitions}-{parallelism}"));
        var sink = new MemorySink<string>();
        int failing = Enumerable.Range(0, partitions).MaxBy(p => data[p].Length);
        int length = data[failing].Length;
        var crashes = Enumerable.Range(0, 3).Select(_ => random.Next(length)).Append(random.Next(length / 2, length)).Order().ToList();
        int crashed = 0;
        foreach (int at in crashes.Append(-1))
        {
            var sources = Sources(data, random, at < 0 ? -1 : failing, at);
            await using var job = PartitionedReadings.Keyed(plan, Partitioned(sources).Where(r => r.Value % 5 != 0)).WithOptions(JobQueryOptions)
                .ToJob(sink, new JobOptions { Checkpoints = store, CheckpointEveryEvents = random.Next(50, 900), Parallelism = parallelism });
            try
            {
                var result = await job.RunAsync();
                Assert.Equal(-1, at);
                Assert.Equal(parallelism, result.Parallelism);
            }
            catch (QueryExecutionException ex) when (at >= 0)
            {
                Assert.True(ex.ToString().Contains("Simulated crash", StringComparison.Ordinal), ex.ToString());
                crashed++;
            }
        }

        Assert.Equal(crashes.Count, crashed);
        Assert.True(sink.Completed);
        Assert.Equal(reference, sink.Items);
    }

    /// <summary>A checkpoint taken at <c>from</c> two thirds through restores at <c>to</c>: forward to forward, to parallelism 1, and between the forward and the hash plan (2 partitions at 4 tasks hash).</summary>
    [Theory]
    [InlineData(4, 2, 1)]
    [InlineData(4, 2, 4)]
    [InlineData(4, 4, 2)]
    [InlineData(4, 1, 2)]
    [InlineData(2, 2, 4)]
    [InlineData(2, 4, 2)]
    public async Task Job_CheckpointAtOneParallelism_RestoresAtAnother_WithTheUninterruptedOutput(int partitions, int from, int to)
    {
        var data = Generate(17 + from + to, partitions, skewed: true, count: 40_000);
        var reference = await Query(OnePhase, data).WithOptions(JobQueryOptions).ToListAsync();
        var store = new DirectoryCheckpointStore(Path.Combine(_directory, $"rescale-{partitions}-{from}-to-{to}"));
        await PartitionedReadings.AssertRestoresAtAnotherParallelism(() => Query(OnePhase, data), reference, store, from, to);
    }

    private static readonly int[] PartitionCounts = [1, 2, 3, 5, 7];

    [Fact]
    public void KeyPartitioner_PutsEachKeyInThePartitionWhoseRangeHoldsItsKeyGroup()
    {
        var random = new Random(3);
        long[] keys = [long.MinValue, long.MaxValue, 0, -1, .. Enumerable.Range(0, 2_000).Select(_ => random.NextInt64(long.MinValue, long.MaxValue))];
        foreach (int keyGroups in new[] { 1, 7, 128, 1000 })
        {
            foreach (int partitions in PartitionCounts.Where(n => n <= keyGroups))
            {
                var seen = new HashSet<int>();
                foreach (long key in keys)
                {
                    int group = KeyPartitioner.KeyGroupOf(key, keyGroups);
                    int partition = KeyPartitioner.PartitionOf(key, partitions, keyGroups);
                    Assert.InRange(group, 0, keyGroups - 1);
                    Assert.InRange(group, (int)Math.Ceiling((double)partition * keyGroups / partitions), (int)Math.Ceiling((double)(partition + 1) * keyGroups / partitions) - 1);
                    seen.Add(partition);
                }

                Assert.Equal(keyGroups >= 128 ? partitions : seen.Count, seen.Count);
            }
        }

        Assert.Equal(KeyPartitioner.KeyGroupOf("a", 128), KeyPartitioner.KeyGroupOf("a", 128));
        Assert.Equal(0, KeyPartitioner.KeyGroupOf<string?>(null, 128));
        Assert.Throws<ArgumentOutOfRangeException>(() => KeyPartitioner.PartitionOf(1L, 129, 128));
        Assert.Throws<ArgumentOutOfRangeException>(() => KeyPartitioner.KeyGroupOf(1L, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => QStream.FromKeyPartitioned([.. Sources(Generate(1, 3, false, 10))], r => r.Time, r => r.Sensor, keyGroups: 2));
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
