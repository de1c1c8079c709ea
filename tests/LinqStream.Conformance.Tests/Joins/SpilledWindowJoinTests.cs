using LinqStream.Conformance.Tests.Infrastructure;
using LinqStream.State.RocksDb;
using LinqStream.Testing.Io;
using LinqStream.Physical.Join.Window;
using Ev = LinqStream.Conformance.Tests.Joins.WindowJoinTests.Ev;
using NewUser = LinqStream.Conformance.Tests.Joins.WindowJoinTests.NewUser;
using Pair = LinqStream.Conformance.Tests.Joins.WindowJoinTests.Pair;

namespace LinqStream.Conformance.Tests.Joins;

/// <summary>
/// The window join with its waiting events in RocksDB (issue #18; 16 hot events on the heap, the rest spilled and joined from the
/// store when both watermarks pass their window) gives exactly the heap operator's events in the heap operator's order, and the
/// same pairs as LINQ to objects over the whole input: the random inputs of <see cref="WindowJoinTests"/> (out of order, ties,
/// empty windows, the extremes of <c>long</c>, null keys), one key with most of the events, a window far larger than the hot
/// budget, crashes restored from checkpoints, and damaged checkpoints.
/// </summary>
[Collection(RocksDbCollection.Name)]
public sealed class SpilledWindowJoinTests : IDisposable
{
    // Windows of 30 s: about 60 events each in WindowJoinTests' input (whose own 2 s windows hold about 4, fewer than the hot budget).
    private static readonly TimeSpan Size = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Disorder = TimeSpan.FromSeconds(1);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "linqstream-spill-join-" + Guid.NewGuid().ToString("N"));

    public static TheoryData<int, int, bool> Cases() => RandomInput.Cases();

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task ManyToManyPerKey_OnRocksDb_GivesTheHeapsEventsInOrder_AndTheReferencePairs(int seed, int batchSize, bool disordered)
    {
        var data = WindowJoinTests.Generate(seed, disordered);
        var lefts = data.Where(e => e.Kind == 0).ToArray();
        var rights = data.Where(e => e.Kind == 1).ToArray();
        var expected = Reference(lefts, rights);

        var (spilled, spilledEvents) = await AssertSameAsHeap(ManyToMany(lefts, rights, disordered), Options(batchSize), "m2m" + seed + batchSize + disordered, hotKeys: 16);

        Assert.Equal(Sorted(expected), Sorted(spilled));
        Assert.True(spilledEvents > 16, $"{spilledEvents} events were written to RocksDB: the test did not exercise the store");
    }

    [Theory]
    [InlineData(1, 7, true)]
    [InlineData(2, 1, false)]
    [InlineData(3, 4096, true)]
    public async Task NullableKeysWithNulls_OnRocksDb_GivesTheHeapsEventsInOrder_AndTheReferencePairs(int seed, int batchSize, bool disordered)
    {
        var data = WindowJoinTests.Generate(seed, disordered);
        var lefts = data.Where(e => e.Kind == 0).ToArray();
        var rights = data.Where(e => e.Kind == 1).ToArray();
        IQStream<Pair> Query(QueryOptions options) =>
            from l in Source(lefts, disordered, options, "left").TumblingWindow(Size)
            join r in Source(rights, disordered, options, "right").TumblingWindow(Size) on (l.Tag % 3 == 0 ? null : (long?)l.Id) equals (long?)r.Ref
            select new Pair(l.Id, l.Tag, l.Time, r.Tag, r.Time);
        var expected =
            from l in lefts.Where(l => l.Tag % 3 != 0)
            join r in rights on (Start(l.Time), l.Id) equals (Start(r.Time), r.Ref)
            select new Pair(l.Id, l.Tag, l.Time, r.Tag, r.Time);

        var (spilled, spilledEvents) = await AssertSameAsHeap(Query, Options(batchSize), "nullable" + seed, hotKeys: 16);

        Assert.Equal(Sorted(expected), Sorted(spilled));
        Assert.True(spilledEvents > 16, $"{spilledEvents} events were written to RocksDB");
    }

    [Theory]
    [InlineData(1, 7, true)]
    [InlineData(2, 64, false)]
    public async Task PeopleJoinedWithSellersOfTheWindow_Q8Shape_OnRocksDb_GivesTheHeapsEventsInOrder_AndTheReference(int seed, int batchSize, bool disordered)
    {
        var data = WindowJoinTests.Generate(seed, disordered).ToArray();
        IQStream<NewUser> Query(QueryOptions options)
        {
            var events = Source(data, disordered, options, "events");
            var sellers =
                from a in events.Where(e => e.Kind == 1).TumblingWindow(Size)
                group a by a.Ref into g
                select new { Seller = g.Key, Auctions = g.Count(), Start = g.Window.StartTicks };
            return from p in events.Where(e => e.Kind == 0).TumblingWindow(Size)
                   join s in sellers on p.Id equals s.Seller
                   select new NewUser(p.Id, p.Tag, p.Time, s.Auctions, s.Start);
        }

        var expected =
            from p in data.Where(e => e.Kind == 0)
            join s in from a in data.Where(e => e.Kind == 1)
                      group a by (Start: Start(a.Time), a.Ref) into g
                      select (g.Key.Start, Seller: g.Key.Ref, Count: g.Count())
                on (Start(p.Time), p.Id) equals (s.Start, s.Seller)
            select new NewUser(p.Id, p.Tag, p.Time, s.Count, s.Start);

        var (spilled, spilledEvents) = await AssertSameAsHeap(Query, Options(batchSize), "q8" + seed, hotKeys: 16);

        Assert.Equal(Sorted(expected), Sorted(spilled));
        Assert.True(spilledEvents > 16, $"{spilledEvents} events were written to RocksDB");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task OneKeyWithMostEvents_OnRocksDb_GivesTheHeapsEventsInOrder_AndTheReferencePairs(int seed)
    {
        // Skew: key 7 has two thirds of each side's events, so one key's spilled left events are read for many right events.
        var random = new Random(seed);
        long origin = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;
        var events = Enumerable.Range(0, 2_400).Select(i =>
        {
            long key = random.Next(3) == 0 ? RandomInput.Key(random, 4, RandomInput.HugeKeys, 40) : 7;
            int kind = random.Next(2);
            return new Ev(origin + (i * TimeSpan.TicksPerSecond / 300), kind, key, key, random.Next(1, 1000));
        }).ToList();
        var data = RandomInput.Disordered(events, e => e.Time, Disorder.Ticks, random);
        var lefts = data.Where(e => e.Kind == 0).ToArray();
        var rights = data.Where(e => e.Kind == 1).ToArray();
        var expected = Reference(lefts, rights);

        var (spilled, spilledEvents) = await AssertSameAsHeap(ManyToMany(lefts, rights, disordered: true), Options(50), "skew" + seed, hotKeys: 32);

        Assert.Equal(Sorted(expected), Sorted(spilled));
        Assert.True(spilled.Count > 100_000, $"{spilled.Count} pairs: the hot key must give many");
        Assert.True(spilledEvents > 200, $"{spilledEvents} events were written to RocksDB");
    }

    [Fact]
    public async Task OneWindowFarLargerThanTheHotBudget_OnRocksDb_GivesTheHeapsEventsInOrder()
    {
        // 24,000 events over 6,000 keys in one window, 64 hot events: almost every event is joined from the store.
        long origin = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;
        var lefts = Enumerable.Range(0, 12_000).Select(i => new Ev(origin + i, 0, i * 7_919L % 6_000, 0, i)).ToArray();
        var rights = Enumerable.Range(0, 12_000).Select(i => new Ev(origin + i, 1, 0, i * 104_729L % 6_000, i)).ToArray();
        var expected =
            from l in lefts
            join r in rights on l.Id equals r.Ref
            select new Pair(l.Id, l.Tag, l.Time, r.Tag, r.Time);
        IQStream<Pair> Query(QueryOptions options) =>
            from l in Source(lefts, false, options, "left").TumblingWindow(TimeSpan.FromMinutes(1))
            join r in Source(rights, false, options, "right").TumblingWindow(TimeSpan.FromMinutes(1)) on l.Id equals r.Ref
            select new Pair(l.Id, l.Tag, l.Time, r.Tag, r.Time);

        var (spilled, spilledEvents) = await AssertSameAsHeap(Query, Options(256), "large", hotKeys: 64);

        Assert.Equal(Sorted(expected), Sorted(spilled));
        Assert.Equal(24_000, spilled.Count);
        Assert.True(spilledEvents > 23_000, $"{spilledEvents} events were written to RocksDB");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task CrashesAtRandomPoints_OnRocksDb_RestoredOutputEqualsUninterruptedRun(int seed)
    {
        var data = WindowJoinTests.Generate(seed, disordered: true);
        var lefts = data.Where(e => e.Kind == 0).ToArray();
        var rights = data.Where(e => e.Kind == 1).ToArray();
        var uninterrupted = await ManyToMany(lefts, rights, disordered: true)(Options(33)).ToListAsync();

        var random = new Random(seed);
        var store = new DirectoryCheckpointStore(Path.Combine(_directory, "crash" + seed + "-checkpoints"));
        var sink = new MemorySink<Pair>();
        int[] crashPoints = [.. Enumerable.Range(0, 3).Select(_ => random.Next(rights.Length)).Order()];
        long? lastSaved = null;
        foreach (int crashAt in crashPoints.Append(-1))
        {
            var options = new QueryOptions { BatchSize = 33, Strict = true };
            var left = new ArrayEventSource<Ev>(lefts, "left") { MaxRead = random.Next(1, 100) };
            var right = new ArrayEventSource<Ev>(rights, "right") { FailAt = crashAt, MaxRead = random.Next(1, 100) };
            var query =
                from l in QStream.From(left, e => e.Time, IngressPolicy.Reorder(Disorder)).WithOptions(options).TumblingWindow(Size)
                join r in QStream.From(right, e => e.Time, IngressPolicy.Reorder(Disorder)).TumblingWindow(Size) on l.Id equals r.Ref
                select new Pair(l.Id, l.Tag, l.Time, r.Tag, r.Time);
            await using var job = query.ToJob(sink, new JobOptions
            {
                State = StateBackend.RocksDb(Path.Combine(_directory, "crash" + seed), 16),
                Checkpoints = store,
                CheckpointEveryEvents = random.Next(50, 400),
            });
            lastSaved = await CrashRuns.RunAsync(job, crashAt, lastSaved, store);
        }

        Assert.NotNull(lastSaved);
        Assert.True(sink.Completed);
        Assert.Equal(uninterrupted, sink.Items);
    }

    [Fact]
    public async Task Restore_WithItsSharedFilesDeleted_FailsNamingTheMissingFile()
    {
        var (lefts, rights) = OneWindowPerSecond(3_000);
        await DamagedRocksDbState.AssertRestoreWithSharedFilesDeletedFails(
            (failAt, beforeRead) => Crashing(lefts, rights, failAt, beforeRead), 2_500, Path.Combine(_directory, "damaged"), new DirectoryCheckpointStore(Path.Combine(_directory, "damaged-checkpoints")), 500);
    }

    [Fact]
    public async Task HeapCheckpoint_RestoredOnRocksDb_IsRefusedNamingBothStates()
    {
        var (lefts, rights) = OneWindowPerSecond(2_000);
        var store = new DirectoryCheckpointStore(Path.Combine(_directory, "switch-checkpoints"));
        await using (var job = Crashing(lefts, rights, 1_500).ToJob(new MemorySink<Pair>(), new JobOptions { Checkpoints = store, CheckpointEveryEvents = 500 }))
        {
            await Assert.ThrowsAsync<QueryExecutionException>(() => job.RunAsync());
        }

        await using var restored = Crashing(lefts, rights, -1).ToJob(new MemorySink<Pair>(), new JobOptions { State = StateBackend.RocksDb(Path.Combine(_directory, "switch"), 16), Checkpoints = store });
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => restored.RunAsync());
        Assert.Contains("WindowJoin(spilled)", error.Message, StringComparison.Ordinal);
        Assert.Contains("WindowJoin'", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Runs <paramref name="query"/> as a plain query (the heap operator) and as a RocksDB job with checkpoints; asserts the
    /// window join plan and the same events in the same order; returns them and the number of events the job wrote to its store.</summary>
    private async Task<(List<T> Items, long Spilled)> AssertSameAsHeap<T>(Func<QueryOptions, IQStream<T>> query, QueryOptions options, string name, int hotKeys)
    {
        Assert.Contains("TumblingJoinToWindowJoin: applied", query(options).Explain(), StringComparison.Ordinal);
        var heap = await query(options).ToListAsync();
        long spilledBefore = Interlocked.Read(ref SpilledWindowJoinCounters.EventsSpilled);
        long windowsBefore = Interlocked.Read(ref SpilledWindowJoinCounters.WindowsJoinedFromStore);
        var sink = new MemorySink<T>();
        await using (var job = query(options).ToJob(sink, new JobOptions
        {
            State = StateBackend.RocksDb(Path.Combine(_directory, name), hotKeys),
            Checkpoints = new DirectoryCheckpointStore(Path.Combine(_directory, name + "-checkpoints")),
            CheckpointEveryEvents = 300,
        }))
        {
            await job.RunAsync();
        }

        Assert.Equal(heap, sink.Items);
        long spilled = Interlocked.Read(ref SpilledWindowJoinCounters.EventsSpilled) - spilledBefore;
        Assert.True(spilled == 0 || Interlocked.Read(ref SpilledWindowJoinCounters.WindowsJoinedFromStore) > windowsBefore, "events were spilled but no window was joined from the store");
        return (sink.Items.ToList(), spilled);
    }

    private static QueryOptions Options(int batchSize) => new() { BatchSize = batchSize, Strict = true };

    private static Func<QueryOptions, IQStream<Pair>> ManyToMany(Ev[] lefts, Ev[] rights, bool disordered) => options =>
        from l in Source(lefts, disordered, options, "left").TumblingWindow(Size)
        join r in Source(rights, disordered, options, "right").TumblingWindow(Size) on l.Id equals r.Ref
        select new Pair(l.Id, l.Tag, l.Time, r.Tag, r.Time);

    private static IQStream<Pair> Crashing(Ev[] lefts, Ev[] rights, int failAt, Func<int, CancellationToken, ValueTask>? beforeRead = null)
    {
        var options = new QueryOptions { BatchSize = 50, Strict = true };
        return from l in QStream.From(new ArrayEventSource<Ev>(lefts, "left"), e => e.Time).WithOptions(options).TumblingWindow(TimeSpan.FromSeconds(1))
               join r in QStream.From(new ArrayEventSource<Ev>(rights, "right") { FailAt = failAt, BeforeRead = beforeRead }, e => e.Time).TumblingWindow(TimeSpan.FromSeconds(1)) on l.Id equals r.Ref
               select new Pair(l.Id, l.Tag, l.Time, r.Tag, r.Time);
    }

    /// <summary>Both sides over 300 keys, 1,000 events per 1 s window each.</summary>
    private static (Ev[] Lefts, Ev[] Rights) OneWindowPerSecond(int count)
    {
        long origin = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;
        var lefts = Enumerable.Range(0, count).Select(i => new Ev(origin + (i * TimeSpan.TicksPerMillisecond), 0, i % 300, 0, i)).ToArray();
        var rights = Enumerable.Range(0, count).Select(i => new Ev(origin + (i * TimeSpan.TicksPerMillisecond), 1, 0, i * 7 % 300, i)).ToArray();
        return (lefts, rights);
    }

    private static IQStream<Ev> Source(IReadOnlyList<Ev> data, bool disordered, QueryOptions options, string name) =>
        QStream.From(new ArrayEventSource<Ev>([.. data], name), e => e.Time, disordered ? IngressPolicy.Reorder(Disorder) : IngressPolicy.Throw).WithOptions(options);

    /// <summary>LINQ to objects: every left and right event of the same window with equal keys.</summary>
    private static IEnumerable<Pair> Reference(Ev[] lefts, Ev[] rights) =>
        from l in lefts
        join r in rights on (Start(l.Time), l.Id) equals (Start(r.Time), r.Ref)
        select new Pair(l.Id, l.Tag, l.Time, r.Tag, r.Time);

    private static long Start(long time) => time - ((time - DateTime.UnixEpoch.Ticks) % Size.Ticks);

    private static List<T> Sorted<T>(IEnumerable<T> items) => [.. items.OrderBy(i => i!.ToString(), StringComparer.Ordinal)];

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
