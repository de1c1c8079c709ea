using System.Buffers.Binary;
using LinqStream.Testing.Io;

namespace LinqStream.Tests.Parallel;

/// <summary>
/// A job at parallelism P whose live source goes quiet (it has nothing to give, but has not ended): checkpoints asked for, and
/// checkpoints due by time, still complete during the quiet (the barrier goes through the idle source task, the keyed tasks and
/// the merge), and a job restored from the last of them, at another P, writes what one uninterrupted run writes.
/// </summary>
public sealed class QuietSourceCheckpointTests : IDisposable
{
    private const long Window = 1_000_000;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "linqstream-quiet-" + Guid.NewGuid().ToString("N"));

    public sealed record Tick(long Time, long Key, long Value);

    /// <summary>Random ticks up to 49 ticks out of order (within the reorder bound), ties, a hot key and keys near long.MinValue/MaxValue.</summary>
    internal static Tick[] Input(int count, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(i =>
        {
            long key = random.Next(5) switch
            {
                0 => 7,
                1 => long.MaxValue - random.Next(20),
                2 => long.MinValue + random.Next(20),
                _ => random.Next(300),
            };
            long time = Math.Max(0, i - random.Next(50)) * 10_000L;
            return new Tick(time, key, random.Next(-1000, 1000));
        })];
    }

    internal static IQStream<string> Query(EventSource<Tick> ticks) =>
        from t in QStream.From(ticks, t => new DateTime(t.Time, DateTimeKind.Utc), IngressPolicy.Reorder(TimeSpan.FromTicks(500_000)))
            .WithOptions(new QueryOptions { BatchSize = 64 })
            .TumblingWindow(TimeSpan.FromTicks(Window))
        group t by t.Key into g
        select $"{g.Window.End.Ticks} {g.Key} {g.Count()} {g.Sum(t => t.Value)}";

    /// <summary>The plain reference: LINQ to objects over the whole input, one line per (window, key) with an event.</summary>
    internal static List<string> Reference(IEnumerable<Tick> input) =>
    [
        .. input.GroupBy(t => (End: (t.Time / Window * Window) + Window, t.Key))
            .Select(g => $"{g.Key.End} {g.Key.Key} {g.Count()} {g.Sum(t => t.Value)}")
            .Order(StringComparer.Ordinal),
    ];

    [Theory]
    [InlineData(2, 3)]
    [InlineData(4, 1)]
    public async Task Job_LiveSourceQuietAtParallelismP_CheckpointsCompleteAndRestoreAtAnotherP(int parallelism, int restoreAt)
    {
        const int PauseAt = 7_000;
        var input = Input(12_000, 40 + parallelism);
        var single = new MemorySink<string>();
        await using (var job = Query(new ArrayEventSource<Tick>(input, "ticks")).ToJob(single, new JobOptions()))
        {
            await job.RunAsync();
        }

        Assert.Equal(Reference(input), single.Items.Order(StringComparer.Ordinal));

        var store = new DirectoryCheckpointStore(Path.Combine(_directory, $"p{parallelism}"));
        var sink = new MemorySink<string>();
        var quiet = new QuietSource(input, PauseAt);
        using var metrics = new JobMetrics("quiet");
        using var stop = new CancellationTokenSource();
        await using (var job = Query(quiet).ToJob(sink, new JobOptions
        {
            Parallelism = parallelism,
            Checkpoints = store,
            CheckpointInterval = TimeSpan.FromMilliseconds(20),
            Metrics = metrics,
        }))
        {
            var run = job.RunAsync(stop.Token);
            await quiet.Paused.WaitAsync(TimeSpan.FromMinutes(1));
            await WaitUntilAsync(() => metrics.Snapshot().EventsIn == PauseAt || run.IsCompleted);
            Assert.False(run.IsCompleted, "the job ended while its source was quiet");

            // Asked for while nothing flows: the barrier passes the idle source task and the merge.
            long asked = await job.CheckpointAsync().WaitAsync(TimeSpan.FromMinutes(1));
            // And due by time: two more, still during the quiet.
            await WaitUntilAsync(() => job.LastCheckpointId >= asked + 2 || run.IsCompleted);
            Assert.False(run.IsCompleted, "the job ended while its source was quiet");
            Assert.Equal(PauseAt, quiet.Next); // the source really gave nothing more meanwhile

            await stop.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(TimeSpan.FromMinutes(1)));
        }

        // Restored at another parallelism from the newest checkpoint, taken during the quiet: the source goes on from the pause.
        var replay = new ArrayEventSource<Tick>(input, "ticks");
        await using (var job = Query(replay).ToJob(sink, new JobOptions { Parallelism = restoreAt, Checkpoints = store }))
        {
            var result = await job.RunAsync().WaitAsync(TimeSpan.FromMinutes(1));
            Assert.NotNull(result.RestoredFrom);
            Assert.True(result.RestoredFrom >= 3, $"restored from {result.RestoredFrom}");
        }

        Assert.Equal(PauseAt, replay.OpenedAt);
        Assert.Equal(single.Items, sink.Items);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(1), "the condition did not hold in time");
            await Task.Delay(10);
        }
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    /// <summary>A replayable live source (position: the next index) that has nothing to give from <c>pauseAt</c> on, as a quiet topic: it answers "nothing yet" and never ends.</summary>
    private sealed class QuietSource(Tick[] ticks, int pauseAt) : EventSource<Tick>
    {
        private readonly TaskCompletionSource _paused = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _next;

        public Task Paused => _paused.Task;

        public int Next => Volatile.Read(ref _next);

        public override string Name => "ticks";

        public override bool CanReplay => true;

        public override ValueTask OpenAsync(SourceContext context, byte[]? position, CancellationToken cancellationToken)
        {
            _next = position is null ? 0 : BinaryPrimitives.ReadInt32LittleEndian(position);
            return ValueTask.CompletedTask;
        }

        public override async ValueTask<SourceRead> ReadAsync(Memory<Tick> buffer, CancellationToken cancellationToken)
        {
            if (_next >= pauseAt)
            {
                _paused.TrySetResult();
                await Task.Delay(5, cancellationToken).ConfigureAwait(false);
                return SourceRead.Idle;
            }

            int count = Math.Min(buffer.Length, pauseAt - _next);
            ticks.AsSpan(_next, count).CopyTo(buffer.Span);
            Volatile.Write(ref _next, _next + count);
            return new SourceRead(count, false);
        }

        public override byte[] GetPosition()
        {
            var position = new byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(position, _next);
            return position;
        }
    }
}
