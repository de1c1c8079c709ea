using LinqStream.Conformance.Tests.Infrastructure;
using LinqStream.Runtime.State;
using LinqStream.State.RocksDb;
using LinqStream.Testing.Io;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Conformance.Tests.Checkpoints;

/// <summary>
/// The cause of the segmentation fault of issue #18: a job stopped while its parallel tasks were spilling disposed the tasks'
/// RocksDB stores under them (a stop reaches a task between two batches, not at once). The job now waits for its tasks before it
/// frees their stores, and a store used after it was disposed throws instead of calling into a freed database.
/// </summary>
[Collection(LinqStream.Conformance.Tests.Infrastructure.RocksDbCollection.Name)]
public sealed class RocksDbStoreLifetimeTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "linqstream-lifetime-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public void Store_UsedAfterDispose_ThrowsObjectDisposed_NamingIt()
    {
        var factory = new RocksDbStateStoreFactory(new RocksDbStateBackend(Path.Combine(_directory, "disposed")));
        var store = factory.Create("test");
        store.Put([0, 1, 7], [42]);
        store.Commit();
        var cursor = store.Scan([0, 0], [0, 2]);
        Assert.True(cursor.Valid);
        Assert.Equal(new byte[] { 42 }, cursor.Value.ToArray());
        factory.Dispose();

        byte[] buffer = new byte[8];
        var error = Assert.Throws<ObjectDisposedException>(() => store.Get([0, 1, 7], ref buffer));
        Assert.Contains(store.Location, error.Message, StringComparison.Ordinal);
        Assert.Throws<ObjectDisposedException>(() => store.Put([0, 1, 8], [1]));
        Assert.Throws<ObjectDisposedException>(() => store.Delete([0, 1, 7]));
        Assert.Throws<ObjectDisposedException>(store.Commit);
        Assert.Throws<ObjectDisposedException>(() => store.Scan([0, 0], [0, 2]));
        Assert.Throws<ObjectDisposedException>(() => store.Checkpoint());
        Assert.Throws<ObjectDisposedException>(cursor.Next);
        Assert.Throws<ObjectDisposedException>(() => cursor.Key.Length);
        Assert.Equal(default, store.Size);
        Assert.False(Directory.Exists(store.Location), "the disposed store's live directory is still there");
    }

    /// <summary>
    /// Sessions at parallelism 2 with 16 hot keys, so the tasks call their stores in nearly every batch; the job is cancelled at
    /// different points of its output and disposed at once. No store call may be in flight when a store is disposed, nor come after.
    /// </summary>
    [Fact]
    public async Task Job_CancelledWhileItsTasksSpill_DisposesTheStoresOnlyAfterTheTasksEnded()
    {
        var data = NexmarkData.Get(30_000, TimeSpan.FromMilliseconds(400));
        int total = (await Query(new ArrayEventSource<Bid>(data.Bids, "bids"), new QueryOptions { BatchSize = 64 }).ToListAsync()).Count;
        for (int run = 0; run < 6; run++)
        {
            var backend = new WatchedBackend(new RocksDbStateBackend(Path.Combine(_directory, "run" + run)) { HotKeys = 16 });
            var sink = new MemorySink<string>();
            using var stop = new CancellationTokenSource();
            int stopAt = total * (run + 1) / 8;
            sink.AfterWrite = count =>
            {
                if (count >= stopAt)
                {
                    stop.Cancel();
                }
            };
            await using (var job = Query(new ArrayEventSource<Bid>(data.Bids, "bids") { MaxRead = 64 }, new QueryOptions { BatchSize = 64 })
                .ToJob(sink, new JobOptions { Parallelism = 2, State = backend }))
            {
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => job.RunAsync(stop.Token));
            }

            Assert.Equal(2, backend.Created);
            Assert.True(backend.Calls > 0, "the tasks never called their stores");
            Assert.Equal(backend.Created, backend.Disposed);
            Assert.Equal(0, backend.InFlightAtDispose);
            Assert.Equal(0, backend.CallsAfterDispose);
        }
    }

    private static IQStream<string> Query(EventSource<Bid> bids, QueryOptions options) =>
        from b in QStream.From(bids, b => b.DateTime, IngressPolicy.Reorder(TimeSpan.FromMilliseconds(400))).WithOptions(options)
            .SessionWindow(TimeSpan.FromMilliseconds(300))
        group b by b.Bidder into g
        select $"{g.Window.Start:O} {g.Window.End:O} {g.Key} {g.Count()}";

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    /// <summary>The RocksDB backend with every store call counted: calls in flight when a store is disposed, and calls after.</summary>
    private sealed class WatchedBackend(RocksDbStateBackend inner) : StateBackend
    {
        private int _created;
        private int _disposed;
        private int _inFlightAtDispose;
        private int _callsAfterDispose;
        private long _calls;

        public int Created => Volatile.Read(ref _created);

        public int Disposed => Volatile.Read(ref _disposed);

        public int InFlightAtDispose => Volatile.Read(ref _inFlightAtDispose);

        public int CallsAfterDispose => Volatile.Read(ref _callsAfterDispose);

        public long Calls => Interlocked.Read(ref _calls);

        public override string Name => "watched " + inner.Name;

        internal override IKeyedStateStoreFactory OpenRun() => new Factory(this, inner.OpenRun());

        private sealed class Factory(WatchedBackend owner, IKeyedStateStoreFactory inner) : IKeyedStateStoreFactory
        {
            private readonly List<Store> _stores = [];

            public int HotKeys => inner.HotKeys;

            public StateSize TotalSize => inner.TotalSize;

            // Forwarded, not left to the interface's defaults: RocksDB keeps its checkpoints' shared files by cut.
            public long BeginCut() => inner.BeginCut();

            public void CheckpointSaved(long cut, IReadOnlyCollection<long> listed) => inner.CheckpointSaved(cut, listed);

            public IKeyedStateStore Create(string operatorName)
            {
                Interlocked.Increment(ref owner._created);
                var store = new Store(owner, inner.Create(operatorName));
                lock (_stores)
                {
                    _stores.Add(store);
                }

                return store;
            }

            public void Dispose()
            {
                lock (_stores)
                {
                    foreach (var store in _stores)
                    {
                        store.Dispose();
                    }
                }

                inner.Dispose();
            }
        }

        private sealed class Store(WatchedBackend owner, IKeyedStateStore inner) : IKeyedStateStore
        {
            private int _inFlight;
            private volatile bool _disposed;

            public string Location => inner.Location;

            public StateSize Size => inner.Size;

            public void Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
            {
                Enter();
                try
                {
                    inner.Put(key, value);
                }
                finally
                {
                    Leave();
                }
            }

            public void Delete(ReadOnlySpan<byte> key)
            {
                Enter();
                try
                {
                    inner.Delete(key);
                }
                finally
                {
                    Leave();
                }
            }

            public void Commit()
            {
                Enter();
                try
                {
                    inner.Commit();
                }
                finally
                {
                    Leave();
                }
            }

            public int Get(ReadOnlySpan<byte> key, ref byte[] buffer)
            {
                Enter();
                try
                {
                    return inner.Get(key, ref buffer);
                }
                finally
                {
                    Leave();
                }
            }

            public IKeyedStateCursor Scan(byte[] from, byte[] to)
            {
                Enter();
                try
                {
                    return inner.Scan(from, to);
                }
                finally
                {
                    Leave();
                }
            }

            public Task<byte[]> BeginCheckpoint()
            {
                Enter();
                try
                {
                    return inner.BeginCheckpoint();
                }
                finally
                {
                    Leave();
                }
            }

            public void Restore(IReadOnlyList<byte[]> manifests, int first, int end) => inner.Restore(manifests, first, end);

            public void Dispose()
            {
                if (Volatile.Read(ref _inFlight) > 0)
                {
                    Interlocked.Increment(ref owner._inFlightAtDispose);
                }

                _disposed = true;
                Interlocked.Increment(ref owner._disposed);
                inner.Dispose();
            }

            private void Enter()
            {
                Interlocked.Increment(ref owner._calls);
                Interlocked.Increment(ref _inFlight);
                if (_disposed)
                {
                    Interlocked.Increment(ref owner._callsAfterDispose);
                }
            }

            private void Leave() => Interlocked.Decrement(ref _inFlight);
        }
    }
}
