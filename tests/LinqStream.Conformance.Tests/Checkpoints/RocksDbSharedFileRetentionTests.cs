using LinqStream.Conformance.Tests.Infrastructure;
using LinqStream.State.RocksDb;
using LinqStream.Testing.Io;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Conformance.Tests.Checkpoints;

/// <summary>
/// A RocksDB store keeps the shared SST files of the checkpoints a restore may start from — those the checkpoint store still lists —
/// however many snapshots were taken after them that the checkpoint store does not hold (issue #18). Until 2026-12-05 a store kept the
/// files of its last <see cref="RocksDbStateBackend.RetainedCheckpoints"/> (5) snapshots: five checkpoints written to a stream after
/// the newest stored checkpoint, with a compaction in between, deleted that checkpoint's files, and the restore after a crash failed
/// naming a missing file.
/// </summary>
[Collection(RocksDbCollection.Name)]
public sealed class RocksDbSharedFileRetentionTests : IDisposable
{
    private const int StreamCheckpoints = 6;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "linqstream-rocks-retention-" + Guid.NewGuid().ToString("N"));

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task CheckpointsNotInTheStore_AfterAStoredOne_KeepItsFiles_AndTheRestoreAfterACrashGivesTheUninterruptedOutput(int parallelism)
    {
        var bids = NexmarkData.Get(12_000, TimeSpan.FromMilliseconds(400)).Bids;
        var reference = await Query(new ArrayEventSource<Bid>(bids, "bids")).ToListAsync();
        string state = Path.Combine(_directory, "state");
        string shared = Path.Combine(state, "shared");
        var stores = new List<RocksDbKeyedStateStore>();
        var backend = new RocksDbStateBackend(state) { HotKeys = 16, StoreCreated = s => { lock (stores) { stores.Add(s); } } };
        var checkpoints = new DirectoryCheckpointStore(Path.Combine(_directory, "checkpoints"));
        var sink = new MemorySink<string>();
        var written = new List<byte[]>();
        var seen = new HashSet<string>(StringComparer.Ordinal); // every shared SST file seen after a checkpoint
        int first = bids.Length / 5, step = bids.Length / 30, due = 0;
        QueryJob<string>? running = null;

        // One checkpoint into the store at a fifth of the bids, then six written to streams (savepoints: not in the store), each
        // after a full compaction, so their snapshots name none of the stored checkpoint's files; then a crash at three quarters.
        var source = new ArrayEventSource<Bid>(bids, "bids")
        {
            MaxRead = 40,
            FailAt = bids.Length * 3 / 4,
            BeforeRead = async (index, cancellationToken) =>
            {
                for (; due <= StreamCheckpoints && index >= first + (due * step); due++)
                {
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    timeout.CancelAfter(Patience);
                    if (due == 0)
                    {
                        Assert.Equal(1, await running!.CheckpointAsync(timeout.Token));
                    }
                    else
                    {
                        foreach (var store in Stores(stores))
                        {
                            store.CompactAll(rewriteEveryFile: true);
                        }

                        using var stream = new MemoryStream();
                        await running!.CheckpointAsync(stream, timeout.Token);
                        written.Add(stream.ToArray());
                    }

                    seen.UnionWith(Directory.GetFiles(shared, "*.sst").Select(f => Path.GetFileName(f)!));
                }
            },
        };

        await using (var job = running = Query(source).ToJob(sink, new JobOptions { Checkpoints = checkpoints, State = backend, Parallelism = parallelism }))
        {
            var error = await Assert.ThrowsAsync<QueryExecutionException>(() => job.RunAsync());
            Assert.Contains("Simulated crash", error.ToString(), StringComparison.Ordinal);
        }

        Assert.Equal([1L], checkpoints.List());
        Assert.Equal(StreamCheckpoints, written.Count);
        Assert.Equal(parallelism, Stores(stores).Length);

        // What the test is about: the stored checkpoint names shared files that none of the later snapshots names (a store counting
        // its last five snapshots deleted them), and they are all still there.
        var stored = DamagedRocksDbState.SharedFilesNamed(await checkpoints.LoadAsync(1, CancellationToken.None), seen);
        Assert.NotEmpty(stored);
        var onlyStored = stored.Except(written.SelectMany(w => DamagedRocksDbState.SharedFilesNamed(w, seen))).ToList();
        Assert.True(onlyStored.Count > 0, $"every file of checkpoint 1 ({stored.Count}) is named by a later snapshot: the compactions rewrote nothing");
        Assert.All(stored, name => Assert.True(File.Exists(Path.Combine(shared, name)), $"{name} of the stored checkpoint 1 was deleted"));

        await using (var restored = Query(new ArrayEventSource<Bid>(bids, "bids") { MaxRead = 40 })
            .ToJob(sink, new JobOptions { Checkpoints = checkpoints, State = new RocksDbStateBackend(state) { HotKeys = 16 }, Parallelism = parallelism }))
        {
            var result = await restored.RunAsync();
            Assert.Equal(1, result.RestoredFrom);
        }

        Assert.True(sink.Completed);
        Assert.Equal(reference, sink.Items);
    }

    private static RocksDbKeyedStateStore[] Stores(List<RocksDbKeyedStateStore> stores)
    {
        lock (stores)
        {
            return [.. stores];
        }
    }

    /// <summary>A keyed tumbling window (spilled on RocksDB with 16 hot groups): the bids per auction and second, and their top price.</summary>
    private static IQStream<string> Query(EventSource<Bid> bids) =>
        from b in QStream.From(bids, b => b.DateTime, IngressPolicy.Reorder(TimeSpan.FromMilliseconds(400)))
            .WithOptions(new QueryOptions { BatchSize = 64, Strict = true })
            .TumblingWindow(TimeSpan.FromSeconds(1))
        group b by b.Auction into g
        select $"{g.Window.Start:O} {g.Key} {g.Count()} {g.Max(b => b.Price)}";

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
