using LinqStream.State.RocksDb;
using LinqStream.Testing.Io;

namespace LinqStream.Conformance.Tests.Windows;

/// <summary>
/// Tumbling and hopping window aggregates with their groups in RocksDB (16 hot groups on the heap, the rest spilled and read back
/// when their window closes) give exactly the heap backend's output, and the same groups as a plain LINQ-to-objects reference over
/// the whole input: random inputs with out-of-order events, ties, empty windows (the input pauses), huge and negative keys, many
/// more keys than the heap holds; hopping windows built from panes on the heap, and hopping windows whose size is not a multiple
/// of the hop or whose aggregate does not merge.
/// </summary>
[Collection(LinqStream.Conformance.Tests.Infrastructure.RocksDbCollection.Name)]
public sealed class SpilledFixedWindowTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "linqstream-spill-fixed-" + Guid.NewGuid().ToString("N"));

    public sealed record Hit(long Key, long Time, int Value);

    public sealed record Row(long Key, long Start, long End, int Count, long Sum, int Max, double Average);

    /// <summary>Window sizes and hops in ticks: tumbling; hopping with size a multiple of the hop (panes on the heap); hopping without.</summary>
    public static TheoryData<int, int, int, long, long, bool> Cases() => new()
    {
        { 1, 3_000, 400, 100, 100, false },
        { 2, 5_000, 2_000, 60, 60, false },
        { 3, 2_000, 5, 100, 100, false },
        { 4, 4_000, 300, 120, 40, false },
        { 5, 4_000, 300, 120, 40, true },
        { 6, 3_000, 200, 70, 30, false },
        { 7, 3_000, 1_000, 90, 30, true },
    };

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

    private async Task<(List<Row> Rows, int SharedFiles)> RunOnRocksDb(IQStream<Row> query, string name, int hotKeys)
    {
        string state = Path.Combine(_directory, name);
        var sink = new MemorySink<Row>();
        await using (var job = query.ToJob(sink, new JobOptions
        {
            State = StateBackend.RocksDb(state, hotKeys),
            Checkpoints = new DirectoryCheckpointStore(Path.Combine(_directory, name + "-checkpoints")),
            CheckpointEveryEvents = 500,
        }))
        {
            await job.RunAsync();
        }

        // SST files in shared/: groups were in RocksDB (not only on the heap) when a checkpoint was taken.
        return (sink.Items.ToList(), Directory.GetFiles(Path.Combine(state, "shared"), "*.sst").Length);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task WindowAggregate_OnRocksDb_EqualsHeapAndReference(int seed, int events, int keys, long size, long hop, bool average)
    {
        var hits = RandomInput(seed, events, keys);
        var heap = await Query(hits, size, hop, average).ToListAsync();
        var (spilled, sharedFiles) = await RunOnRocksDb(Query(hits, size, hop, average), "random" + seed, hotKeys: 16);

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

    [Fact]
    public async Task WindowAggregate_OnRocksDb_EmptyInput_WritesNothing()
    {
        var (rows, _) = await RunOnRocksDb(Query([], 100, 50, average: false), "empty", hotKeys: 16);
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
