using LinqStream.Runtime.State;

namespace LinqStream.State.RocksDb;

/// <summary>The RocksDB stores of one run of a job: one database per keyed operator instance (and task) under <c>live/</c>.</summary>
internal sealed class RocksDbStateStoreFactory : IKeyedStateStoreFactory
{
    private readonly RocksDbStateBackend _backend;
    private readonly List<RocksDbKeyedStateStore> _stores = [];
    private readonly Lock _gate = new();
    private readonly string _live;
    private readonly string _shared;

    public RocksDbStateStoreFactory(RocksDbStateBackend backend)
    {
        _backend = backend;
        _live = Path.Combine(backend.Path, "live");
        _shared = Path.Combine(backend.Path, "shared");
        Directory.CreateDirectory(_shared);

        // One job per state directory (as per checkpoint directory): what an earlier run left in live/ is only its working copy.
        if (Directory.Exists(_live))
        {
            Directory.Delete(_live, recursive: true);
        }

        Directory.CreateDirectory(_live);
    }

    public int HotKeys => _backend.HotKeys;

    public int RetainedCheckpoints => _backend.RetainedCheckpoints;

    // The job's checkpoints (issue #18, thirteenth session): the cut the stores' snapshots begun from now on belong to, whether the job
    // reports its saved checkpoints (then a store keeps files for those, not for its last snapshots), and the last saved cuts.
    private long _cut;
    private int _followsSaved;
    private readonly Queue<long> _saved = new();

    /// <summary>Gets the cut that a snapshot begun now belongs to (0 before the job's first <see cref="BeginCut"/>, and outside jobs).</summary>
    internal long CurrentCut => Interlocked.Read(ref _cut);

    /// <summary>Gets a value indicating whether the job reports its saved checkpoints: a store then deletes files only in
    /// <see cref="CheckpointSaved"/>, not after each snapshot.</summary>
    internal bool FollowsSavedCheckpoints => Volatile.Read(ref _followsSaved) != 0;

    public long BeginCut()
    {
        Volatile.Write(ref _followsSaved, 1);
        return Interlocked.Increment(ref _cut);
    }

    /// <summary>
    /// A checkpoint of <paramref name="cut"/> was saved: every store keeps the files named by its snapshots of the cuts the checkpoint
    /// store lists (<paramref name="listed"/>), of the last <see cref="RetainedCheckpoints"/> saved checkpoints (those written to a
    /// stream are in no store's list), and of cuts after <paramref name="cut"/> (a snapshot begun since); the rest of its own files go.
    /// </summary>
    public void CheckpointSaved(long cut, IReadOnlyCollection<long> listed)
    {
        HashSet<long> keep;
        RocksDbKeyedStateStore[] stores;
        lock (_gate)
        {
            Volatile.Write(ref _followsSaved, 1);
            _saved.Enqueue(cut);
            while (_saved.Count > RetainedCheckpoints)
            {
                _saved.Dequeue();
            }

            keep = [.. listed, .. _saved];
            stores = [.. _stores];
        }

        foreach (var store in stores)
        {
            store.RetainSaved(cut, keep);
        }
    }

    public IKeyedStateStore Create(string operatorName)
    {
        lock (_gate)
        {
            string directory = System.IO.Path.Combine(_live, $"{operatorName}-{Guid.NewGuid():N}");
            var store = new RocksDbKeyedStateStore(this, directory, _shared, _backend.CacheBytes);
            _stores.Add(store);
            _backend.StoreCreated?.Invoke(store);
            return store;
        }
    }

    public StateSize TotalSize
    {
        get
        {
            lock (_gate)
            {
                var total = default(StateSize);
                foreach (var store in _stores)
                {
                    total += store.Size;
                }

                return total;
            }
        }
    }

    /// <summary>The RocksDB properties that <see cref="MemoryBreakdown"/> sums over the stores.</summary>
    internal static readonly string[] MemoryProperties =
    [
        "rocksdb.cur-size-all-mem-tables",
        "rocksdb.estimate-table-readers-mem",
        "rocksdb.block-cache-usage",
        "rocksdb.block-cache-pinned-usage",
        "rocksdb.total-sst-files-size",
        "rocksdb.estimate-num-keys",
        "rocksdb.num-live-versions",
    ];

    /// <summary>Sums <see cref="MemoryProperties"/> over the stores made so far, in that order (memory attribution, issue #18).</summary>
    /// <remarks>The block cache is one per store, so its two properties add up across stores too.</remarks>
    internal long[] MemoryBreakdown()
    {
        lock (_gate)
        {
            var total = new long[MemoryProperties.Length];
            foreach (var store in _stores)
            {
                var values = store.Properties(MemoryProperties);
                for (int i = 0; i < total.Length; i++)
                {
                    total[i] += values[i];
                }
            }

            return total;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var store in _stores)
            {
                store.Dispose();
            }

            _stores.Clear();
        }
    }
}
