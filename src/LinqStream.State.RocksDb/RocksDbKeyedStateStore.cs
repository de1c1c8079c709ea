using LinqStream.Runtime.State;
using RocksDbSharp;

namespace LinqStream.State.RocksDb;

/// <summary>One operator instance's keyed state in its own RocksDB database, with incremental checkpoints into a shared file directory.</summary>
/// <remarks>
/// Writes go into one <see cref="WriteBatch"/> until <see cref="Commit"/>, with the write-ahead log off: durability comes from
/// checkpoints (as in Flink's RocksDB backend), and a crash restores the last checkpoint, not the live database.
/// A checkpoint flushes the memtables and takes a RocksDB checkpoint (hard links of the live SST files); SST files are
/// immutable and numbered once per database, so a file already in the shared directory is not copied again: the checkpoint
/// costs what changed since the last one, plus the small MANIFEST/OPTIONS files, which go inline into the manifest.
/// The flush and the rest run off the caller's thread (<see cref="BeginCheckpoint"/>, in RocksDbKeyedStateStore.Checkpoint.cs):
/// meanwhile the database takes no writes, and commits go to an indexed write batch that reads see through.
/// </remarks>
internal sealed partial class RocksDbKeyedStateStore : IKeyedStateStore
{
    private readonly RocksDbStateStoreFactory _owner;
    private readonly string _shared;
    private readonly string _instance;
    private readonly DbOptions _options;
    private readonly WriteOptions _write;
    private readonly FlushOptions _flush;
    private readonly Cache _cache;
    private readonly long _cacheBytes;

    // Held for the store's life: the native database points at the table options and the filter policy, and a wrapper the GC
    // finalizes frees its native object (seen as a segmentation fault in the crash/restore tests under GC pressure).
    private readonly BlockBasedTableOptions _table;
    private readonly BloomFilterPolicy _filter;
    // The snapshots whose shared files are kept, oldest first, under _retention (a snapshot's names grow while its slow part links them).
    private readonly List<StoreSnapshot> _snapshots = [];
    private readonly Lock _retention = new();
    private readonly Dictionary<string, string> _inherited = new(StringComparer.Ordinal);
    private WriteBatch _batch = new();

    // Bytes of keys and values in _batch since it was last written. Past BatchLimit a Put or Delete writes it (outside a
    // checkpoint's window): the operator's emission at the end of the input deletes every spilled session in one watermark, and
    // one batch of 20M sessions' deletes (about 1.2 GB of native memory, kept by the batch's buffer after Clear) plus the memtable
    // it forces past its size were the native growth of issue #18 (docs/state.md, "Native memory").
    private long _batchBytes;
    private RocksDbSharp.RocksDb _db;
    private long _checkpointBytes;
    private long _lastNewBytes;
    private bool _disposed;

    // Every call into the native database takes this lock and checks that the store is not disposed: Size is read from the
    // progress reporter's thread, Dispose comes from the job's thread, Restore replaces the handle. A call on a freed database is
    // a segmentation fault, not an exception; with the lock it is an ObjectDisposedException naming the store. (The job disposes
    // the stores only after the tasks' threads have ended; the lock is the second line. Uncontended, it costs a few nanoseconds
    // per store call, which is per spilled or loaded session, never per event of a hot key.)
    private readonly Lock _handle = new();

    public RocksDbKeyedStateStore(RocksDbStateStoreFactory owner, string live, string shared, long cacheBytes)
    {
        _owner = owner;
        Location = live;
        _shared = shared;
        _instance = Path.GetFileName(live);
        _cacheBytes = cacheBytes;
        _cache = Cache.CreateLru((ulong)cacheBytes);
        _filter = BloomFilterPolicy.Create(10, false);
        var table = _table = new BlockBasedTableOptions()
            .SetFilterPolicy(_filter)
            .SetBlockCache(_cache)
            // Index and filter blocks stay with their open table, outside the block cache: in the cache, a profile of a 1M-key run
            // showed every lookup of a new key reading and checksumming an SST's filter block again (most of its CPU). Most likely
            // the full filter of a large SST (about 1.2 MB per million keys) is bigger than one of the cache's 64 shards (512 KiB
            // of 32 MiB) and is never kept. They count in Size.MemoryBytes (rocksdb.estimate-table-readers-mem): the filters take
            // about 1.25 bytes per stored entry (10 bits per key).
            .SetCacheIndexAndFilterBlocks(false);
        _options = new DbOptions()
            .SetCreateIfMissing(true)
            .SetBlockBasedTableFactory(table)
            .SetWriteBufferSize((ulong)Math.Max(4 << 20, cacheBytes / 2))
            .SetMaxWriteBufferNumber(2)
            .SetMaxOpenFiles(512)
            .SetCompression(Compression.Lz4)
            // A bloom filter over the memtable's whole keys: an event of a key that was never spilled looks its current session
            // up (a miss), and without it the miss searches the memtable's skip list (the hottest code of a profile at 300,000 keys).
            .SetMemtablePrefixBloomSizeRatio(0.1);
        Native.Instance.rocksdb_options_set_memtable_whole_key_filtering(_options.Handle, 1);
        _write = new WriteOptions().DisableWal(1);
        _flush = new FlushOptions().SetWaitForFlush(true);
        // A checkpoint's flush never waits for compaction: with allow_write_stall false (RocksDB's default) a flush that would add
        // the L0 file reaching level0_slowdown_writes_trigger first waits until compaction has brought L0 down, which on a starved
        // machine after a large compaction can take seconds (issue #18's 21.8 s second part; LiveFiles.cs). Writes after it may be
        // slowed by RocksDB's write controller instead, a commit at a time.
        Native.Instance.rocksdb_flushoptions_set_allow_write_stall(_flush.Handle, 1);
        Directory.CreateDirectory(live);
        _db = RocksDbSharp.RocksDb.Open(_options, live);
    }

