using LinqStream.Runtime.Checkpoints;
using LinqStream.State.RocksDb;
using LinqStream.Testing.Io;
using Operator = LinqStream.Physical.Windows.SpilledFixedWindowAggregateOperator<
    LinqStream.Conformance.Tests.Windows.SpilledFixedWindowTests.Hit, long, LinqStream.Conformance.Tests.Windows.SpilledFixedWindowTests.Row>;

namespace LinqStream.Conformance.Tests.Windows;

/// <summary>
/// Tumbling and hopping window aggregates with their groups in RocksDB (16 hot groups on the heap, the rest spilled and read back
/// when their window closes) give exactly the heap backend's output, and the same groups as a plain LINQ-to-objects reference over
/// the whole input: random inputs with out-of-order events, ties, empty windows (the input pauses), huge and negative keys, many
/// more keys than the heap holds; hopping windows built from panes (on the heap and, since session 16, in the spilled operator:
/// groups per (pane, key), merged at a window's close with the panes' spilled groups), and hopping windows whose size is not a
/// multiple of the hop or whose aggregate does not merge (each event folded into every window).
/// </summary>
[Collection(LinqStream.Conformance.Tests.Infrastructure.RocksDbCollection.Name)]
public sealed class SpilledFixedWindowTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "linqstream-spill-fixed-" + Guid.NewGuid().ToString("N"));

    public sealed record Hit(long Key, long Time, int Value);

    public sealed record Row(long Key, long Start, long End, int Count, long Sum, int Max, double Average);

    /// <summary>Window sizes and hops in ticks: tumbling; hopping with size a multiple of the hop (panes, unless the average is
    /// asked for: it does not merge); hopping without.</summary>
    public static TheoryData<int, int, int, long, long, bool> Cases() => new()
    {
        { 1, 3_000, 400, 100, 100, false },
        { 2, 5_000, 2_000, 60, 60, false },
        { 3, 2_000, 5, 100, 100, false },
        { 4, 4_000, 300, 120, 40, false },
        { 5, 4_000, 300, 120, 40, true },
        { 6, 3_000, 200, 70, 30, false },
        { 7, 3_000, 1_000, 90, 30, true },
        { 8, 4_000, 300, 100, 20, false },
        { 9, 3_000, 1_000, 60, 20, false },
    };

    /// <summary>Whether the operator builds these windows from panes: hopping, size a multiple of the hop, every aggregate merges.</summary>
    private static bool Panes(long size, long hop, bool average) => size != hop && size % hop == 0 && !average;

    private static Hit[] RandomInput(int seed, int events, int keys)
    {
        var random = new Random(seed);
        long[] keySpace = [.. Enumerable.Range(0, keys).Select(i => i switch
        {
            0 => long.MaxValue,
            1 => long.MinValue,
            2 => -1,
            _ => random.NextInt64(long.MinValue, long.MaxValue),
        })];
        var hits = new Hit[events];
        long time = 1_000;
        for (int i = 0; i < events; i++)
        {
            // Ties (a quarter of the events share the previous time) and, now and then, a pause that leaves whole windows empty.
            time += random.Next(0, 500) == 0 ? random.Next(300, 1_000) : random.Next(0, 4) == 0 ? 0 : random.Next(0, 6);
            long disorder = random.Next(0, 8) == 0 ? random.Next(0, 30) : 0;
            hits[i] = new Hit(keySpace[random.Next(keys)], time - disorder, random.Next(-1000, 1000));
        }

        return hits;
    }

    private static IQStream<Row> Query(Hit[] hits, long size, long hop, bool average)
    {
        var windowed = QStream.From(new ArrayEventSource<Hit>(hits, "hits"), h => h.Time, IngressPolicy.Reorder(TimeSpan.FromTicks(30)))
            .WithOptions(new QueryOptions { BatchSize = 37, Strict = true });
        var windows = size == hop ? windowed.TumblingWindow(TimeSpan.FromTicks(size)) : windowed.HoppingWindow(TimeSpan.FromTicks(size), TimeSpan.FromTicks(hop));

        // The average (a double sum, added in event order) does not merge, so the heap folds each event into every window too.
        return average
            ? from h in windows
              group h by h.Key into g
              select new Row(g.Key, g.Window.Start.UtcTicks, g.Window.End.UtcTicks, g.Count(), g.Sum(h => (long)h.Value), g.Max(h => h.Value), g.Average(h => (double)h.Value))
            : from h in windows
              group h by h.Key into g
              select new Row(g.Key, g.Window.Start.UtcTicks, g.Window.End.UtcTicks, g.Count(), g.Sum(h => (long)h.Value), g.Max(h => h.Value), 0);
    }

    /// <summary>The reference: every window [s, s + size) with s a multiple of the hop, per key with an event in it.</summary>
    private static List<Row> Reference(Hit[] hits, long size, long hop, bool average)
    {
        var rows = new List<Row>();
        foreach (var key in hits.GroupBy(h => h.Key))
        {
            var starts = key.SelectMany(h => Enumerable.Range(0, (int)(size / hop) + 1).Select(i => Floor(h.Time, hop) - (i * hop)))
                .Where(s => key.Any(h => h.Time >= s && h.Time < s + size))
                .Distinct();
            foreach (long start in starts)
            {
                var inside = key.Where(h => h.Time >= start && h.Time < start + size).ToList();
                rows.Add(new Row(key.Key, start, start + size, inside.Count, inside.Sum(h => (long)h.Value), inside.Max(h => h.Value), average ? inside.Average(h => (double)h.Value) : 0));
            }
        }

        return [.. rows.OrderBy(r => r.End).ThenBy(r => r.Key)];

        static long Floor(long time, long hop) => time - (((time % hop) + hop) % hop);
    }

    private async Task<(List<Row> Rows, int SharedFiles, Operator Operator)> RunOnRocksDb(IQStream<Row> query, string name, int hotKeys)
    {
        string state = Path.Combine(_directory, name);
        var sink = new MemorySink<Row>();
        Operator spilled;
        await using (var job = query.ToJob(sink, new JobOptions
        {
            State = StateBackend.RocksDb(state, hotKeys),
            Checkpoints = new DirectoryCheckpointStore(Path.Combine(_directory, name + "-checkpoints")),
            CheckpointEveryEvents = 500,
        }))
        {
            await job.RunAsync();
            spilled = job.Operators.OfType<Operator>().Single();
        }

        // SST files in shared/: groups were in RocksDB (not only on the heap) when a checkpoint was taken.
        return (sink.Items.ToList(), Directory.GetFiles(Path.Combine(state, "shared"), "*.sst").Length, spilled);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task WindowAggregate_OnRocksDb_EqualsHeapAndReference(int seed, int events, int keys, long size, long hop, bool average)
    {
        var hits = RandomInput(seed, events, keys);
        var heap = await Query(hits, size, hop, average).ToListAsync();
        var (spilled, sharedFiles, op) = await RunOnRocksDb(Query(hits, size, hop, average), "random" + seed, hotKeys: 16);

        Assert.Equal(Panes(size, hop, average), op.UsesPanes);
        Assert.Equal(heap, spilled);
        Assert.Equal(Reference(hits, size, hop, average), spilled.OrderBy(r => r.End).ThenBy(r => r.Key).ToList());
        Assert.True(keys <= 16 || sharedFiles > 0, "no group was in RocksDB at any checkpoint: the test did not exercise the store");
    }

    [Fact]
    public async Task TumblingWindow_OnRocksDb_ProgressReportsGroupsSpilled_AndNoneAtTheEnd()
    {
        // 1,500 keys in one window of 10,000 ticks: far more groups than the 64 hot ones, all open until the window closes.
        var hits = Enumerable.Range(0, 6_000).Select(i => new Hit(i * 7_919L % 1_500, i, i)).ToArray();
        var reports = new Reports();
        var query =
            from h in QStream.From(new ArrayEventSource<Hit>(hits, "hits"), h => h.Time)
                .WithOptions(new QueryOptions { BatchSize = 37, Strict = true, Progress = reports, ProgressInterval = TimeSpan.Zero })
                .TumblingWindow(TimeSpan.FromTicks(10_000))
            group h by h.Key into g
            select g.Count();
        var sink = new MemorySink<int>();
        await using (var job = query.ToJob(sink, new JobOptions { State = StateBackend.RocksDb(Path.Combine(_directory, "progress"), 64) }))
        {
            await job.RunAsync();
        }

        Assert.Equal(Enumerable.Repeat(4, 1_500), sink.Items);
        var states = reports.Items.Select(r => r.State).ToList();
        Assert.Contains(states, s => s.SpilledGroups > 1_000 && s.StoreMemoryBytes > 0);
        Assert.All(states, s => Assert.True(s.HeapGroups <= 64 + 37, $"{s.HeapGroups} groups on the heap"));
        Assert.Equal((0, 0), (states[^1].HeapGroups, states[^1].SpilledGroups));
    }

    /// <summary>
    /// NEXMark q5's shape on panes: keys live about one hop (auctions; out-of-order events put some into the next pane), a few keys
    /// are in every pane (the extremes) and some are seen once, and the open panes hold several times the tiny budget, so panes spill
    /// and a window's close merges keys that are on the heap in one pane and in the store in another. The last column is a maximum
    /// of ±0.0 (equal, so the first one folded or merged wins): its sign shows whether the panes were merged in the heap's order.
    /// </summary>
    [Theory]
    [InlineData(11, 4_000, 100, 20, 64)]
    [InlineData(12, 4_000, 100, 25, 16)]
    [InlineData(13, 3_000, 90, 30, 64)]
    [InlineData(14, 5_000, 60, 20, 16)]
    public async Task HoppingWindow_Panes_KeysLivingOneHop_OnRocksDb_EqualsHeapAndReference(int seed, int events, long size, long hop, int hotKeys)
    {
        var random = new Random(seed);
        var hits = new Hit[events];
        long time = 1_000;
        for (int i = 0; i < events; i++)
        {
            // Ties (a third of the events), a pause now and then (empty windows), disorder up to 30 ticks (more than a hop).
            time += random.Next(0, 300) == 0 ? random.Next(200, 600) : random.Next(0, 3) == 0 ? 0 : random.Next(0, 2);
            long t = time - (random.Next(0, 8) == 0 ? random.Next(0, 30) : 0);
            long key = random.Next(0, 50) switch
            {
                0 => long.MaxValue,
                1 => long.MinValue,
                2 => random.NextInt64(long.MinValue, long.MaxValue), // a key seen once
                _ => ((t / hop) * 1_000_003L) + random.Next(0, 40), // about 40 keys per hop, new ones each hop
            };
            hits[i] = new Hit(key, t, random.Next(-1000, 1000));
        }

        var heap = await SignedZeroQuery(hits, size, hop).ToListAsync();
        var (spilled, sharedFiles, op) = await RunOnRocksDb(SignedZeroQuery(hits, size, hop), "one-hop" + seed, hotKeys);

        Assert.True(op.UsesPanes);
        Assert.Equal(Bits(heap), Bits(spilled));
        Assert.Equal(Reference(hits, size, hop, average: false), spilled.OrderBy(r => r.End).ThenBy(r => r.Key).ToList()); // ±0.0 are equal here
        Assert.True(sharedFiles > 0, "no group was in RocksDB at any checkpoint: the test did not exercise the store");
        Assert.True(op.KeysMergedWithStore > 0, "no key was on the heap in one pane and spilled in another at a close");

        static IQStream<Row> SignedZeroQuery(Hit[] hits, long size, long hop) =>
            from h in QStream.From(new ArrayEventSource<Hit>(hits, "hits"), h => h.Time, IngressPolicy.Reorder(TimeSpan.FromTicks(30)))
                .WithOptions(new QueryOptions { BatchSize = 37, Strict = true })
                .HoppingWindow(TimeSpan.FromTicks(size), TimeSpan.FromTicks(hop))
            group h by h.Key into g
            select new Row(g.Key, g.Window.Start.UtcTicks, g.Window.End.UtcTicks, g.Count(), g.Sum(h => (long)h.Value), g.Max(h => h.Value), g.Max(h => h.Value * 0.0));

        static List<(Row, long)> Bits(List<Row> rows) => [.. rows.Select(r => (r, BitConverter.DoubleToInt64Bits(r.Average)))];
    }

    /// <summary>
    /// A checkpoint of the spilled hopping aggregate written before it had panes (its part named "HoppingAggregate(spilled)", its
    /// groups per window) is refused by name, naming both, before the store or any record is read. Simulated: a checkpoint of
    /// today's operator with its part renamed to the old name.
    /// </summary>
    [Fact]
    public async Task HoppingWindow_OnRocksDb_CheckpointOfTheOperatorWithoutPanes_IsRefusedByName()
    {
        var hits = RandomInput(21, 3_000, 300);
        var checkpoints = new DirectoryCheckpointStore(Path.Combine(_directory, "old-format-checkpoints"));
        var source = new ArrayEventSource<Hit>(hits, "hits") { FailAt = 2_000 };
        var sink = new MemorySink<Row>(); // both runs: the sink's committed position is in the checkpoint
        await using (var job = WindowQuery(source).ToJob(sink, Options()))
        {
            var crash = await Assert.ThrowsAsync<QueryExecutionException>(() => job.RunAsync());
            Assert.Contains("Simulated crash", crash.ToString(), StringComparison.Ordinal);
            Assert.True(job.Operators.OfType<Operator>().Single().UsesPanes);
        }

        long id = checkpoints.List()[0]; // the newest, the one a restore reads
        var snapshot = CheckpointFormat.Read(await checkpoints.LoadAsync(id, CancellationToken.None), "test");
        var sections = snapshot.Sections.Select(s => (s.Name.Replace("HoppingAggregate(spilled, panes)", "HoppingAggregate(spilled)", StringComparison.Ordinal), s.Data)).ToList();
        Assert.NotEqual(snapshot.Sections.Select(s => s.Name), sections.Select(s => s.Item1)); // the part was there, and renamed
        await checkpoints.SaveAsync(id, CheckpointFormat.Write(id, snapshot.TakenAtTicks, snapshot.Fingerprint, sections), CancellationToken.None);

        await using (var job = WindowQuery(new ArrayEventSource<Hit>(hits, "hits")).ToJob(sink, Options()))
        {
            var refused = await Assert.ThrowsAsync<InvalidDataException>(() => job.RunAsync());
            Assert.Contains(": HoppingAggregate(spilled)'", refused.Message, StringComparison.Ordinal);
            Assert.Contains(": HoppingAggregate(spilled, panes)'", refused.Message, StringComparison.Ordinal);
        }

        JobOptions Options() => new()
        {
            State = StateBackend.RocksDb(Path.Combine(_directory, "old-format"), 16),
            Checkpoints = checkpoints,
            CheckpointEveryEvents = 500,
        };

        static IQStream<Row> WindowQuery(ArrayEventSource<Hit> source) =>
            from h in QStream.From(source, h => h.Time, IngressPolicy.Reorder(TimeSpan.FromTicks(30)))
                .WithOptions(new QueryOptions { BatchSize = 37, Strict = true })
                .HoppingWindow(TimeSpan.FromTicks(100), TimeSpan.FromTicks(20))
            group h by h.Key into g
            select new Row(g.Key, g.Window.Start.UtcTicks, g.Window.End.UtcTicks, g.Count(), g.Sum(h => (long)h.Value), g.Max(h => h.Value), 0);
    }

    [Fact]
    public async Task WindowAggregate_OnRocksDb_EmptyInput_WritesNothing()
    {
        var (rows, _, _) = await RunOnRocksDb(Query([], 100, 50, average: false), "empty", hotKeys: 16);
        Assert.Empty(rows);
    }

    private sealed class Reports : IProgress<QueryProgress>
    {
        public List<QueryProgress> Items { get; } = [];

        public void Report(QueryProgress value)
        {
            lock (Items)
            {
                Items.Add(value);
            }
        }
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
