using LinqStream.Testing.Io;

namespace LinqStream.Tests.Parallel;

/// <summary>
/// Checkpoints of a job whose keyed window aggregate runs on several tasks: aligned barriers, their alignment time in the
/// result and the metrics, dead letters written by the tasks committed once, and the number of key groups checked on restore.
/// </summary>
public sealed class ParallelCheckpointTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "linqstream-parckpt-" + Guid.NewGuid().ToString("N"));

    public sealed record Tick(long Time, long Key, long Value);

    /// <summary>Random ticks, up to 50 ticks out of order (every 1000th later than the policy allows), a quarter of them on key 7 (skew) and some keys near long.MaxValue.</summary>
    private static Tick[] Input(int count, int seed, bool late = true)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(i =>
        {
            long key = random.Next(4) == 0 ? 7 : random.Next(3) == 0 ? long.MaxValue - random.Next(50) : random.Next(500);
            long time = late && i % 1000 == 999 ? (i - 300) * 10_000L : Math.Max(0, i - random.Next(50)) * 10_000L; // every 1000th is late
            return new Tick(time, key, random.Next(-1000, 1000));
        })];
    }

    private static IQStream<string> Query(EventSource<Tick> ticks, QueryOptions options, TimeSpan? window = null) =>
        Query(QStream.From(ticks, t => new DateTime(t.Time, DateTimeKind.Utc), IngressPolicy.Reorder(TimeSpan.FromTicks(500_000))), options, window);

    private static IQStream<string> Query(IQStream<Tick> ticks, QueryOptions options, TimeSpan? window = null) =>
        from t in ticks.WithOptions(options).TumblingWindow(window ?? TimeSpan.FromTicks(1_000_000))
        group t by 1000 / (t.Key % 97 == 5 ? 0 : 1) + t.Key into g // a key selector that throws for some keys: dead letters on the tasks
        select $"{g.Window.End.Ticks} {g.Key} {g.Count()} {g.Sum(t => t.Value)}";

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public async Task CheckpointEveryEvents_WhileTheMergeHasNothing_IsTakenWhenTheSourceTasksHaveReadThatMany(int parallelism)
    {
        // One window over the whole input: the keyed tasks emit nothing before the end, so the job's loop gets no step from the
        // merge. The source is held after 3,000 events until a checkpoint is complete (or 30 s, which fails the test): before, the
        // loop looked at CheckpointEveryEvents only when a step returned, and no checkpoint came while the merge was empty.
        var input = Input(6_000, 11, late: false);
        var options = new QueryOptions { BatchSize = 64, OnError = ErrorPolicy.SkipAndDeadLetter };
        var reference = await Query(new ArrayEventSource<Tick>(input, "ticks"), options with { DeadLetters = new DeadLetterCollector() }, window: TimeSpan.FromDays(1)).ToListAsync();

        var store = new DirectoryCheckpointStore(Path.Combine(_directory, "every-events-" + parallelism));
        var sink = new MemorySink<string>();
        QueryJob<string>? running = null;
        long checkpointWhileHeld = -1;
        var source = new ArrayEventSource<Tick>(input, "ticks")
        {
            MaxRead = 100,
            BeforeRead = async (at, cancellationToken) =>
            {
                if (at >= 3_000 && checkpointWhileHeld < 0)
                {
                    var waited = System.Diagnostics.Stopwatch.StartNew();
                    while (running!.LastCheckpointId == 0 && waited.Elapsed < TimeSpan.FromSeconds(30))
                    {
                        await Task.Delay(10, cancellationToken);
                    }

                    checkpointWhileHeld = running.LastCheckpointId;
                }
            },
        };
        await using (var job = Query(source, options, window: TimeSpan.FromDays(1))
            .ToJob(sink, new JobOptions { Parallelism = parallelism, Checkpoints = store, CheckpointEveryEvents = 1_000, DeadLetters = new MemorySink<DeadLetter>() }))
        {
            running = job;
            var result = await job.RunAsync();
            Assert.Equal(parallelism, result.Parallelism);
        }

        Assert.True(checkpointWhileHeld > 0, "no checkpoint was taken while the source was held after 3,000 events (CheckpointEveryEvents = 1,000)");
        Assert.Equal(reference, sink.Items);
    }

    [Fact]
    public async Task LiveSource_AtParallelism2_TimedCheckpointsAreTakenWhileEventsArrive()
    {
        var input = Input(6_000, 5, late: false);
        var options = new QueryOptions { BatchSize = 64, OnError = ErrorPolicy.SkipAndDeadLetter };
        var reference = await Query(new ArrayEventSource<Tick>(input, "ticks"), options with { DeadLetters = new DeadLetterCollector() }).ToListAsync();

        using var subject = new System.Reactive.Subjects.Subject<Tick>();
        var sink = new MemorySink<string>();
        var live = QStream.From(subject, t => new DateTime(t.Time, DateTimeKind.Utc), IngressPolicy.Reorder(TimeSpan.FromTicks(500_000)), "live ticks");
        await using var job = Query(live, options).ToJob(sink, new JobOptions
        {
            Parallelism = 2,
            Checkpoints = new DirectoryCheckpointStore(Path.Combine(_directory, "live")),
            CheckpointInterval = TimeSpan.FromMilliseconds(10),
            DeadLetters = new MemorySink<DeadLetter>(),
        });
        Assert.Contains("live ticks", job.GuaranteeReason, StringComparison.Ordinal);
        var run = job.RunAsync();
        var subscribed = System.Diagnostics.Stopwatch.StartNew();
        while (!subject.HasObservers && subscribed.Elapsed < TimeSpan.FromMinutes(1) && !run.IsCompleted)
        {
            await Task.Delay(5); // the source task subscribes when it starts; events before that would be lost
        }

        foreach (var chunk in input.Chunk(500))
        {
            foreach (var tick in chunk)
            {
                subject.OnNext(tick);
            }

            await Task.Delay(30);
        }

        subject.OnCompleted();
        var result = await run.WaitAsync(TimeSpan.FromMinutes(2));

        Assert.Equal(2, result.Parallelism);
        Assert.True(result.Checkpoints >= 2, $"only {result.Checkpoints} checkpoints");
        Assert.NotNull(result.BarrierAlignmentP99);
        Assert.Equal(reference.Order(StringComparer.Ordinal), sink.Items.Order(StringComparer.Ordinal));
    }

    private sealed class DeadLetterCollector : IDeadLetterSink
    {
        public void Write(DeadLetter letter)
        {
        }
    }

    [Fact]
    public async Task Job_AtParallelism2_AlignsBarriers_AndReportsTheirP99()
    {
        var input = Input(40_000, 1);
        var options = new QueryOptions { BatchSize = 128, OnError = ErrorPolicy.SkipAndDeadLetter };
        var reference = new MemorySink<string>();
        long late;
        await using (var job = Query(new ArrayEventSource<Tick>(input, "ticks"), options).ToJob(reference, new JobOptions { DeadLetters = new MemorySink<DeadLetter>() }))
        {
            var sequential = await job.RunAsync();
            Assert.Equal(1, sequential.Parallelism);
            Assert.Null(sequential.BarrierAlignmentP99);
            late = sequential.LateEvents;
            Assert.True(late > 0);
        }

        using var metrics = new JobMetrics("parallel");
        var sink = new MemorySink<string>();
        var store = new DirectoryCheckpointStore(Path.Combine(_directory, "aligned"));
        await using var parallel = Query(new ArrayEventSource<Tick>(input, "ticks") { MaxRead = 100 }, options)
            .ToJob(sink, new JobOptions { Parallelism = 2, Checkpoints = store, CheckpointEveryEvents = 500, Metrics = metrics, DeadLetters = new MemorySink<DeadLetter>() });
        var result = await parallel.RunAsync();

        Assert.Equal(2, result.Parallelism);
        Assert.Equal(late, result.LateEvents); // counted by the source task's ingress
        Assert.True(result.Checkpoints >= 2, $"only {result.Checkpoints} checkpoints");
        Assert.NotNull(result.BarrierAlignmentP99);
        Assert.True(result.BarrierAlignmentP99 >= TimeSpan.Zero);
        var aligned = metrics.Snapshot().Checkpoints.Where(c => c.BarrierAlignment is not null).ToList();
        Assert.NotEmpty(aligned);
        Assert.True(aligned.Max(c => c.BarrierAlignment) <= result.BarrierAlignmentP99 || aligned.Count >= 100);
        Assert.Equal(reference.Items, sink.Items);
    }

    [Theory]
    [InlineData(2, 2)]
    [InlineData(2, 1)]
    [InlineData(4, 3)]
    public async Task DeadLettersOfTheTasks_AcrossACrash_AreWrittenOnce(int parallelism, int restoreAt)
    {
        var input = Input(30_000, 2);
        var options = new QueryOptions { BatchSize = 64, OnError = ErrorPolicy.SkipAndDeadLetter };
        var expected = new MemorySink<string>();
        var expectedLetters = new MemorySink<DeadLetter>();
        await using (var job = Query(new ArrayEventSource<Tick>(input, "ticks"), options).ToJob(expected, new JobOptions { DeadLetters = expectedLetters }))
        {
            await job.RunAsync();
        }

        Assert.NotEmpty(expectedLetters.Items);
        var store = new DirectoryCheckpointStore(Path.Combine(_directory, $"letters-{parallelism}-{restoreAt}"));
        var sink = new MemorySink<string>();
        var letters = new MemorySink<DeadLetter>();
        await using (var job = Query(new ArrayEventSource<Tick>(input, "ticks") { FailAt = 20_000, MaxRead = 64 }, options)
            .ToJob(sink, new JobOptions { Parallelism = parallelism, Checkpoints = store, CheckpointEveryEvents = 1_000, DeadLetters = letters }))
        {
            await Assert.ThrowsAsync<QueryExecutionException>(() => job.RunAsync());
        }

        await using (var job = Query(new ArrayEventSource<Tick>(input, "ticks"), options)
            .ToJob(sink, new JobOptions { Parallelism = restoreAt, Checkpoints = store, DeadLetters = letters }))
        {
            var result = await job.RunAsync();
            Assert.NotNull(result.RestoredFrom);
        }

        Assert.Equal(expected.Items, sink.Items);
        // The letters of an event whose key throws all come from the task of key group 0, so even their order is P = 1's.
        Assert.Equal(expectedLetters.Items.Select(l => l.ToString()), letters.Items.Select(l => l.ToString()));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public async Task DeadLettersOfALiveSource_RestoredFromEveryCheckpoint_AreWrittenOnceInOrder(int parallelism)
    {
        // A JSON-lines file with a malformed line every 23 lines: its dead letters are written by the source task, whose steps
        // run on pool threads (a live source), so which barrier a letter comes after is the task's, not its thread's.
        var input = Input(12_000, 6, late: false);
        Directory.CreateDirectory(_directory);
        string path = Path.Combine(_directory, $"ticks-{parallelism}.jsonl");
        using (var writer = new StreamWriter(path))
        {
            for (int i = 0; i < input.Length; i++)
            {
                if (i % 23 == 11)
                {
                    writer.WriteLine($"{{\"Time\": not a number {i}}}");
                }

                writer.WriteLine(System.Text.Json.JsonSerializer.Serialize(input[i]));
            }
        }

        var options = new QueryOptions { BatchSize = 16, OnError = ErrorPolicy.SkipAndDeadLetter };
        IQStream<string> Counts() =>
            from t in QStream.From(new JsonLinesFileSource<Tick>(path), t => new DateTime(t.Time, DateTimeKind.Utc), IngressPolicy.Reorder(TimeSpan.FromTicks(500_000)), "ticks")
                .WithOptions(options).TumblingWindow(TimeSpan.FromTicks(1_000_000))
            group t by t.Key into g
            select $"{g.Window.End.Ticks} {g.Key} {g.Count()} {g.Sum(t => t.Value)}";

        var expected = new MemorySink<string>();
        var expectedLetters = new MemorySink<DeadLetter>();
        await using (var job = Counts().ToJob(expected, new JobOptions { DeadLetters = expectedLetters }))
        {
            await job.RunAsync();
        }

        Assert.Equal(input.Length / 23 + (input.Length % 23 > 11 ? 1 : 0), expectedLetters.Items.Count);
        var store = new DirectoryCheckpointStore(Path.Combine(_directory, $"live-letters-{parallelism}")) { Retain = 1_000 };
        var sink = new MemorySink<string>();
        var letters = new MemorySink<DeadLetter>();
        await using (var job = Counts().ToJob(sink, new JobOptions { Parallelism = parallelism, Checkpoints = store, CheckpointEveryEvents = 300, DeadLetters = letters }))
        {
            var result = await job.RunAsync();
            Assert.True(result.Checkpoints >= 5, $"only {result.Checkpoints} checkpoints");
        }

        Assert.Equal(expected.Items, sink.Items);
        Assert.Equal(Describe(expectedLetters.Items), Describe(letters.Items));

        // From every checkpoint, a restore writes exactly the letters (and results) the checkpoint had not committed.
        foreach (long id in store.List())
        {
            var restoredSink = await Filled(expected.Items);
            var restoredLetters = await Filled(expectedLetters.Items);
            using var checkpoint = new MemoryStream(await store.LoadAsync(id, CancellationToken.None));
            await using (var job = Counts().ToJob(restoredSink, new JobOptions { RestoreFrom = checkpoint, Parallelism = parallelism, DeadLetters = restoredLetters }))
            {
                await job.RunAsync();
            }

            Assert.True(Describe(expectedLetters.Items).SequenceEqual(Describe(restoredLetters.Items)), $"the dead letters restored from checkpoint {id} of {store.List().Count}: {restoredLetters.Items.Count}, expected {expectedLetters.Items.Count}");
            Assert.True(expected.Items.SequenceEqual(restoredSink.Items), $"the results restored from checkpoint {id}");
        }

        static IEnumerable<string> Describe(IEnumerable<DeadLetter> items) => items.Select(l => l.ToString());

        static async Task<MemorySink<TItem>> Filled<TItem>(IReadOnlyList<TItem> items)
        {
            var filled = new MemorySink<TItem>();
            await filled.OpenAsync(null, CancellationToken.None);
            await filled.WriteAsync(items.ToArray(), CancellationToken.None);
            return filled;
        }
    }

    [Fact]
    public async Task Restore_WithAnotherNumberOfKeyGroups_IsRefused_NamingBoth()
    {
        var input = Input(5_000, 3);
        var options = new QueryOptions { BatchSize = 64, OnError = ErrorPolicy.SkipAndDeadLetter, KeyGroups = 128 };
        var store = new DirectoryCheckpointStore(Path.Combine(_directory, "groups"));
        await using (var job = Query(new ArrayEventSource<Tick>(input, "ticks"), options)
            .ToJob(new MemorySink<string>(), new JobOptions { Parallelism = 2, Checkpoints = store, CheckpointEveryEvents = 1_000, DeadLetters = new MemorySink<DeadLetter>() }))
        {
            Assert.True((await job.RunAsync()).Checkpoints > 0);
        }

        using var checkpoint = new MemoryStream(await store.LoadAsync(store.List()[0], CancellationToken.None));
        await using var restored = Query(new ArrayEventSource<Tick>(input, "ticks"), options with { KeyGroups = 64 })
            .ToJob(new MemorySink<string>(), new JobOptions { RestoreFrom = checkpoint, Parallelism = 2, DeadLetters = new MemorySink<DeadLetter>() });
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => restored.RunAsync());
        Assert.Contains("128 key groups", error.Message, StringComparison.Ordinal);
        Assert.Contains("KeyGroups = 64", error.Message, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
