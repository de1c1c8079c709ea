using LinqStream.State.RocksDb;
using LinqStream.Testing.Io;

namespace LinqStream.Conformance.Tests.Windows;

/// <summary>
/// Session windows with their state in RocksDB (a handful of hot keys on the heap, the rest spilled) give exactly the heap
/// backend's output, and the same sessions as a plain LINQ-to-objects reference over the whole input: random inputs with
/// out-of-order events, ties, sessions that end together, huge and negative keys, many more keys than the heap holds.
/// </summary>
[Collection(LinqStream.Conformance.Tests.Infrastructure.RocksDbCollection.Name)]
public sealed class SpilledSessionWindowTests : IDisposable
{
    private static readonly TimeSpan Gap = TimeSpan.FromTicks(50);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "linqstream-spill-" + Guid.NewGuid().ToString("N"));

    public sealed record Hit(long Key, long Time, int Value);

    public sealed record SessionRow(long Key, long Start, long End, int Count, long Sum, int Max);

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
            time += random.Next(0, 4) == 0 ? 0 : random.Next(0, 40); // ties: a quarter of the events share the previous time
            long disorder = random.Next(0, 8) == 0 ? random.Next(0, 30) : 0;
            hits[i] = new Hit(keySpace[random.Next(keys)], time - disorder, random.Next(-1000, 1000));
        }

        return hits;
    }

    private static IQStream<SessionRow> Query(Hit[] hits, IProgress<QueryProgress>? progress = null) =>
        from h in QStream.From(new ArrayEventSource<Hit>(hits, "hits"), h => h.Time, IngressPolicy.Reorder(TimeSpan.FromTicks(30)))
            .WithOptions(new QueryOptions { BatchSize = 37, Strict = true, Progress = progress, ProgressInterval = TimeSpan.Zero })
            .SessionWindow(Gap)
        group h by h.Key into g
        select new SessionRow(g.Key, g.Window.Start.UtcTicks, g.Window.End.UtcTicks, g.Count(), g.Sum(h => (long)h.Value), g.Max(h => h.Value));

    /// <summary>The reference: per key, the events in time order split wherever the next one is a gap or more after the last.</summary>
    private static List<SessionRow> Reference(Hit[] hits)
    {
        var rows = new List<SessionRow>();
        foreach (var key in hits.GroupBy(h => h.Key))
        {
            var ordered = key.OrderBy(h => h.Time).ToList();
            var current = new List<Hit>();
            foreach (var hit in ordered)
            {
                if (current.Count > 0 && hit.Time >= current[^1].Time + Gap.Ticks)
                {
                    rows.Add(Row(key.Key, current));
                    current.Clear();
                }

                current.Add(hit);
            }

            rows.Add(Row(key.Key, current));
        }

        return rows;

        static SessionRow Row(long key, List<Hit> hits) =>
            new(key, hits[0].Time, hits[^1].Time + Gap.Ticks, hits.Count, hits.Sum(h => (long)h.Value), hits.Max(h => h.Value));
    }

    private async Task<(List<SessionRow> Rows, int SharedFiles)> RunOnRocksDb(Hit[] hits, string name, int hotKeys)
    {
        string state = Path.Combine(_directory, name);
        var sink = new MemorySink<SessionRow>();
        var store = new DirectoryCheckpointStore(Path.Combine(_directory, name + "-checkpoints"));
        await using (var job = Query(hits).ToJob(sink, new JobOptions
        {
            State = StateBackend.RocksDb(state, hotKeys),
            Checkpoints = store,
            CheckpointEveryEvents = 500,
        }))
        {
            await job.RunAsync();
        }

        // SST files in shared/: sessions were in RocksDB (not only on the heap) when a checkpoint was taken.
        return (sink.Items.ToList(), Directory.GetFiles(Path.Combine(state, "shared"), "*.sst").Length);
    }

    [Theory]
    [InlineData(1, 3_000, 400)]
    [InlineData(2, 5_000, 2_000)]
    [InlineData(3, 2_000, 5)]
    [InlineData(4, 4_000, 50)]
    public async Task SessionWindow_OnRocksDb_EqualsHeapAndReference(int seed, int events, int keys)
    {
        var hits = RandomInput(seed, events, keys);
        var heap = await Query(hits).ToListAsync();
        var (spilled, sharedFiles) = await RunOnRocksDb(hits, "random" + seed, hotKeys: 16);

        Assert.Equal(heap, spilled);
        Assert.Equal(
            Reference(hits).OrderBy(r => r.End).ThenBy(r => r.Key).ToList(),
            spilled.OrderBy(r => r.End).ThenBy(r => r.Key).ToList());
        Assert.True(keys <= 16 || sharedFiles > 0, "no session was in RocksDB at any checkpoint: the test did not exercise the store");
    }

    [Fact]
    public async Task SessionWindow_OnRocksDb_ProgressReportsGroupsOnHeapAndSpilled()
    {
        // 1,500 keys whose sessions all stay open: a new tick every 100 events, each key every 15 ticks, a gap of 50 ticks.
        var hits = Enumerable.Range(0, 6_000).Select(i => new Hit(i * 7_919L % 1_500, i / 100, i)).ToArray();
        var reports = new Reports();
        await using (var job = Query(hits, reports).ToJob(new MemorySink<SessionRow>(), new JobOptions { State = StateBackend.RocksDb(Path.Combine(_directory, "progress"), 64) }))
        {
            await job.RunAsync();
        }

        var states = reports.Items.Select(r => r.State).ToList();
        Assert.NotEmpty(states);
        Assert.Contains(states, s => s.SpilledGroups > 0 && s.StoreMemoryBytes > 0);
        // The heap holds at most the hot keys after each batch's sweep, plus one batch's new keys before it.
        Assert.All(states, s => Assert.True(s.HeapGroups <= 64 + 37, $"{s.HeapGroups} groups on the heap"));
        var last = states[^1];
        Assert.Equal((0, 0), (last.HeapGroups, last.SpilledGroups)); // every session was emitted at the end of the input
    }

    [Fact]
    public async Task SessionWindow_OnHeap_ProgressReportsGroupsOnHeapOnly()
    {
        var reports = new Reports();
        await Query(RandomInput(8, 3_000, 500), reports).ToListAsync();
        Assert.Contains(reports.Items, r => r.State.HeapGroups > 0);
        Assert.All(reports.Items, r => Assert.Equal((0L, 0L, 0L), (r.State.SpilledGroups, r.State.StoreMemoryBytes, r.State.StoreFileBytes)));
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

    [Fact]
    public async Task SessionWindow_OnRocksDb_EmptyInput_WritesNothing()
    {
        var (rows, _) = await RunOnRocksDb([], "empty", hotKeys: 16);
        Assert.Empty(rows);
    }

    [Fact]
    public void RocksDb_ArgumentsOutOfRange_AreRefusedWithTheirNames()
    {
        Assert.Equal("path", Assert.Throws<ArgumentException>(() => StateBackend.RocksDb(" ")).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => StateBackend.RocksDb(_directory, hotKeys: 3));
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
