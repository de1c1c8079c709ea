using LinqStream.Runtime.State;
using LinqStream.State.RocksDb;
using LinqStream.Testing.Io;

namespace LinqStream.Conformance.Tests.Checkpoints;

/// <summary>
/// Incremental checkpoints of the RocksDB store (only SST files no earlier checkpoint kept), retention of shared files, restore of
/// a key-group range from one or several stores, and what a restore says when the shared files are damaged or gone.
/// </summary>
[Collection(LinqStream.Conformance.Tests.Infrastructure.RocksDbCollection.Name)]
public sealed class RocksDbCheckpointTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "linqstream-rocks-" + Guid.NewGuid().ToString("N"));

    private static byte[] Key(int group, int i) => [(byte)(group >> 8), (byte)group, 0, .. BitConverter.GetBytes(i)];

    private static byte[] Value(int i, int version)
    {
        var value = new byte[100];
        new Random(i * 31 + version).NextBytes(value);
        return value;
    }

    private RocksDbStateStoreFactory Factory(string name, int retained = 5) =>
        new(new RocksDbStateBackend(Path.Combine(_directory, name)) { RetainedCheckpoints = retained });

    [Fact]
    public void SecondCheckpoint_With5PercentOfKeysChanged_WritesAtMost10PercentOfTheState()
    {
        using var factory = Factory("incremental");
        var store = factory.Create("test");
        const int Keys = 200_000;
        for (int i = 0; i < Keys; i++)
        {
            store.Put(Key(i % 128, i), Value(i, 0));
            if (i % 10_000 == 0)
            {
                store.Commit();
            }
        }

        store.Commit();
        store.Checkpoint();
        var first = store.Size;
        Assert.Equal(first.CheckpointBytes, first.LastCheckpointNewBytes + InlineBytes(first), 0.01 * first.CheckpointBytes);

        var random = new Random(5);
        for (int n = 0; n < Keys / 20; n++)
        {
            int i = random.Next(Keys);
            store.Put(Key(i % 128, i), Value(i, 1));
        }

        store.Commit();
        store.Checkpoint();
        var second = store.Size;
        output.WriteLine($"first checkpoint: {first.LastCheckpointNewBytes:N0} new of {first.CheckpointBytes:N0} bytes; second (5% of keys changed): {second.LastCheckpointNewBytes:N0} new of {second.CheckpointBytes:N0} bytes ({100.0 * second.LastCheckpointNewBytes / second.CheckpointBytes:0.0}%)");
        Assert.True(second.LastCheckpointNewBytes <= 0.10 * second.CheckpointBytes,
            $"the second checkpoint kept {second.LastCheckpointNewBytes:N0} new bytes of {second.CheckpointBytes:N0}");
        Assert.True(second.LastCheckpointNewBytes > 0, "the changed keys were not written at all");

        static long InlineBytes(StateSize size) => size.CheckpointBytes - size.LastCheckpointNewBytes;
    }

    [Fact]
    public void Retention_DeletesSharedFilesNoRetainedCheckpointNames()
    {
        using var factory = Factory("retention", retained: 2);
        var store = factory.Create("test");
        var manifests = new List<byte[]>();
        for (int round = 0; round < 6; round++)
        {
            for (int i = 0; i < 2_000; i++)
            {
                store.Put(Key(i % 4, i), Value(i, round));
            }

            store.Commit();
            manifests.Add(store.Checkpoint());
            if (round == 2)
            {
                // Rewrites the files of rounds 0-2 now: left to RocksDB's background compaction, the first round's file could
                // still be live at the last checkpoints on a loaded machine (this test failed so, one run in about ten).
                ((RocksDbKeyedStateStore)store).CompactAll();
            }
        }

        string shared = Path.Combine(_directory, "retention", "shared");
        var kept = Directory.GetFiles(shared).Select(Path.GetFileName).ToHashSet();
        var named = manifests.TakeLast(2).SelectMany(m => CheckpointManifest.Parse(m, shared).Files.Select(f => f.SharedName)).ToHashSet();
        Assert.Equal(named.Order(), kept.Order());
        Assert.Throws<InvalidDataException>(() => CheckpointManifest.Parse(manifests[0], shared));
    }

    [Fact]
    public void Restore_OfAKeyGroupRange_FromTwoStores_HoldsExactlyThoseKeyGroups()
    {
        using var factory = Factory("range");
        var left = factory.Create("left");
        var right = factory.Create("right");
        for (int i = 0; i < 800; i++)
        {
            (i % 8 < 4 ? left : right).Put(Key(i % 8, i), Value(i, 0));
        }

        left.Commit();
        right.Commit();
        byte[][] manifests = [left.Checkpoint(), right.Checkpoint()];

        var restored = factory.Create("restored");
        restored.Restore(manifests, 2, 6);
        var groups = new List<int>();
        using (var cursor = restored.Scan([0, 0], [0xFF, 0xFF]))
        {
            for (; cursor.Valid; cursor.Next())
            {
                groups.Add((cursor.Key[0] << 8) | cursor.Key[1]);
                int i = BitConverter.ToInt32(cursor.Key[3..]);
                Assert.Equal(Value(i, 0), cursor.Value.ToArray());
            }
        }

        Assert.Equal(400, groups.Count);
        Assert.Equal([2, 3, 4, 5], groups.Distinct().Order());
    }

    [Fact]
    public async Task Restore_WithItsSharedFilesDeleted_FailsNamingTheMissingFile()
    {
        var hits = Enumerable.Range(0, 4_000).Select(i => (Key: (long)(i * 7919 % 1_000), Time: (long)i * 3)).ToArray();
        string state = Path.Combine(_directory, "damaged");
        var store = new DirectoryCheckpointStore(Path.Combine(_directory, "damaged-checkpoints"));
        IQStream<string> Query(int failAt) =>
            from h in QStream.From(new ArrayEventSource<(long Key, long Time)>(hits, "hits") { FailAt = failAt }, h => h.Time)
                .SessionWindow(TimeSpan.FromTicks(5_000))
            group h by h.Key into g
            select $"{g.Key} {g.Count()}";

        await using (var job = Query(3_000).ToJob(new MemorySink<string>(), new JobOptions { State = StateBackend.RocksDb(state, 16), Checkpoints = store, CheckpointEveryEvents = 500 }))
        {
            await Assert.ThrowsAsync<QueryExecutionException>(() => job.RunAsync());
        }

        foreach (string file in Directory.GetFiles(Path.Combine(state, "shared")))
        {
            File.Delete(file);
        }

        await using var restored = Query(-1).ToJob(new MemorySink<string>(), new JobOptions { State = StateBackend.RocksDb(state, 16), Checkpoints = store });
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => restored.RunAsync());
        Assert.Contains("missing", error.Message, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(state, "shared"), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HeapCheckpoint_RestoredOnRocksDb_IsRefusedNamingBothStates()
    {
        var hits = Enumerable.Range(0, 2_000).Select(i => (Key: (long)(i % 300), Time: (long)i * 3)).ToArray();
        var store = new DirectoryCheckpointStore(Path.Combine(_directory, "switch-checkpoints"));
        IQStream<string> Query(int failAt) =>
            from h in QStream.From(new ArrayEventSource<(long Key, long Time)>(hits, "hits") { FailAt = failAt }, h => h.Time)
                .SessionWindow(TimeSpan.FromTicks(5_000))
            group h by h.Key into g
            select $"{g.Key} {g.Count()}";

        await using (var job = Query(1_500).ToJob(new MemorySink<string>(), new JobOptions { Checkpoints = store, CheckpointEveryEvents = 500 }))
        {
            await Assert.ThrowsAsync<QueryExecutionException>(() => job.RunAsync());
        }

        await using var restored = Query(-1).ToJob(new MemorySink<string>(), new JobOptions { State = StateBackend.RocksDb(Path.Combine(_directory, "switch"), 16), Checkpoints = store });
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => restored.RunAsync());
        Assert.Contains("SessionAggregate(spilled)", error.Message, StringComparison.Ordinal);
        Assert.Contains("SessionAggregate'", error.Message, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
