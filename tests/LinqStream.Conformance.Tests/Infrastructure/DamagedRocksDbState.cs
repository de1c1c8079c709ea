using System.Text;
using LinqStream.State.RocksDb;
using LinqStream.Testing.Io;

namespace LinqStream.Conformance.Tests.Infrastructure;

/// <summary>What the spilled joins' tests share about a damaged RocksDB checkpoint: its shared files deleted.</summary>
internal static class DamagedRocksDbState
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    /// <summary>
    /// Runs <paramref name="crashing"/> on RocksDB (16 hot events) with checkpoints until it crashes at <paramref name="failAt"/>,
    /// deletes every shared SST file its checkpoints name, and asserts that a restore fails naming the missing file.
    /// <paramref name="crashing"/> gets the crash point and what its crashing source must run before each read.
    /// </summary>
    /// <remarks>
    /// Before the crash the newest stored checkpoint must name a shared SST file, or there is nothing to delete. The checkpoints every
    /// <paramref name="checkpointEvery"/> events do not promise one: one checkpoint is in flight at a time, and under load the first
    /// one's file (an fsync) took longer than reading the rest of the input up to the crash, so the only stored checkpoint was cut
    /// before the join had spilled anything (the precondition failed about once in three full CI runs, never alone). So the crashing
    /// read waits, asking for checkpoints, until the newest stored checkpoint names a shared SST file (by then the join has spilled).
    /// </remarks>
    public static async Task AssertRestoreWithSharedFilesDeletedFails<T>(
        Func<int, Func<int, CancellationToken, ValueTask>, IQStream<T>> crashing, int failAt, string state, DirectoryCheckpointStore store, int checkpointEvery)
    {
        string shared = Path.Combine(state, "shared");
        QueryJob<T>? running = null;
        async ValueTask UntilAStoredCheckpointNamesASharedFile(int index, CancellationToken cancellationToken)
        {
            if (index < failAt)
            {
                return;
            }

            for (int asked = 0; !await NewestNamesASharedFile(store, shared, cancellationToken); asked++)
            {
                Assert.True(asked < 5, $"{asked} checkpoints asked for before the crash, and the newest stored one ({string.Join(", ", store.List())}) names no shared SST file");
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(Patience);
                await Volatile.Read(ref running)!.CheckpointAsync(timeout.Token);
            }
        }

        await using (var job = running = crashing(failAt, UntilAStoredCheckpointNamesASharedFile).ToJob(
            new MemorySink<T>(), new JobOptions { State = StateBackend.RocksDb(state, 16), Checkpoints = store, CheckpointEveryEvents = checkpointEvery }))
        {
            var crash = await Assert.ThrowsAsync<QueryExecutionException>(() => job.RunAsync());
            Assert.Contains("Simulated crash", crash.ToString(), StringComparison.Ordinal);
        }

        string[] files = Directory.GetFiles(shared, "*.sst");
        var named = SharedFilesNamed(await store.LoadAsync(store.List().Max(), CancellationToken.None), files.Select(f => Path.GetFileName(f)!));
        Assert.NotEmpty(named);
        foreach (string file in files)
        {
            File.Delete(file);
        }

        await using var restored = crashing(-1, static (_, _) => default).ToJob(new MemorySink<T>(), new JobOptions { State = StateBackend.RocksDb(state, 16), Checkpoints = store });
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => restored.RunAsync());
        Assert.Contains("missing", error.Message, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(state, "shared"), error.Message, StringComparison.Ordinal);
    }

    /// <summary>The shared files among <paramref name="candidates"/> that a checkpoint names: its stores' manifests hold their names in UTF-8.</summary>
    public static List<string> SharedFilesNamed(byte[] checkpoint, IEnumerable<string> candidates) =>
        [.. candidates.Where(name => checkpoint.AsSpan().IndexOf(Encoding.UTF8.GetBytes(name)) >= 0)];

    private static async Task<bool> NewestNamesASharedFile(DirectoryCheckpointStore store, string shared, CancellationToken cancellationToken)
    {
        if (store.List() is not { Count: > 0 } saved || !Directory.Exists(shared))
        {
            return false;
        }

        var checkpoint = await store.LoadAsync(saved.Max(), cancellationToken);
        return SharedFilesNamed(checkpoint, Directory.GetFiles(shared, "*.sst").Select(f => Path.GetFileName(f)!)).Count > 0;
    }
}
