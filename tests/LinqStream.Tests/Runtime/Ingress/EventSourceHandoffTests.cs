using System.Buffers.Binary;
using LinqStream.Testing.Io;
using Tick = LinqStream.Tests.Parallel.QuietSourceCheckpointTests.Tick;
using Ticks = LinqStream.Tests.Parallel.QuietSourceCheckpointTests;

namespace LinqStream.Tests.Runtime.Ingress;

/// <summary>
/// Issue #19 (conn12): an <see cref="EventSource{T}"/>'s reader hands a chunk to a runner that waits for it on the reader's own
/// thread (no pool worker woken per chunk), and queues chunks as before while the runner is behind. Random sources that are in
/// turn slower and faster than the query (delays, bursts larger than the buffer's share, idle reads, dead letters, events out of
/// order, ties, keys near <see cref="long.MinValue"/>/<see cref="long.MaxValue"/>) give exactly the answer of LINQ to objects over the
/// whole input, each dead letter once, at parallelism 1 and 2, with checkpoints taken on the way; a job restored from one of them
/// writes what one uninterrupted run writes. Input, query and reference are <see cref="Ticks"/>' (the quiet-source job tests').
/// </summary>
public sealed class EventSourceHandoffTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "linqstream-handoff-" + Guid.NewGuid().ToString("N"));

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 1)]
    [InlineData(3, 2)]
    [InlineData(4, 2)]
    public async Task Job_SourceInTurnSlowerAndFasterThanTheQuery_EveryEventAndDeadLetterOnce(int seed, int parallelism)
    {
        var input = Ticks.Input(6_000, seed);
        var source = new MoodySource(input, seed, bad: i => i % 97 == 13);
        var sink = new MemorySink<string>();
        var letters = new MemorySink<DeadLetter>();
        var store = new DirectoryCheckpointStore(Path.Combine(_directory, $"run{seed}"));
        JobResult result;
        await using (var job = Ticks.Query(source).ToJob(sink, new JobOptions
        {
            Parallelism = parallelism,
            Checkpoints = store,
            CheckpointEveryEvents = 700,
            DeadLetters = letters,
        }))
        {
            result = await job.RunAsync().WaitAsync(TimeSpan.FromMinutes(2));
        }

        var good = input.Where((_, i) => !source.IsBad(i)).ToList();
        Assert.Equal(Ticks.Reference(good), sink.Items.Order(StringComparer.Ordinal));
        var expectedLetters = Enumerable.Range(0, input.Length).Where(source.IsBad).Select(i => $"tick {i}").ToList();
        Assert.Equal(expectedLetters, letters.Items.Select(l => l.Record).ToList());
        Assert.Equal(expectedLetters.Count, result.DeadLetters);
        Assert.True(result.Checkpoints >= 1, $"{result.Checkpoints} checkpoints");
        Assert.True(source.Reads > 50, $"{source.Reads} reads");
    }

    [Theory]
    [InlineData(5)]
    [InlineData(6)]
    public async Task Job_RestoredFromACheckpointTakenWhileTheRunnerWaited_WritesWhatOneRunWrites(int seed)
    {
        var input = Ticks.Input(5_000, seed);
        var single = new MemorySink<string>();
        await using (var job = Ticks.Query(new ArrayEventSource<Tick>(input, "ticks")).ToJob(single, new JobOptions()))
        {
            await job.RunAsync().WaitAsync(TimeSpan.FromMinutes(2));
        }

        Assert.Equal(Ticks.Reference(input), single.Items.Order(StringComparer.Ordinal));

        // Stopped at a random result after a few checkpoints, while the slow source keeps the runner waiting for most chunks.
        var store = new DirectoryCheckpointStore(Path.Combine(_directory, $"restore{seed}"));
        var sink = new MemorySink<string>();
        using var stop = new CancellationTokenSource();
        sink.CancelAt(new Random(seed).Next(single.Items.Count / 3, single.Items.Count * 2 / 3), stop);
        await using (var job = Ticks.Query(new MoodySource(input, seed, bad: _ => false)).ToJob(sink, new JobOptions { Checkpoints = store, CheckpointEveryEvents = 500 }))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => job.RunAsync(stop.Token).WaitAsync(TimeSpan.FromMinutes(2)));
        }

        var replay = new MoodySource(input, seed + 100, bad: _ => false);
        await using (var job = Ticks.Query(replay).ToJob(sink, new JobOptions { Checkpoints = store }))
        {
            var result = await job.RunAsync().WaitAsync(TimeSpan.FromMinutes(2));
            Assert.NotNull(result.RestoredFrom);
        }

        Assert.True(replay.OpenedAt > 0, "the restored job read from the start");
        Assert.Equal(single.Items.Order(StringComparer.Ordinal), sink.Items.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Job_SourceSlowerThanTheQuery_RunsTheChunksOnTheReadersThread()
    {
        // Every read waits a little (a server that is slower than the query): the runner has consumed the last chunk and waits, so
        // the reader that queues the next one runs it itself, between two of its reads.
        var input = Ticks.Input(3_000, 9);
        var source = new MoodySource(input, 9, bad: _ => false, alwaysSlow: true);
        long onReader = 0, all = 0;
        var query = QStream.From(source, t => new DateTime(t.Time, DateTimeKind.Utc), IngressPolicy.Reorder(TimeSpan.FromTicks(500_000)))
            .WithOptions(new QueryOptions { BatchSize = 64 })
            .Select(t => new Tick(t.Time, t.Key, source.BetweenReadsOn == Environment.CurrentManagedThreadId ? 1 : 0));
        var sink = new MemorySink<Tick>();
        await using (var job = query.ToJob(sink, new JobOptions()))
        {
            await job.RunAsync().WaitAsync(TimeSpan.FromMinutes(2));
        }

        foreach (var tick in sink.Items)
        {
            all++;
            onReader += tick.Value;
        }

        Assert.Equal(input.Length, all);
        Assert.True(onReader >= all / 2, $"{onReader} of {all} events ran on the reader's thread between its reads");
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    /// <summary>
    /// A replayable source (position: the next index) whose reads are in turn slow (an asynchronous delay, so the runner waits for
    /// it) and fast (a burst that fills the buffer, so chunks queue up), with reads of nothing and short reads between; the ticks
    /// <c>bad</c> picks are reported as dead letters instead of events.
    /// </summary>
    private sealed class MoodySource(Tick[] ticks, int seed, Func<int, bool> bad, bool alwaysSlow = false) : EventSource<Tick>
    {
        private readonly Random _random = new(seed);
        private SourceContext? _context;
        private int _next;
        private int _betweenReadsOn = -1;

        public int OpenedAt { get; private set; } = -1;

        public int Reads { get; private set; }

        /// <summary>Gets the thread that returned from the last read and has not started the next one yet (-1: inside a read).</summary>
        public int BetweenReadsOn => Volatile.Read(ref _betweenReadsOn);

        public override string Name => "ticks";

        public override bool CanReplay => true;

        public bool IsBad(int index) => bad(index);

        public override ValueTask OpenAsync(SourceContext context, byte[]? position, CancellationToken cancellationToken)
        {
            _context = context;
            _next = position is null ? 0 : BinaryPrimitives.ReadInt32LittleEndian(position);
            OpenedAt = _next;
            return ValueTask.CompletedTask;
        }

        public override async ValueTask<SourceRead> ReadAsync(Memory<Tick> buffer, CancellationToken cancellationToken)
        {
            Volatile.Write(ref _betweenReadsOn, -1);
            Reads++;
            int mood = alwaysSlow ? 0 : _random.Next(6);
            if (mood <= 1)
            {
                await Task.Delay(_random.Next(1, 3), cancellationToken).ConfigureAwait(false);
            }
            else if (mood == 2)
            {
                await Task.Yield();
                Volatile.Write(ref _betweenReadsOn, Environment.CurrentManagedThreadId);
                return _next >= ticks.Length ? SourceRead.Completed : SourceRead.Idle;
            }

            int count = 0;
            int most = mood == 3 ? Math.Min(buffer.Length, 1 + _random.Next(5)) : buffer.Length;
            while (count < most && _next < ticks.Length)
            {
                if (bad(_next))
                {
                    _context!.DeadLetters.Write(DeadLetter.Create(Name, "index " + _next, "bad tick", "tick " + _next));
                }
                else
                {
                    buffer.Span[count++] = ticks[_next];
                }

                _next++;
            }

            Volatile.Write(ref _betweenReadsOn, Environment.CurrentManagedThreadId);
            return new SourceRead(count, _next >= ticks.Length);
        }

        public override byte[] GetPosition()
        {
            var position = new byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(position, _next);
            return position;
        }
    }
}
