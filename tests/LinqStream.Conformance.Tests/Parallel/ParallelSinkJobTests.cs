using LinqStream.Testing.Io;

namespace LinqStream.Conformance.Tests.Parallel;

/// <summary>
/// A stateless query over partitions as a job with one sink per task (<c>ToParallelSinkJob</c>): task i reads a contiguous
/// group of the partitions and writes to its own sink, with no merge. Each sink gets exactly what the query over its task's
/// partitions alone gives (in its order), the sinks together hold the query's results (LINQ to objects), and crashed at random
/// points and restored the job leaves every sink with its uninterrupted output (exactly-once per sink). A checkpoint restores
/// only at the same number of tasks; a query that is not a union of partitions runs on one task and says why (or throws, strict).
/// </summary>
public sealed class ParallelSinkJobTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "linqstream-sinkjob-" + Guid.NewGuid().ToString("N"));

    private static Reading[][] Generate(int seed, int partitions, int count) => PartitionedReadings.Generate(seed, partitions, count);

    private static ArrayEventSource<Reading>[] Sources(Reading[][] data, Random? random = null, int failIn = -1, int failAt = -1) =>
        PartitionedReadings.Sources(data, random, failIn, failAt);

    /// <summary>A stateless query: a filter and a projection over the union of the partitions.</summary>
    private static IQStream<string> Query(IReadOnlyList<ArrayEventSource<Reading>> partitions) =>
        PartitionedReadings.Union(partitions)
            .WithOptions(new QueryOptions { BatchSize = 64, Strict = true })
            .Where(r => r.Value % 5 != 0)
            .Select(r => $"{r.Time} {r.Sensor} {r.Value}");

    /// <summary>What task <paramref name="task"/> of <paramref name="tasks"/> writes: the query over its partitions alone.</summary>
    private static async Task<List<string>> TaskOutput(Reading[][] data, int task, int tasks)
    {
        var (first, end) = LinqStream.Parallel.KeyGroups.RangeOf(task, data.Length, tasks);
        return await Query([.. Sources(data).Skip(first).Take(end - first)]).ToListAsync();
    }

    [Theory]
    [InlineData(1, 4, 1)]
    [InlineData(2, 4, 2)]
    [InlineData(3, 5, 3)]
    [InlineData(4, 3, 4)]
    [InlineData(5, 2, 8)]
    public async Task EachTask_WritesItsPartitionsOutput_AndTogetherTheQueryResults(int seed, int partitions, int parallelism)
    {
        var data = Generate(seed, partitions, 6_000);
        var sinks = new List<MemorySink<string>>();
        await using var job = Query(Sources(data)).ToParallelSinkJob(
            i =>
            {
                Assert.Equal(sinks.Count, i);
                var sink = new MemorySink<string>();
                sinks.Add(sink);
                return sink;
            },
            new JobOptions { Parallelism = parallelism });
        int tasks = Math.Min(partitions, parallelism);
        Assert.Equal(tasks, job.Tasks);
        Assert.Equal(tasks, sinks.Count);

        var result = await job.RunAsync();

        Assert.Equal(tasks, result.Parallelism);
        Assert.Empty(result.Warnings);
        for (int t = 0; t < tasks; t++)
        {
            Assert.True(sinks[t].Completed);
            Assert.Equal(await TaskOutput(data, t, tasks), sinks[t].Items);
        }

        var expected = data.SelectMany(p => p).Where(r => r.Value % 5 != 0).Select(r => $"{r.Time} {r.Sensor} {r.Value}").Order(StringComparer.Ordinal);
        Assert.Equal(expected, sinks.SelectMany(s => s.Items).Order(StringComparer.Ordinal));
        Assert.Equal(expected.Count(), result.Results);
        if (tasks == 1)
        {
            Assert.Equal(await Query(Sources(data)).ToListAsync(), sinks[0].Items); // one task: the query's own order
        }
    }

    [Theory]
    [InlineData(1, 3, 2)]
    [InlineData(2, 4, 4)]
    [InlineData(3, 5, 2)]
    [InlineData(4, 2, 2)]
    public async Task CrashesInRandomPartitions_EverySinkEndsWithItsUninterruptedOutput(int seed, int partitions, int parallelism)
    {
        var data = Generate(seed, partitions, 8_000);
        int tasks = Math.Min(partitions, parallelism);
        var expected = new List<string>[tasks];
        for (int t = 0; t < tasks; t++)
        {
            expected[t] = await TaskOutput(data, t, tasks);
        }

        var random = new Random((seed * 7919) + parallelism);
        var store = new DirectoryCheckpointStore(Path.Combine(_directory, $"crash-{seed}-{partitions}-{parallelism}"));
        var sinks = Enumerable.Range(0, tasks).Select(_ => new MemorySink<string>()).ToArray();
        int failing = 0; // the first partition is never the empty one
        int length = data[failing].Length;
        var crashes = Enumerable.Range(0, 3).Select(_ => random.Next(length)).Append(random.Next(length / 2, length)).Order().ToList();
        int crashed = 0;
        foreach (int at in crashes.Append(-1))
        {
            await using var job = Query(Sources(data, random, at >= 0 ? failing : -1, at))
                .ToParallelSinkJob(i => sinks[i], new JobOptions { Checkpoints = store, CheckpointEveryEvents = random.Next(100, 900), Parallelism = parallelism });
            Assert.Equal(DeliveryGuarantee.ExactlyOnce, job.Guarantee);
            try
            {
                var result = await job.RunAsync();
                Assert.Equal(-1, at);
                Assert.Equal(tasks, result.Parallelism);
            }
            catch (QueryExecutionException ex) when (at >= 0)
            {
                Assert.True(ex.ToString().Contains("Simulated crash", StringComparison.Ordinal), ex.ToString());
                crashed++;
            }
        }

        Assert.Equal(crashes.Count, crashed);
        for (int t = 0; t < tasks; t++)
        {
            Assert.True(sinks[t].Completed);
            Assert.Equal(expected[t], sinks[t].Items);
        }
    }

    [Fact]
    public async Task Checkpoints_AreTakenAcrossTasks_AndTheirAlignmentIsReported()
    {
        var data = Generate(9, 4, 100_000); // long enough for the job to take several checkpoints before the input ends, also under load
        var sinks = Enumerable.Range(0, 2).Select(_ => new MemorySink<string>()).ToArray();
        var sources = Sources(data);
        ParallelSinkJob<string>? running = null;

        // Each source waits at 5,000, 10,000 and 15,000 events for the 1st, 2nd and 3rd checkpoint to complete: under load the
        // tasks could otherwise read everything before the job's thread took a checkpoint.
        foreach (var source in sources)
        {
            source.BeforeRead = async (index, cancellationToken) =>
            {
                long needed = Math.Min(index / 5_000, 3);
                while (running!.LastCheckpointId < needed)
                {
                    await Task.Delay(2, cancellationToken);
                }
            };
        }

        await using var job = Query(sources).ToParallelSinkJob(i => sinks[i], new JobOptions
        {
            Checkpoints = new DirectoryCheckpointStore(Path.Combine(_directory, "aligned")),
            CheckpointEveryEvents = 1_000,
            Parallelism = 2,
        });
        running = job;
        var result = await job.RunAsync(new CancellationTokenSource(TimeSpan.FromMinutes(2)).Token);
        Assert.True(result.Checkpoints >= 3, $"only {result.Checkpoints} checkpoints");
        Assert.NotNull(result.BarrierAlignmentP99);
        Assert.Equal(result.Checkpoints, job.AnswerTimes.Count);
        KeyedSinkJobTests.AssertAlignmentWithinAnswer(job.Alignments, job.AnswerTimes, result.BarrierAlignmentP99!.Value);
        Assert.Equal(result.Checkpoints, job.LastCheckpointId);
        Assert.Equal(await TaskOutput(data, 1, 2), sinks[1].Items);
    }

    [Fact]
    public async Task CheckpointEveryEvents_CountsTheEventsOfAllTasksTogether()
    {
        // Four partitions on four tasks, one of 12,000 readings and three of 1,000: a checkpoint every 5,000 events read by all the
        // tasks together is at most 15,000 / 5,000 = 3 checkpoints however the tasks' steps interleave (each needs 5,000 more events
        // read since the last request). Until session 14 each task counted its own 5,000 / 4 = 1,250, and the big partition alone
        // could ask for 9 (the count ToJob keeps at P > 1 is now the one implementation: EventsSinceCheckpoint).
        var data = PartitionedReadings.OfSizes(14, 12_000, 1_000, 1_000, 1_000);
        var sources = Sources(data);
        ParallelSinkJob<string>? running = null;
        PartitionedReadings.HoldUntilACheckpoint(sources[0], 8_000, () => running!.LastCheckpointId); // so that one comes before the input ends
        var sinks = Enumerable.Range(0, 4).Select(_ => new MemorySink<string>()).ToArray();
        await using var job = Query(sources).ToParallelSinkJob(i => sinks[i], new JobOptions
        {
            Checkpoints = new DirectoryCheckpointStore(Path.Combine(_directory, "every-events")),
            CheckpointEveryEvents = 5_000,
            Parallelism = 4,
        });
        running = job;

        var result = await job.RunAsync(new CancellationTokenSource(TimeSpan.FromMinutes(2)).Token);

        Assert.InRange(result.Checkpoints, 1, 3);
        Assert.Equal(result.Checkpoints, job.LastCheckpointId);
        for (int t = 0; t < 4; t++)
        {
            Assert.Equal(await TaskOutput(data, t, 4), sinks[t].Items);
        }
    }

    [Fact]
    public async Task CheckpointAtTwoTasks_RestoredAtFour_IsRefusedNamingBoth()
    {
        var data = Generate(10, 4, 20_000);
        var store = new DirectoryCheckpointStore(Path.Combine(_directory, "rescale"));
        var sinks = Enumerable.Range(0, 4).Select(_ => new MemorySink<string>()).ToArray();
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var release = new TaskCompletionSource();
        var sources = Sources(data);
        foreach (var source in sources)
        {
            // Held part-way until the job is stopped, so a checkpoint completes before the stop however the threads are scheduled.
            source.BeforeRead = (index, cancellationToken) => index >= 2_000 ? new ValueTask(release.Task.WaitAsync(cancellationToken)) : default;
        }

        await using (var job = Query(sources).ToParallelSinkJob(i => sinks[i], new JobOptions { Checkpoints = store, CheckpointEveryEvents = 500, Parallelism = 2 }))
        {
            var run = job.RunAsync(stop.Token);
            while (job.LastCheckpointId == 0 && !run.IsCompleted && !stop.IsCancellationRequested)
            {
                await Task.Delay(5);
            }

            stop.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
            release.TrySetResult();
            Assert.True(job.LastCheckpointId > 0, "no checkpoint was taken");
        }

        await using var four = Query(Sources(data)).ToParallelSinkJob(i => sinks[i], new JobOptions { Checkpoints = store, Parallelism = 4 });
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => four.RunAsync());
        Assert.Contains("taken with 2 sink tasks; this job has 4", error.Message, StringComparison.Ordinal);

        // A job with one sink cannot take it over either (another fingerprint).
        await using var single = Query(Sources(data)).ToJob(new MemorySink<string>(), new JobOptions { Checkpoints = store });
        await Assert.ThrowsAsync<InvalidDataException>(() => single.RunAsync());
    }

    [Fact]
    public async Task WholeWindowQuery_RunsOnOneTaskAndSaysWhy_OrThrowsWhenStrict()
    {
        // A window aggregate without a key cannot be split (a keyed one can: KeyedSinkJobTests).
        var data = Generate(11, 3, 2_000);
        IQStream<int> Windowed(bool strict) =>
            QStream.From([.. Sources(data).Cast<EventSource<Reading>>()], r => r.Time, IngressPolicy.Reorder(TimeSpan.FromSeconds(2)), name: "readings")
                .WithOptions(new QueryOptions { Strict = strict })
                .TumblingWindow(TimeSpan.FromSeconds(1))
                .Select(w => w.Count());
        var error = Assert.Throws<NotSupportedException>(() => Windowed(strict: true).ToParallelSinkJob(_ => new MemorySink<int>(), new JobOptions { Parallelism = 2 }));
        Assert.Contains("is above the union", error.Message, StringComparison.Ordinal);

        var sink = new MemorySink<int>();
        await using var job = Windowed(strict: false).ToParallelSinkJob(i => i == 0 ? sink : throw new InvalidOperationException("one task only"), new JobOptions { Parallelism = 2 });
        Assert.Equal(1, job.Tasks);
        var result = await job.RunAsync();
        Assert.Contains(result.Warnings, w => w.Contains("one task", StringComparison.Ordinal));
        Assert.Equal(await Windowed(strict: false).ToListAsync(), sink.Items);
    }

    [Fact]
    public void CommittedDeadLetterSink_IsNotSupportedYet_AndSaysSo()
    {
        var data = Generate(12, 2, 100);
        var error = Assert.Throws<NotSupportedException>(() => Query(Sources(data)).ToParallelSinkJob(_ => new MemorySink<string>(), new JobOptions { DeadLetters = new MemorySink<DeadLetter>() }));
        Assert.Contains("JobOptions.DeadLetters", error.Message, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