    public string Location { get; }

    public void Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        lock (_handle)
        {
            ThrowIfDisposed();
            if (_after is null)
            {
                _batch.Put(key, value, null);
                WriteBatchIfFull(key.Length + value.Length);
            }
            else
            {
                _staged.Put(key, value);
            }
        }
    }

    public void Delete(ReadOnlySpan<byte> key)
    {
        lock (_handle)
        {
            ThrowIfDisposed();
            if (_after is null)
            {
                _batch.Delete(key, null);
                WriteBatchIfFull(key.Length);
            }
            else
            {
                _staged.Delete(key);
            }
        }
    }

    public void Commit()
    {
        lock (_handle)
        {
            ThrowIfDisposed();
            if (_after is not null)
            {
                CommitDuringCheckpoint();
                return;
            }

            WriteBatchToDatabase();
        }
    }

    private void WriteBatchToDatabase()
    {
        _batchBytes = 0;
        if (_batch.Count() == 0)
        {
            return;
        }

        _db.Write(_batch, _write);
        _batch.Clear();
    }

    /// <summary>The most bytes of keys and values the write batch holds before a Put or Delete writes it (outside a checkpoint's window).</summary>
    /// <remarks>Writing early changes nothing the operator sees: the write-ahead log is off and a crash restores a checkpoint, never the
    /// live database, so a batch need not be atomic; a cursor reads its own implicit snapshot; and no operator reads a key it wrote
    /// since its last commit expecting the old value.</remarks>
    internal const int BatchLimit = 4 << 20;

    private void WriteBatchIfFull(int bytes)
    {
        _batchBytes += bytes + 8;
        if (_batchBytes >= BatchLimit)
        {
            WriteBatchToDatabase();
        }
    }

    public int Get(ReadOnlySpan<byte> key, ref byte[] buffer)
    {
        byte[]? value;
        lock (_handle)
        {
            ThrowIfDisposed();
            value = _after is null ? _db.Get(key, null, null) : GetThroughCheckpoint(key);
        }

        if (value is null)
        {
            return -1;
        }

        if (buffer.Length < value.Length)
        {
            buffer = new byte[Math.Max(value.Length, buffer.Length * 2)];
        }

        value.CopyTo(buffer, 0);
        return value.Length;
    }

    public IKeyedStateCursor Scan(byte[] from, byte[] to)
    {
        lock (_handle)
        {
            ThrowIfDisposed();
            var iterator = _after is null ? _db.NewIterator(null, null) : _after.NewIterator(_db.NewIterator(null, null));
            var cursor = new Cursor(this, iterator, from, to);
            _cursors.Add(cursor);
            return cursor;
        }
    }

    private void ThrowIfDisposed()
    {
        if (_disposed)
        {
            ThrowDisposed("the RocksDB state store at " + Location);
        }
    }

    // The message names the store (ObjectDisposedException.ThrowIf names only the type).
    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowDisposed(string what) => throw new ObjectDisposedException(what);

    // Cursors still open when the store is disposed (a query stopped by an error mid-scan) are closed before the database:
    // an iterator left to its finalizer would free itself after the database it points into.
    private readonly HashSet<Cursor> _cursors = [];

    public StateSize Size
    {
        get
        {
            lock (_handle)
            {
                if (_disposed)
                {
                    return default;
                }

                long memory = Property("rocksdb.cur-size-all-mem-tables") + Property("rocksdb.estimate-table-readers-mem") + (long)_cache.GetUsage() + _afterBytes;
                long live = Property("rocksdb.total-sst-files-size");
                return new StateSize(memory, live, _checkpointBytes, _lastNewBytes);
            }
        }
    }

    /// <summary>Compacts the whole database now (tests of retention and of incremental checkpoints: compaction otherwise runs in the
    /// background, when RocksDB gets to it). RocksDB may move a file that overlaps no other down a level without rewriting it, and
    /// leaves the last level as it is; with <paramref name="rewriteEveryFile"/> the last level is compacted too (RocksDB's
    /// <c>BottommostLevelCompaction.kForce</c>), so no SST file written before stays live.</summary>
    internal void CompactAll(bool rewriteEveryFile = false)
    {
        lock (_handle)
        {
            ThrowIfDisposed();
            if (!rewriteEveryFile)
            {
                _db.CompactRange(null, null, null);
                return;
            }

            var options = Native.Instance.rocksdb_compactoptions_create();
            try
            {
                Native.Instance.rocksdb_compactoptions_set_bottommost_level_compaction(options, 2); // kForce
                Native.Instance.rocksdb_compact_range_opt(_db.Handle, options, (byte[]?)null, UIntPtr.Zero, (byte[]?)null, UIntPtr.Zero);
            }
            finally
            {
                Native.Instance.rocksdb_compactoptions_destroy(options);
            }
        }
    }

    private long Property(string name) => long.TryParse(_db.GetProperty(name), out long value) ? value : 0;

    /// <summary>Reads integer properties of the database (memory attribution: <see cref="RocksDbStateStoreFactory.MemoryBreakdown"/>); 0 once disposed.</summary>
    internal long[] Properties(IReadOnlyList<string> names)
    {
        lock (_handle)
        {
            var values = new long[names.Count];
            if (!_disposed)
            {
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = Property(names[i]);
                }
            }

            return values;
        }
    }

    /// <summary>
    /// Outside a job that reports its saved checkpoints (tests and tools taking checkpoints of a store directly): deletes the shared files
    /// this store made that none of its last <see cref="RocksDbStateStoreFactory.RetainedCheckpoints"/> snapshots names.
    /// </summary>
    private void RetainLastSnapshots()
    {
        lock (_retention)
        {
            int drop = _snapshots.Count - _owner.RetainedCheckpoints;
            if (drop > 0)
            {
                var dropped = _snapshots.GetRange(0, drop);
                _snapshots.RemoveRange(0, drop);
                DeleteUnnamed(dropped);
            }
        }
    }

    /// <summary>
    /// A checkpoint of <paramref name="savedCut"/> was saved (<see cref="RocksDbStateStoreFactory.CheckpointSaved"/>): forgets the
    /// snapshots of earlier cuts that are not in <paramref name="keep"/> — a restore can start from none of them: never saved (a
    /// checkpoint that failed or was abandoned), or no longer listed by the checkpoint store — and deletes the files this store made
    /// that only they name. Snapshots of later cuts (begun since) are kept whatever happens to them.
    /// </summary>
    internal void RetainSaved(long savedCut, IReadOnlySet<long> keep)
    {
        lock (_retention)
        {
            var dropped = _snapshots.FindAll(s => s.Cut <= savedCut && !keep.Contains(s.Cut));
            if (dropped.Count > 0)
            {
                _snapshots.RemoveAll(s => s.Cut <= savedCut && !keep.Contains(s.Cut));
                DeleteUnnamed(dropped);
            }
        }
    }

    // Under _retention. Files inherited from a restore may be shared with another task's store: only this store's own files go. A file
    // that cannot be deleted stays (it costs disk, not correctness).
    private void DeleteUnnamed(List<StoreSnapshot> dropped)
    {
        var live = new HashSet<string>(_snapshots.SelectMany(s => s.Names), StringComparer.Ordinal);
        foreach (string name in dropped.SelectMany(s => s.Names).Distinct(StringComparer.Ordinal))
        {
            if (!live.Contains(name) && name.StartsWith(_instance + "-", StringComparison.Ordinal))
            {
                try
                {
                    File.Delete(Path.Combine(_shared, name));
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                }
            }
        }
    }

    /// <summary>One snapshot of the store (a checkpoint's slow part): the job's cut it belongs to and the shared files it names.</summary>
    private sealed class StoreSnapshot(long cut)
    {
        public long Cut { get; } = cut;

        public List<string> Names { get; } = [];
    }

    public void Restore(IReadOnlyList<byte[]> manifests, int first, int end)
    {
        if (manifests.Count == 0)
        {
            return;
        }

        var parsed = manifests.Select(m => CheckpointManifest.Parse(m, _shared)).ToArray();
        lock (_handle)
        {
            ThrowIfDisposed();
            if (_inFlight is not null)
            {
                throw new InvalidOperationException($"The RocksDB state store at {Location} has taken a checkpoint: only a fresh store is restored.");
            }

            _db.Dispose();
            Directory.Delete(Location, recursive: true);
            Materialize(parsed[0], Location, inherit: true);
            _db = RocksDbSharp.RocksDb.Open(_options, Location);
        }

        // Key groups outside [first, end) belong to other tasks now.
        using (var trim = new WriteBatch())
        lock (_handle)
        {
            ThrowIfDisposed();
            var low = Group(0);
            var from = Group(first);
            var to = Group(end);
            var high = new byte[] { 0xFF, 0xFF, 0xFF };
            if (first > 0)
            {
                trim.DeleteRange(low, (ulong)low.Length, from, (ulong)from.Length, null);
            }

            trim.DeleteRange(to, (ulong)to.Length, high, (ulong)high.Length, null);
            _db.Write(trim, _write);
        }

        // The other tasks' states that overlap this range are copied key by key (a rescale; the next checkpoint is a full one).
        for (int i = 1; i < parsed.Length; i++)
        {
            string other = Location + ".restore-" + i;
            Materialize(parsed[i], other, inherit: false);
            try
            {
                using var source = RocksDbSharp.RocksDb.OpenReadOnly(_options, other, false);
                using var iterator = source.NewIterator(null, null);
                var to = Group(end);
                for (iterator.Seek(Group(first)); iterator.Valid() && iterator.GetKeySpan().SequenceCompareTo(to) < 0; iterator.Next())
                {
                    Put(iterator.GetKeySpan(), iterator.GetValueSpan());
                    if (_batch.Count() >= 10_000)
                    {
                        Commit();
                    }
                }

                Commit();
            }
            finally
            {
                Directory.Delete(other, recursive: true);
            }
        }
    }

    private static byte[] Group(int group) => [(byte)(group >> 8), (byte)group];

    /// <summary>Builds a database directory from a manifest: hard links to the shared SST files (copies where links fail), the small files written out.</summary>
    private void Materialize(CheckpointManifest manifest, string directory, bool inherit)
    {
        Directory.CreateDirectory(directory);
        foreach (var file in manifest.Files)
        {
            string source = Path.Combine(_shared, file.SharedName);
            string target = Path.Combine(directory, file.Name);
            if (!HardLink.TryCreate(source, target))
            {
                File.Copy(source, target);
            }

            if (inherit)
            {
                _inherited[file.Name] = file.SharedName;
            }
        }

        foreach (var (name, data) in manifest.Inline)
        {
            File.WriteAllBytes(Path.Combine(directory, name), data);
        }
    }

    public void Dispose()
    {
        Task? inFlight;
        lock (_handle)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            inFlight = _inFlight;
        }

        // A checkpoint's background part uses the database: it ends before the database is freed (its failure, if any, is the
        // checkpoint's, reported to whoever waits for the manifest).
        WaitQuietly(inFlight);
        lock (_handle)
        {
            foreach (var cursor in _cursors.ToArray())
            {
                cursor.Dispose();
            }

            _batch.Dispose();
            _afterBatch.Dispose();
            _db.Dispose();

            // The block cache's wrapper has no Dispose (its finalizer frees it whenever the GC gets to it): empty it now, so its
            // blocks (up to CacheBytes) go back to malloc with the database.
            _cache.SetCapacity(0);
        }

        try
        {
            Directory.Delete(Location, recursive: true);
        }
        catch (IOException)
        {
            // A live directory that cannot be removed now is removed when the backend opens its next run.
        }
    }

    private sealed class Cursor(RocksDbKeyedStateStore owner, Iterator iterator, byte[] from, byte[] to) : IKeyedStateCursor
    {
        private bool _closed;

        private bool _valid = Start(iterator, from, to);

        public bool Valid => _valid;

        // The spans point into the iterator's native memory: valid until the next Next or Dispose of this cursor, which the
        // store's Dispose does to cursors still open (the job disposes the stores only after the threads using them ended).
        public ReadOnlySpan<byte> Key
        {
            get
            {
                ThrowIfClosed();
                return iterator.GetKeySpan();
            }
        }

        public ReadOnlySpan<byte> Value
        {
            get
            {
                ThrowIfClosed();
                return iterator.GetValueSpan();
            }
        }

        public void Next()
        {
            lock (owner._handle)
            {
                ThrowIfClosed();
                iterator.Next();
                _valid = iterator.Valid() && iterator.GetKeySpan().SequenceCompareTo(to) < 0;
            }
        }

        private void ThrowIfClosed()
        {
            if (_closed)
            {
                ThrowDisposed("a cursor of the RocksDB state store at " + owner.Location);
            }
        }

        public void Dispose()
        {
            lock (owner._handle)
            {
                if (_closed)
                {
                    return;
                }

                _closed = true;
                iterator.Dispose();
                owner._cursors.Remove(this);
            }
        }

        private static bool Start(Iterator iterator, byte[] from, byte[] to)
        {
            iterator.Seek(from);
            return iterator.Valid() && iterator.GetKeySpan().SequenceCompareTo(to) < 0;
        }
    }
}
