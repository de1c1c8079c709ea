using LinqStream.Testing.Io;

namespace LinqStream.Conformance.Tests.Parallel;

/// <summary>
/// A job over a partitioned source (<c>QStream.From(partitions, ...)</c>) at parallelism above 1 reads the partitions on
/// several source tasks and takes its checkpoints with barriers from every source task, aligned at the aggregate tasks and
/// at the merge: crashed at random points in a random partition and restored (at the same parallelism, or at another), it
/// writes exactly parallelism 1's uninterrupted output, also for aggregates that depend on the order of events (a fold, a
/// double sum), with ties across partitions, events out of order, one key with half of the events, huge keys, empty
/// partitions and partitions that end long before the others. The same for an aggregate that runs in two phases (counts,
/// minimum and maximum of integers over hopping windows: each source task pre-aggregates and ships its local groups at every
/// checkpoint barrier, so the checkpoint holds only the merged state, as parallelism 1's). And for NEXMark q5's shape (the
/// sensors with the most readings per hopping window: a two-phase count, then each task's own maximum per window before the
/// merge, then the overall maximum after it; the local step holds nothing at a barrier).
/// </summary>
public sealed class PartitionedJobTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "linqstream-partjob-" + Guid.NewGuid().ToString("N"));

    /// <summary>The order-dependent aggregate (one phase) and the two-phase one, each as <see cref="Query"/> names it.</summary>
    private const string OnePhase = PartitionedReadings.OnePhase;
    private const string TwoPhase = PartitionedReadings.TwoPhase;
    private const string AsTheyCome = PartitionedReadings.AsTheyCome;
    private const string HotItems = "hot-items";

    /// <summary>Each sensor's count per window with the window's total (a broadcast exchange: the total on the source task, joined on every task); two phases.</summary>
    private const string Share = "share";

    /// <summary>As <see cref="Share"/> with a long sum per sensor (one phase) and the window's double sum as the small side.</summary>
    private const string ShareOnePhase = "share-one-phase";

    public readonly record struct SensorCount(long Sensor, int Count, long WindowStart);

    public readonly record struct WindowMax(long WindowStart, long Max);

    public readonly record struct WindowTotal(long WindowStart, double Total);

    /// <summary>(plan, seed, partitions, parallelism, skewed).</summary>
    public static TheoryData<string, int, int, int, bool> CrashCases => new()
    {
        { OnePhase, 1, 3, 1, false }, { OnePhase, 1, 3, 2, false }, { OnePhase, 2, 4, 4, true }, { OnePhase, 3, 5, 2, true }, { OnePhase, 4, 2, 4, false }, { OnePhase, 5, 4, 2, true },
        { TwoPhase, 1, 3, 2, false }, { TwoPhase, 2, 4, 4, true }, { TwoPhase, 3, 5, 2, true }, { TwoPhase, 4, 1, 2, true }, { TwoPhase, 5, 1, 4, false },
        { AsTheyCome, 1, 3, 2, false }, { AsTheyCome, 2, 4, 4, true }, { AsTheyCome, 3, 5, 2, true },
        { HotItems, 1, 3, 2, false }, { HotItems, 2, 4, 4, true }, { HotItems, 3, 2, 2, true }, { HotItems, 4, 1, 2, false }, { HotItems, 6, 5, 4, false },
        { Share, 1, 3, 2, false }, { Share, 2, 4, 4, true }, { Share, 3, 1, 2, true }, { Share, 4, 2, 1, false },
        { ShareOnePhase, 1, 3, 2, true }, { ShareOnePhase, 2, 2, 4, false },
    };

    /// <summary>The shared readings (<see cref="PartitionedReadings.Generate"/>); here the last partition ends early.</summary>
    private static Reading[][] Generate(int seed, int partitions, bool skewed, int count) =>
        PartitionedReadings.Generate(seed, partitions, count, skewed, lastEndsEarly: true);

    private static IQStream<string> Query(string plan, IReadOnlyList<ArrayEventSource<Reading>> partitions)
    {
        var readings = PartitionedReadings.Union(partitions).Where(r => r.Value % 5 != 0);
        if (plan == HotItems)
        {
            var counts =
                from r in readings.HoppingWindow(TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(500))
                group r by r.Sensor % 40 into g
                select new SensorCount(g.Key, g.Count(), g.Window.StartTicks);
            var maxima = counts.TumblingWindow(TimeSpan.FromMilliseconds(500)).Select(w => new WindowMax(w.Window.StartTicks, w.Max(c => c.Count)));
            return from c in counts
                   join m in maxima on c.WindowStart equals m.WindowStart
                   where c.Count == m.Max
                   select $"{c.WindowStart} {c.Sensor} {c.Count}";
        }

        if (plan is Share or ShareOnePhase)
        {
            var totals = readings.TumblingWindow(TimeSpan.FromSeconds(1)).Select(w => new WindowTotal(w.Window.StartTicks, w.Sum(r => r.Value * 0.1)));
            if (plan == Share)
            {
                var counts =
                    from r in readings.TumblingWindow(TimeSpan.FromSeconds(1))
                    group r by r.Sensor % 40 into g
                    select new SensorCount(g.Key, g.Count(), g.Window.StartTicks);
                return from c in counts
                       join t in totals on c.WindowStart equals t.WindowStart
                       select $"{c.WindowStart} {c.Sensor} {c.Count} {t.Total:R}";
            }

            var sums =
                from r in readings.TumblingWindow(TimeSpan.FromSeconds(1))
                group r by r.Sensor into g
                select new SensorCount(g.Key, (int)g.Sum(r => (long)r.Value), g.Window.StartTicks);
            return from c in sums
                   join t in totals on c.WindowStart equals t.WindowStart
                   select $"{c.WindowStart} {c.Sensor} {c.Count} {t.Total:R}";
        }

        return PartitionedReadings.Keyed(plan, readings);
    }

    private static ArrayEventSource<Reading>[] Sources(Reading[][] data, Random? random = null, int failIn = -1, int failAt = -1) =>
        PartitionedReadings.Sources(data, random, failIn, failAt);

    private static QueryOptions Options => new() { BatchSize = 64, Strict = true };

    private static async Task<IReadOnlyList<string>> Uninterrupted(string plan, Reading[][] data, int parallelism)
    {
        var sink = new MemorySink<string>();
        await using var job = Query(plan, Sources(data)).WithOptions(Options).ToJob(sink, new JobOptions { Parallelism = parallelism });
        var result = await job.RunAsync();
        Assert.Equal(parallelism, result.Parallelism);
        Assert.True(sink.Completed);
        return sink.Items;
    }

    [Theory]
    [MemberData(nameof(CrashCases))]
    public async Task CrashesInRandomPartitions_RestoredOutput_EqualsParallelism1(string plan, int seed, int partitions, int parallelism, bool skewed)
    {
        var data = Generate(seed, partitions, skewed, 6_000);
        var reference = await Query(plan, Sources(data)).WithOptions(Options).ToListAsync();
        Assert.NotEmpty(reference);
        Assert.Equal(reference, await Uninterrupted(plan, data, parallelism));
        string explained = Query(plan, Sources(data)).WithOptions(Options with { Parallelism = 2 }).Explain();
        Assert.Contains(plan is OnePhase or AsTheyCome or ShareOnePhase ? "One phase:" : "Two-phase:", explained, StringComparison.Ordinal);
        Assert.Equal(plan is Share or ShareOnePhase, explained.Contains("Exchange: broadcast of", StringComparison.Ordinal));
        Assert.Equal(plan == AsTheyCome, explained.Contains("events of the ", StringComparison.Ordinal) && explained.Contains(" source tasks as they come (the answer does not depend on their order)", StringComparison.Ordinal));
        Assert.Equal(plan == OnePhase, explained.Contains("source tasks (start, then source task;", StringComparison.Ordinal));
        Assert.Equal(plan == HotItems, explained.Contains("Local step on each task: WindowArgMax", StringComparison.Ordinal));

        var random = new Random((seed * 7919) + parallelism);
        var store = new DirectoryCheckpointStore(Path.Combine(_directory, $"crash-{seed}-{partitions}-{parallelism}"));
        var sink = new MemorySink<string>();
        // One partition fails at increasing points (each restore goes on from before the next one): any but an empty one and
        // the one that ends early (its source task reads it all long before the job asks for a first barrier).
        int failing = random.Next(partitions - 1);
        while (data[failing].Length == 0)
        {
            failing = (failing + 1) % (partitions - 1);
        }

        // The last crash is in the second half of the partition, so some checkpoint comes before it.
        int length = data[failing].Length;
        var crashes = Enumerable.Range(0, 3).Select(_ => random.Next(length)).Append(random.Next(length / 2, length)).Order().Select(at => (Partition: failing, At: at)).ToList();
        int crashed = 0;
        long lastRestored = 0;
        foreach (var (partition, at) in crashes.Append((-1, -1)))
        {
            var sources = Sources(data, random, partition, at);
            await using var job = Query(plan, sources).WithOptions(Options).ToJob(sink, new JobOptions { Checkpoints = store, CheckpointEveryEvents = random.Next(50, 900), Parallelism = parallelism });
            Assert.Equal(DeliveryGuarantee.ExactlyOnce, job.Guarantee);
            try
            {
                var result = await job.RunAsync();
                Assert.Equal(-1, partition);
                Assert.Equal(parallelism, result.Parallelism);
                Assert.Empty(result.Warnings);
                // The last run went on from the newest checkpoint, if one was taken before the last crash: at P > 1 the source
                // tasks read ahead of the job, so under load a partition may reach its crash before the first barrier is asked for.
                Assert.Equal(lastRestored > 0 ? lastRestored : null, result.RestoredFrom);
            }
            catch (QueryExecutionException ex) when (partition >= 0)
            {
                Assert.True(ex.ToString().Contains("Simulated crash", StringComparison.Ordinal), ex.ToString());
                crashed++;
                lastRestored = job.LastCheckpointId;
            }
        }

        Assert.Equal(crashes.Count, crashed);
        Assert.True(sink.Completed);
        Assert.Equal(reference, sink.Items);
    }

    /// <summary>
    /// A checkpointing job with its channels spinning before they block, or blocking at once (by default the run decides: on a
    /// machine with fewer cores than the run's threads, as CI's 2, every other test here runs without the spin): barriers align
    /// and the output is parallelism 1's either way.
    /// </summary>
    [Theory]
    [InlineData(HotItems, 2, true)]
    [InlineData(HotItems, 4, false)]
    [InlineData(TwoPhase, 4, true)]
    [InlineData(Share, 2, true)]
    [InlineData(AsTheyCome, 2, false)]
    public async Task ChannelsSpinOrBlockAtOnce_CheckpointingJob_GivesParallelism1Output(string plan, int parallelism, bool spin)
    {
        var data = Generate(11, 4, skewed: true, 6_000);
        var reference = await Query(plan, Sources(data)).WithOptions(Options).ToListAsync();
        Assert.NotEmpty(reference);
        var sink = new MemorySink<string>();
        var store = new DirectoryCheckpointStore(Path.Combine(_directory, $"spin-{plan}-{parallelism}-{spin}"));
        await using var job = Query(plan, Sources(data)).WithOptions(Options with { SpinBeforeBlocking = spin })
            .ToJob(sink, new JobOptions { Checkpoints = store, CheckpointEveryEvents = 500, Parallelism = parallelism });
        var result = await job.RunAsync();
        Assert.Equal(parallelism, result.Parallelism);
        Assert.True(result.Checkpoints > 0, "the job should have taken checkpoints");
        Assert.Equal(reference, sink.Items);
    }

    /// <summary>A checkpoint taken at <paramref name="from"/> two thirds through the output restores at <paramref name="to"/> with the uninterrupted output.</summary>
    [Theory]
    [InlineData(OnePhase, 2, 1)]
    [InlineData(OnePhase, 2, 4)]
    [InlineData(OnePhase, 1, 2)]
    [InlineData(OnePhase, 4, 2)]
    [InlineData(TwoPhase, 2, 1)]
    [InlineData(TwoPhase, 2, 4)]
    [InlineData(TwoPhase, 1, 2)]
    [InlineData(TwoPhase, 4, 2)]
    [InlineData(AsTheyCome, 2, 1)]
    [InlineData(AsTheyCome, 2, 4)]
    [InlineData(AsTheyCome, 4, 2)]
    [InlineData(HotItems, 2, 1)]
    [InlineData(HotItems, 2, 4)]
    [InlineData(HotItems, 1, 2)]
    [InlineData(Share, 2, 1)]
    [InlineData(Share, 2, 4)]
    [InlineData(Share, 4, 2)]
    [InlineData(Share, 1, 2)]
    [InlineData(ShareOnePhase, 2, 4)]
    [InlineData(ShareOnePhase, 1, 2)]
    public async Task CheckpointAtOneParallelism_RestoresAtAnother_WithTheUninterruptedOutput(string plan, int from, int to)
    {
        var data = Generate(17 + from + to, 3, skewed: true, count: 40_000);
        var reference = await Query(plan, Sources(data)).WithOptions(Options).ToListAsync();
        var store = new DirectoryCheckpointStore(Path.Combine(_directory, $"rescale-{from}-to-{to}"));
        await PartitionedReadings.AssertRestoresAtAnotherParallelism(() => Query(plan, Sources(data)), reference, store, from, to);
    }

    [Theory]
    [InlineData(OnePhase)]
    [InlineData(TwoPhase)]
    [InlineData(AsTheyCome)]
    [InlineData(HotItems)]
    public async Task Parallelism2_BarriersAlignOverSourceTasks_AndTheAlignmentIsReported(string plan)
    {
        var data = Generate(23, 4, skewed: false, count: 20_000);
        var sink = new MemorySink<string>();
        // The input is short: under load the source tasks could read it all before the job's thread asked for three barriers (the
        // job then ended with fewer checkpoints than this test checks). So every partition holds at its middle until three checkpoints
        // have completed: those asked for every 1,000 events while the data flowed count, and while every partition holds (nothing
        // flows, so the job asks for none) the test asks for the rest. Each source task is then quiet, and answers as it would.
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int holding = 0, nonEmpty = data.Count(p => p.Length > 0);
        var sources = Sources(data);
        for (int i = 0; i < sources.Length; i++)
        {
            int middle = data[i].Length / 2;
            bool empty = data[i].Length == 0, reached = false;
            sources[i].BeforeRead = async (index, cancellationToken) =>
            {
                if (!empty && index >= middle)
                {
                    if (!reached)
                    {
                        reached = true;
                        if (Interlocked.Increment(ref holding) == nonEmpty)
                        {
                            held.TrySetResult();
                        }
                    }

                    await release.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
                }
            };
        }

        await using var job = Query(plan, sources).WithOptions(Options).ToJob(sink, new JobOptions
        {
            Checkpoints = new DirectoryCheckpointStore(Path.Combine(_directory, "aligned")),
            CheckpointEveryEvents = 1_000,
            Parallelism = 2,
        });
        var run = job.RunAsync();
        if (await Task.WhenAny(held.Task, run).WaitAsync(TimeSpan.FromMinutes(1)) == run)
        {
            await run; // failed (it cannot end before every partition held)
        }

        while (job.LastCheckpointId < 3)
        {
            await job.CheckpointAsync().WaitAsync(TimeSpan.FromMinutes(1));
        }

        release.TrySetResult();
        var result = await run.WaitAsync(TimeSpan.FromMinutes(2));
        Assert.True(result.Checkpoints >= 3, $"only {result.Checkpoints} checkpoints");
        Assert.NotNull(result.BarrierAlignmentP99);
        Assert.Equal(await Query(plan, Sources(data)).WithOptions(Options).ToListAsync(), sink.Items);

        // Where each barrier was when: a task passes it on (to the merge) before it writes its key groups, and the alignment
        // reported is Flink's, the longest first-to-last barrier time at a task (each task over its source tasks, the merge over the tasks).
        var aligned = job.BarrierTimelines.Where(t => Array.TrueForAll(t.MergeSeen, seen => seen != 0)).ToList();
        Assert.True(aligned.Count >= 3, $"only {aligned.Count} barriers reached the merge from every task");
        foreach (var timeline in aligned)
        {
            string where = timeline.Describe();
            for (int task = 0; task < timeline.TaskFirst.Length; task++)
            {
                Assert.True(timeline.RequestedAt <= timeline.TaskFirst[task], where);
                Assert.True(timeline.TaskFirst[task] <= timeline.TaskAligned[task], where);
                Assert.True(timeline.TaskAligned[task] <= timeline.TaskPassed[task], where);
                Assert.True(timeline.TaskPassed[task] <= timeline.TaskWritten[task], where); // written after passing it on
                Assert.True(timeline.TaskPassed[task] <= timeline.MergeSeen[task], where);
            }

            long atTasks = Enumerable.Range(0, timeline.TaskFirst.Length).Max(t => timeline.TaskAligned[t] - timeline.TaskFirst[t]);
            long atMerge = timeline.MergeSeen.Max() - timeline.MergeSeen.Min();
            Assert.Equal(System.Diagnostics.Stopwatch.GetElapsedTime(0, Math.Max(atTasks, atMerge)), timeline.Alignment);
            Assert.True(timeline.SourceSent.Where(sent => sent != 0).DefaultIfEmpty(timeline.TaskFirst.Min()).Min() <= timeline.TaskFirst.Min(), where);

            // Each source task that sent the barrier noticed the request after it was made, and read on only once the merge had taken
            // every task's barrier (it waits meanwhile: its channels are held anyway, and the CPU goes to getting the barrier through).
            for (int source = 0; source < timeline.SourceSent.Length; source++)
            {
                if (timeline.SourceSent[source] == 0)
                {
                    continue; // its input ended before it served the request
                }

                Assert.True(timeline.RequestedAt <= timeline.SourceNoticed[source] && timeline.SourceNoticed[source] <= timeline.SourceSent[source], where);
                Assert.True(timeline.SourceResumed[source] == 0 || timeline.SourceResumed[source] >= timeline.MergeSeen.Max(), where);
            }

            Assert.Contains(timeline.SourceResumed, resumed => resumed != 0);
        }

        var alignments = aligned.Select(t => t.Alignment).Order().ToList();
        Assert.Equal(alignments[(int)Math.Ceiling(alignments.Count * 0.99) - 1], result.BarrierAlignmentP99);
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
