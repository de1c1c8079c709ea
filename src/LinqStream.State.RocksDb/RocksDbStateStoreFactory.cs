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
