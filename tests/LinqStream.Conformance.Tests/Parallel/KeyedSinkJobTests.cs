using LinqStream.Parallel;
using LinqStream.Testing.Io;

namespace LinqStream.Conformance.Tests.Parallel;

/// <summary>
/// A keyed query (a keyed window aggregate) as a job with one sink per task (<c>ToParallelSinkJob</c> at P &gt; 1): the
/// aggregate's P tasks each write their own results to their own sink, with no merge. Each sink gets exactly parallelism 1's
/// results for the keys its task owns (by key group), in parallelism 1's order; all sinks together hold LINQ to objects'
/// answer; crashed at random points and restored, every sink ends with its uninterrupted output (exactly-once per sink), for an
/// order-dependent aggregate (one phase: a fold, a double sum) and a two-phase one (counts, integer minimum and maximum over
/// hopping windows), over one source and over partitions, with ties, out-of-order events, a key with half of the events,
/// huge keys and empty partitions. A checkpoint restores only at the same number of tasks.
/// </summary>
public sealed class KeyedSinkJobTests : IDisposable
{
    private const string OnePhase = PartitionedReadings.OnePhase;
    private const string TwoPhase = PartitionedReadings.TwoPhase;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "linqstream-keyedsink-" + Guid.NewGuid().ToString("N"));

    /// <summary>The keyed aggregate at the query's root: "window-start sensor ..." per window and sensor.</summary>
    private static IQStream<string> Query(string plan, IReadOnlyList<ArrayEventSource<Reading>> partitions) =>
        PartitionedReadings.Keyed(plan, PartitionedReadings.Union(partitions).WithOptions(new QueryOptions { BatchSize = 64, Strict = true }).Where(r => r.Value % 5 != 0));

    private static Reading[][] Generate(int seed, int partitions, bool skewed, int count) => PartitionedReadings.Generate(seed, partitions, count, skewed);

    private static ArrayEventSource<Reading>[] Sources(Reading[][] data, Random? random = null, int failIn = -1, int failAt = -1) =>
        PartitionedReadings.Sources(data, random, failIn, failAt);

    /// <summary>The task of <paramref name="parallelism"/> that owns a result's sensor (its key group, 128 key groups).</summary>
    private static int Owner(string result, int parallelism)
    {
        long sensor = long.Parse(result.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        int group = KeyGroups.Of(StableKeyHash<long>.Hash(sensor), QueryOptions.Default.KeyGroups);
        return KeyGroups.TaskOf(group, QueryOptions.Default.KeyGroups, parallelism);
    }

    /// <summary>Parallelism 1's results, split by the task owning each result's key (each list keeps parallelism 1's order).</summary>
    private static List<string>[] PerTask(IReadOnlyList<string> reference, int parallelism)
    {
        var lists = Enumerable.Range(0, parallelism).Select(_ => new List<string>()).ToArray();
        foreach (var result in reference)
        {
            lists[Owner(result, parallelism)].Add(result);
        }

        return lists;
    }

    /// <summary>LINQ to objects over all readings: the two-phase query's results (hopping windows of 2 s every 1 s).</summary>
    private static IEnumerable<string> LinqTwoPhase(Reading[][] data)
    {
        long hop = TimeSpan.TicksPerSecond;
        return data.SelectMany(p => p)
            .Where(r => r.Value % 5 != 0)
            .SelectMany(r => new[] { r.Time - (r.Time % hop), r.Time - (r.Time % hop) - hop }.Select(start => (Start: start, Reading: r)))
            .GroupBy(x => (x.Start, x.Reading.Sensor))
            .Select(g => $"{g.Key.Start} {g.Key.Sensor} {g.Count()} {g.Count(x => x.Reading.Value > 0)} {g.Min(x => x.Reading.Value)} {g.Max(x => x.Reading.Value)}");
    }

    [Theory]
    [InlineData(OnePhase, 1, 3, 2, false)]
    [InlineData(OnePhase, 2, 4, 4, true)]
    [InlineData(OnePhase, 3, 1, 2, false)]
    [InlineData(TwoPhase, 4, 3, 2, true)]
    [InlineData(TwoPhase, 5, 5, 3, false)]
    [InlineData(TwoPhase, 6, 1, 4, true)]
    public async Task EachTask_WritesItsKeysResults_InParallelism1Order(string plan, int seed, int partitions, int parallelism, bool skewed)
    {
        var data = Generate(seed, partitions, skewed, 6_000);
        var reference = await Query(plan, Sources(data)).ToListAsync();
        Assert.NotEmpty(reference);
        var expected = PerTask(reference, parallelism);
        var sinks = new List<MemorySink<string>>();
        await using var job = Query(plan, Sources(data)).ToParallelSinkJob(
            i =>
            {
                Assert.Equal(sinks.Count, i);
                var sink = new MemorySink<string>();
                sinks.Add(sink);
                return sink;
            },
            new JobOptions { Parallelism = parallelism });
        Assert.Equal(parallelism, job.Tasks);
        Assert.Equal(DeliveryGuarantee.ExactlyOnce, job.Guarantee);

        var result = await job.RunAsync();

        Assert.Empty(result.Warnings);
        Assert.Equal(parallelism, result.Parallelism);
        Assert.Equal(reference.Count, result.Results);
        for (int t = 0; t < parallelism; t++)
        {
            Assert.True(sinks[t].Completed);
            Assert.Equal(expected[t], sinks[t].Items);
        }

        Assert.True(expected.Count(e => e.Count > 0) >= 2, "the keys should spread over at least two tasks");
        if (plan == TwoPhase)
        {
            Assert.Equal(LinqTwoPhase(data).Order(StringComparer.Ordinal), sinks.SelectMany(s => s.Items).Order(StringComparer.Ordinal));
        }
    }

    [Theory]
    [InlineData(OnePhase, 1, 3, 2, false)]
    [InlineData(OnePhase, 2, 4, 4, true)]
    [InlineData(OnePhase, 3, 1, 2, true)]
    [InlineData(TwoPhase, 4, 3, 2, false)]
    [InlineData(TwoPhase, 5, 2, 4, true)]
    [InlineData(TwoPhase, 6, 1, 3, false)]
    public async Task CrashesInRandomPartitions_EverySinkEndsWithItsUninterruptedOutput(string plan, int seed, int partitions, int parallelism, bool skewed)
    {
        var data = Generate(seed, partitions, skewed, 8_000);
        var expected = PerTask(await Query(plan, Sources(data)).ToListAsync(), parallelism);
        var random = new Random((seed * 7919) + parallelism);
        var store = new DirectoryCheckpointStore(Path.Combine(_directory, $"crash-{plan}-{seed}-{parallelism}"));
        var sinks = Enumerable.Range(0, parallelism).Select(_ => new MemorySink<string>()).ToArray();
        int length = data[0].Length; // the first partition is never the empty one
        var crashes = Enumerable.Range(0, 3).Select(_ => random.Next(length)).Append(random.Next(length / 2, length)).Order().ToList();
        int crashed = 0;
        long restoredFrom = 0;
        foreach (int at in crashes.Append(-1))
        {
            var sources = Sources(data, random, at >= 0 ? 0 : -1, at);
            ParallelSinkJob<string>? running = null;
            if (at == crashes[^1])
            {
                // The last crash (in the second half) waits until this run completed a checkpoint, so the final run restores
                // from one however the threads were scheduled (under load the tasks could read past every crash point before
                // the job's thread took a checkpoint). The earlier crashes may come before any checkpoint.
                long baseline = -1;
                sources[0].BeforeRead = async (index, cancellationToken) =>
                {
                    if (baseline < 0)
                    {
                        baseline = running!.LastCheckpointId;
                    }

                    while (index >= at && running!.LastCheckpointId <= baseline)
                    {
                        await Task.Delay(2, cancellationToken);
                    }
                };
            }

            await using var job = Query(plan, sources)
                .ToParallelSinkJob(i => sinks[i], new JobOptions { Checkpoints = store, CheckpointEveryEvents = random.Next(200, 900), Parallelism = parallelism });
            running = job;
            Assert.Equal(DeliveryGuarantee.ExactlyOnce, job.Guarantee);
            try
            {
                var result = await job.RunAsync();
                Assert.Equal(-1, at);
                Assert.Equal(parallelism, result.Parallelism);
                restoredFrom = result.RestoredFrom ?? 0;
            }
            catch (QueryExecutionException ex) when (at >= 0)
            {
                Assert.True(ex.ToString().Contains("Simulated crash", StringComparison.Ordinal), ex.ToString());
                crashed++;
            }
        }

        Assert.Equal(crashes.Count, crashed);
        Assert.True(restoredFrom > 0, "the last run should have restored from a checkpoint");
        for (int t = 0; t < parallelism; t++)
        {
            Assert.True(sinks[t].Completed);
            Assert.Equal(expected[t], sinks[t].Items);
        }
    }

    [Fact]
    public async Task Checkpoints_AreTakenThroughEveryTask_AndTheirAlignmentIsReported()
    {
        var data = Generate(9, 4, skewed: false, 100_000); // long enough for several checkpoints before the input ends, also under load
        var sinks = Enumerable.Range(0, 2).Select(_ => new MemorySink<string>()).ToArray();
        await using var job = Query(TwoPhase, Sources(data)).ToParallelSinkJob(i => sinks[i], new JobOptions
        {
            Checkpoints = new DirectoryCheckpointStore(Path.Combine(_directory, "aligned")),
            CheckpointEveryEvents = 1_000,
            Parallelism = 2,
        });
        var result = await job.RunAsync();
        Assert.True(result.Checkpoints >= 3, $"only {result.Checkpoints} checkpoints");
        Assert.NotNull(result.BarrierAlignmentP99);
        Assert.Equal(result.Checkpoints, job.AnswerTimes.Count);
        AssertAlignmentWithinAnswer(job.Alignments, job.AnswerTimes, result.BarrierAlignmentP99!.Value);

        // The alignment is Flink's, at the tasks (each over its two source tasks' channels); the time until the barrier had come
        // through the last task to its sink (start delay and queues included) is kept apart and is never shorter.
        Assert.Equal(result.Checkpoints, job.Timelines.Count);
        for (int i = 0; i < job.Timelines.Count; i++)
        {
            var timeline = job.Timelines[i];
            Assert.Equal(timeline.TaskAlignment, job.Alignments[i]);
            Assert.InRange(job.Alignments[i], TimeSpan.Zero, job.ReachedTimes[i]);
            for (int task = 0; task < 2; task++)
            {
                Assert.True(timeline.TaskFirst[task] != 0 && timeline.TaskFirst[task] <= timeline.TaskAligned[task], timeline.Describe());
                Assert.True(timeline.TaskPassed[task] <= timeline.MergeSeen[task], timeline.Describe()); // the sink took it after the task passed it on
                Assert.True(timeline.TaskPassed[task] <= timeline.TaskWritten[task], timeline.Describe());
            }
        }
        Assert.True(job.LastCheckpointId >= result.Checkpoints);
        var expected = PerTask(await Query(TwoPhase, Sources(data)).ToListAsync(), 2);
        Assert.Equal(expected[0], sinks[0].Items);
        Assert.Equal(expected[1], sinks[1].Items);
    }

    [Fact]
    public async Task CheckpointEveryEvents_CountsTheEventsOfAllSourceTasksTogether()
    {
        // Four partitions read by two source tasks (partitions 0-1 and 2-3), 13,000 readings on the first and 2,000 on the second: a
        // checkpoint every 5,000 events read by both together is at most 15,000 / 5,000 = 3 checkpoints. Until session 14 each source
        // task counted its own 5,000 / 2 = 2,500, and the first alone could ask for 5.
        var data = PartitionedReadings.OfSizes(15, 12_000, 1_000, 1_000, 1_000);
        var sources = Sources(data);
        ParallelSinkJob<string>? running = null;
        PartitionedReadings.HoldUntilACheckpoint(sources[0], 8_000, () => running!.LastCheckpointId); // so that one comes before the input ends
        var sinks = Enumerable.Range(0, 2).Select(_ => new MemorySink<string>()).ToArray();
        await using var job = Query(TwoPhase, sources).ToParallelSinkJob(i => sinks[i], new JobOptions
        {
            Checkpoints = new DirectoryCheckpointStore(Path.Combine(_directory, "every-events")),
            CheckpointEveryEvents = 5_000,
            Parallelism = 2,
        });
        running = job;

        var result = await job.RunAsync(new CancellationTokenSource(TimeSpan.FromMinutes(2)).Token);

        Assert.InRange(result.Checkpoints, 1, 3);
        var expected = PerTask(await Query(TwoPhase, Sources(data)).ToListAsync(), 2);
        Assert.Equal(expected[0], sinks[0].Items);
        Assert.Equal(expected[1], sinks[1].Items);
        Assert.Equal(LinqTwoPhase(data).Order(StringComparer.Ordinal), sinks.SelectMany(s => s.Items).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task CheckpointAtTwoTasks_RestoredAtFourOrOne_IsRefusedNamingBoth()
    {
        var data = Generate(10, 3, skewed: false, 20_000);
        var store = new DirectoryCheckpointStore(Path.Combine(_directory, "rescale"));
        var sinks = Enumerable.Range(0, 4).Select(_ => new MemorySink<string>()).ToArray();
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await using (var job = Query(OnePhase, Sources(data)).ToParallelSinkJob(i => sinks[i], new JobOptions { Checkpoints = store, CheckpointEveryEvents = 500, Parallelism = 2 }))
        {
            // Stop part-way, after a checkpoint completed.
            sinks[0].AfterWrite = written =>
            {
                if (written >= 200 && job.LastCheckpointId > 0)
                {
                    stop.Cancel();
                }
            };
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => job.RunAsync(stop.Token));
            Assert.True(job.LastCheckpointId > 0, "no checkpoint was taken");
        }

        await using var four = Query(OnePhase, Sources(data)).ToParallelSinkJob(i => sinks[i], new JobOptions { Checkpoints = store, Parallelism = 4 });
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => four.RunAsync());
        Assert.Contains("taken with 2 sink tasks; this job has 4", error.Message, StringComparison.Ordinal);

        await using var one = Query(OnePhase, Sources(data)).ToParallelSinkJob(i => sinks[i], new JobOptions { Checkpoints = store, Parallelism = 1 });
        error = await Assert.ThrowsAsync<InvalidDataException>(() => one.RunAsync());
        Assert.Contains("taken with 2 sink tasks; this job has 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AFailingKeySelector_FailsTheJobWithParallelism1sMessage()
    {
        // One partition (one source task): the first failing event is parallelism 1's. (With several source tasks running the
        // local phase, whichever meets a failing key first reports it, as in ToJob at P > 1.)
        var data = Generate(11, 1, skewed: false, 3_000);
        IQStream<string> Failing(IReadOnlyList<ArrayEventSource<Reading>> sources) =>
            from r in QStream.From([.. sources.Cast<EventSource<Reading>>()], r => r.Time, IngressPolicy.Reorder(TimeSpan.FromSeconds(2)), name: "readings")
                .WithOptions(new QueryOptions { BatchSize = 64, Strict = true }).TumblingWindow(TimeSpan.FromSeconds(1))
            group r by 100 / (r.Sensor % 7) into g
            select $"{g.Window.StartTicks} {g.Key} {g.Count()}";
        var atOne = await Assert.ThrowsAsync<QueryExecutionException>(() => Failing(Sources(data)).ToListAsync());
        await using var job = Failing(Sources(data)).ToParallelSinkJob(_ => new MemorySink<string>(), new JobOptions { Parallelism = 2 });
        Assert.Equal(2, job.Tasks);
        var error = await Assert.ThrowsAsync<QueryExecutionException>(() => job.RunAsync());
        Assert.Equal(atOne.Message, error.Message);
    }

    /// <summary>Each checkpoint's alignment (until the last task reached it) is part of its answer time (until the last task had written and prepared), and the p99 is one of them.</summary>
    internal static void AssertAlignmentWithinAnswer(IReadOnlyList<TimeSpan> alignments, IReadOnlyList<TimeSpan> answers, TimeSpan p99)
    {
        Assert.Equal(answers.Count, alignments.Count);
        for (int i = 0; i < alignments.Count; i++)
        {
            Assert.InRange(alignments[i], TimeSpan.Zero, answers[i]);
        }

        Assert.Contains(p99, alignments);
        Assert.True(alignments.Count(a => a > p99) <= alignments.Count / 100, "more than 1 % of the alignments are above the p99");
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
