using System.Buffers.Binary;
using System.Diagnostics;
using RocksDbSharp;

namespace LinqStream.State.RocksDb;

/// <summary>
/// The checkpoint of a store in two parts: a short one on the caller's thread (<see cref="BeginCheckpoint"/>: commit, open the
/// "after the barrier" window) and the slow one on a pool thread (memtable flush, the live files listed, new SST files hard-linked
/// into the shared directory, retention).
/// </summary>
/// <remarks>
/// While the slow part runs the database takes no writes, so the flush and the hard links see exactly the state committed
/// before the barrier. Commits after it go into an indexed write batch (<see cref="WriteBatchWithIndex"/>); <c>Get</c> reads
/// the batch over the database and a scan merges the two, so the operator sees every write it committed. Once the slow part has
/// ended, each commit writes its own writes and the next <see cref="DrainSlice"/> bytes of the window's earlier ones (kept in
/// order in a log beside the batch) into the database, and the window closes when all are there: no commit writes the whole
/// window at once (it did, the 153 ms slowest commit of docs/state.md). The batch is bounded: a commit that would take it past
/// the write buffer's size while the slow part runs waits for it instead (a stall, counted in <see cref="Stalls"/>).
/// <para>
/// Puts and deletes between two commits are staged in a plain buffer and go into the indexed batch at the commit: the batch is
/// never changed while a cursor over it is open (RocksDB invalidates such a cursor's current entry), and a commit with a cursor
/// open during the window is refused.
/// </para>
/// </remarks>
internal sealed partial class RocksDbKeyedStateStore
{
    private readonly WriteBatchWithIndex _afterBatch = new(0, true);
    private readonly StagedWrites _staged = new();
    private byte[] _keyScratch = new byte[64];

    // Every commit of the open window, in order (the same writes as the indexed batch): once the slow part has ended, each
    // commit writes the next slice of it into the database, so that no single commit writes the whole window at once.
    private readonly StagedWrites _windowLog = new();
    private int _drained;

    // The indexed batch while a checkpoint's slow part runs (then the database takes no writes) and until the window's writes are
    // all in the database; null otherwise.
    private WriteBatchWithIndex? _after;
    private long _afterBytes;
    private Task<byte[]>? _inFlight;
    private long _windowOpened;
    private TimeSpan _longestWindowWrite;
    private int _windowWrites;

    /// <summary>How many bytes of the window's writes a commit writes into the database after the slow part ended (besides its own).</summary>
    internal const int DrainSlice = 1 << 20;

    /// <summary>Gets, per closed window (up to 64, oldest first), the longest single write of its writes into the database, how many
    /// commits wrote them, and how long the window stayed open (measurements: what a commit after a checkpoint costs).</summary>
    internal System.Collections.Concurrent.ConcurrentQueue<(TimeSpan LongestWrite, int Writes, TimeSpan Open)> RecentWindows { get; } = new();

    /// <summary>Gets a value indicating whether a checkpoint's window is open: its writes are not all in the database yet (tests).</summary>
    internal bool IsWindowOpen
    {
        get
        {
            lock (_handle)
            {
                return _after is not null;
            }
        }
    }

    /// <summary>Gets how long the last <see cref="BeginCheckpoint"/> kept its caller (the query's pause; measurements).</summary>
    internal TimeSpan LastPause { get; private set; }

    /// <summary>Gets how long each of the last (up to 64) <see cref="BeginCheckpoint"/> calls kept its caller, oldest first (measurements).</summary>
    internal System.Collections.Concurrent.ConcurrentQueue<TimeSpan> RecentBeginPauses { get; } = new();

    /// <summary>Gets or sets what a checkpoint's slow part calls first, on its thread (tests hold the slow part with it).</summary>
    internal Action? SlowPartStarting { get; set; }

    /// <summary>Gets a value indicating whether a commit is waiting for a checkpoint's slow part now (tests).</summary>
    internal bool IsStalled => Volatile.Read(ref _stalled);

    private bool _stalled;

    /// <summary>Gets how many commits waited for a checkpoint's slow part (its indexed batch was full), and how long in all.</summary>
    internal (int Count, TimeSpan Time) Stalls { get; private set; }

    /// <summary>Gets where the last checkpoint's time went (measurements: benchmarks' <c>--checkpoint-pause</c>).</summary>
    internal CheckpointPhases LastCheckpointPhases { get; private set; }

    /// <summary>Gets the phases of the last (up to 64) completed checkpoints, oldest first (measurements).</summary>
    internal System.Collections.Concurrent.ConcurrentQueue<CheckpointPhases> RecentCheckpointPhases { get; } = new();

    /// <summary>The parts of one checkpoint's slow part: memtable flush, the live files listed and the small ones read (until the
    /// eighth session: RocksDB's checkpoint, hard links into a directory of its own), the new SST files linked into the shared
    /// directory; and the bytes the checkpoint names (SST files and inline files: the store's state, as progress reports it).</summary>
    internal readonly record struct CheckpointPhases(TimeSpan Flush, TimeSpan Save, TimeSpan Files, int SstFiles, long InlineBytes, long Bytes = 0);

    // The indexed batch may hold as much as one memtable (the write buffer's size) before a commit waits for the slow part.
    private long AfterLimit => Math.Max(4L << 20, _cacheBytes / 2);

    public Task<byte[]> BeginCheckpoint()
    {
        long started = Stopwatch.GetTimestamp();
        Task<byte[]> task;
        lock (_handle)
        {
            ThrowIfDisposed();
            if (_cursors.Count > 0)
            {
                throw new InvalidOperationException($"A checkpoint of the RocksDB state store at {Location} was started with a cursor open (checkpoints are taken between batches).");
            }

            if (_after is not null)
            {
                // The previous checkpoint's window is still open: close it (waiting for its slow part if it still runs, then writing
                // what is left of its writes), then write the writes staged since the last commit, which are newer.
                CloseWindow(_inFlight!, started);
                WriteStagedTo(null);
            }

            WriteBatchToDatabase();
            _after = _afterBatch;
            _windowOpened = started;
            var db = _db;
            // A pool thread, not a thread of its own: starting a new thread waits until it runs, which on a loaded machine was in
            // the pause (the store's part of a job's pause reached 181 ms at load 50; docs/state.md, fifth session).
            var snapshot = new StoreSnapshot(_owner.CurrentCut);
            lock (_retention)
            {
                _snapshots.Add(snapshot);
            }

            task = Task.Run(() => Complete(db, snapshot), CancellationToken.None);
            _inFlight = task;
        }

        LastPause = Stopwatch.GetElapsedTime(started);
        RecentBeginPauses.Enqueue(LastPause);
        while (RecentBeginPauses.Count > 64)
        {
            RecentBeginPauses.TryDequeue(out _);
        }

        return task;
    }

    /// <summary>A commit while the window is open: the staged writes go into the indexed batch (and the window's log); once the slow
    /// part has ended, a slice of the log goes into the database, and the window closes when all of it is there.</summary>
    private void CommitDuringCheckpoint()
    {
        if (_staged.Count > 0)
        {
            if (_cursors.Count > 0)
            {
                throw new InvalidOperationException(
                    $"A commit to the RocksDB state store at {Location} came with a cursor open while a checkpoint runs (a cursor is closed before the next commit).");
            }

            var inFlight = _inFlight!;
            if (!inFlight.IsCompleted && _afterBytes + _staged.Bytes > AfterLimit)
            {
                CloseWindow(inFlight, Stopwatch.GetTimestamp());
                WriteStagedTo(null);
                return;
            }

            long bytes = _staged.Bytes;
            _afterBytes += bytes;
            _windowLog.Append(_staged);
            WriteStagedTo(_after);
            if (_inFlight!.IsCompleted)
            {
                // The window's writes go into the database a slice per commit: this commit's own, and as much again of the backlog.
                WriteWindowSlice(DrainSlice + bytes);
            }
        }
        else if (_inFlight!.IsCompleted)
        {
            WriteWindowSlice(DrainSlice);
        }

        if (_inFlight.IsCompleted && _drained == _windowLog.Bytes && _cursors.Count == 0)
        {
            EndWindow();
        }
    }

    /// <summary>Writes the next <paramref name="bytes"/> (or more, to the end of a write) of the window's log into the database. The
    /// indexed batch keeps every write of the window, so reads through it stay right whatever part of the log is written.</summary>
    private void WriteWindowSlice(long bytes)
    {
        if (_drained == _windowLog.Bytes)
        {
            return;
        }

        long started = Stopwatch.GetTimestamp();
        _drained = _windowLog.CopyTo(_batch, _drained, bytes);
        WriteBatchToDatabase();
        var took = Stopwatch.GetElapsedTime(started);
        _windowWrites++;
        if (took > _longestWindowWrite)
        {
            _longestWindowWrite = took;
        }
    }

    /// <summary>Waits for the slow part (a stall when it still runs), writes what is left of the window's writes into the database,
    /// ends the window.</summary>
    private void CloseWindow(Task inFlight, long since)
    {
        if (!inFlight.IsCompleted)
        {
            Volatile.Write(ref _stalled, true);
            WaitQuietly(inFlight);
            Volatile.Write(ref _stalled, false);
            var (count, time) = Stalls;
            Stalls = (count + 1, time + Stopwatch.GetElapsedTime(since));
        }

        WriteWindowSlice(long.MaxValue);
        EndWindow();
    }

    /// <summary>Every write of the window is in the database: reads go to the database alone again.</summary>
    private void EndWindow()
    {
        _afterBatch.Clear();
        _windowLog.Clear();
        _drained = 0;
        _after = null;
        _afterBytes = 0;
        RecentWindows.Enqueue((_longestWindowWrite, _windowWrites, Stopwatch.GetElapsedTime(_windowOpened)));
        while (RecentWindows.Count > 64)
        {
            RecentWindows.TryDequeue(out _);
        }

        _longestWindowWrite = TimeSpan.Zero;
        _windowWrites = 0;
    }

    /// <summary>Writes the staged puts and deletes into <paramref name="batch"/>, or straight into the database when null.</summary>
    private void WriteStagedTo(WriteBatchWithIndex? batch)
    {
        if (batch is null)
        {
            _staged.CopyTo(_batch);
            WriteBatchToDatabase();
        }
        else
        {
            _staged.CopyTo(batch);
        }

        _staged.Clear();
    }

    private byte[]? GetThroughCheckpoint(ReadOnlySpan<byte> key)
    {
        if (_keyScratch.Length < key.Length)
        {
            _keyScratch = new byte[Math.Max(key.Length, _keyScratch.Length * 2)];
        }

        key.CopyTo(_keyScratch);
        return _after!.Get(_db, _keyScratch, (ulong)key.Length);
    }

    private static void WaitQuietly(Task? task)
    {
        if (task is null)
        {
            return;
        }

        try
        {
            task.Wait();
        }
        catch (AggregateException)
        {
            // The checkpoint's failure is reported to whoever waits for its manifest.
        }
    }

    /// <summary>The slow part, on a pool thread: the database takes no writes until it ends (they wait in the indexed batch).</summary>
    /// <remarks>The memtable is flushed allowing a write stall (it never waits for compaction), then the live files are taken with
    /// file deletions disabled: each SST file not yet in the shared directory is hard-linked there, the small files are read into
    /// the manifest. Not RocksDB's <c>Checkpoint</c>: that one flushes again waiting for compaction to clear a write stall, and
    /// fsyncs a directory this store only read back and deleted (<see cref="LiveFiles"/>; the 21.8 s second part of issue #18).</remarks>
    private byte[] Complete(RocksDbSharp.RocksDb db, StoreSnapshot snapshot)
    {
        SlowPartStarting?.Invoke();
        long started = Stopwatch.GetTimestamp();
        db.Flush(_flush);
        long flushed = Stopwatch.GetTimestamp();
        long listed = flushed;
        var files = new List<CheckpointManifest.SharedFile>();
        var inline = new List<(string Name, byte[] Data)>();
        long newBytes = 0;
        LiveFiles.Take(db, live =>
        {
            var tables = new List<LiveFiles.LiveFile>(live.Count);
            foreach (var file in live.OrderBy(f => f.Name, StringComparer.Ordinal))
            {
                if (file.IsTable)
                {
                    tables.Add(file);
                }
                else
                {
                    inline.Add((file.Name, LiveFiles.Read(file)));
                }
            }

            listed = Stopwatch.GetTimestamp();
            foreach (var file in tables)
            {
                // SST files are immutable and numbered once per database: one already in shared/ is not taken again.
                string sharedName = _inherited.TryGetValue(file.Name, out var inherited) ? inherited : _instance + "-" + file.Name;
                string target = Path.Combine(_shared, sharedName);
                lock (_retention)
                {
                    // Named before the lock is left: retention (on another thread) deletes no file a snapshot it keeps names.
                    if (!File.Exists(target))
                    {
                        if (!HardLink.TryCreate(file.Path, target))
                        {
                            File.Copy(file.Path, target);
                        }

                        newBytes += file.Size;
                    }

                    snapshot.Names.Add(sharedName);
                }

                files.Add(new CheckpointManifest.SharedFile(file.Name, sharedName, file.Size));
            }
        });

        Interlocked.Exchange(ref _lastNewBytes, newBytes);
        long checkpointBytes = files.Sum(f => f.Size) + inline.Sum(f => (long)f.Data.Length);
        Interlocked.Exchange(ref _checkpointBytes, checkpointBytes);
        if (!_owner.FollowsSavedCheckpoints)
        {
            RetainLastSnapshots();
        }
        var manifest = new CheckpointManifest(files, inline).ToBytes();
        var phases = LastCheckpointPhases = new CheckpointPhases(
            Stopwatch.GetElapsedTime(started, flushed), Stopwatch.GetElapsedTime(flushed, listed), Stopwatch.GetElapsedTime(listed), files.Count, inline.Sum(f => (long)f.Data.Length), checkpointBytes);
        RecentCheckpointPhases.Enqueue(phases);
        while (RecentCheckpointPhases.Count > 64)
        {
            RecentCheckpointPhases.TryDequeue(out _);
        }

        return manifest;
    }

    /// <summary>Puts and deletes between two commits while a checkpoint runs, in one growing buffer: [kind][key length][key]([value length][value]).</summary>
    private sealed class StagedWrites
    {
        private const byte PutKind = 1;
        private const byte DeleteKind = 2;
        private byte[] _data = new byte[4096];
        private int _length;

        public int Count { get; private set; }

        public long Bytes => _length;

        public void Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
        {
            var span = Reserve(1 + 4 + key.Length + 4 + value.Length);
            span[0] = PutKind;
            BinaryPrimitives.WriteInt32LittleEndian(span[1..], key.Length);
            key.CopyTo(span[5..]);
            BinaryPrimitives.WriteInt32LittleEndian(span[(5 + key.Length)..], value.Length);
            value.CopyTo(span[(9 + key.Length)..]);
        }

        public void Delete(ReadOnlySpan<byte> key)
        {
            var span = Reserve(1 + 4 + key.Length);
            span[0] = DeleteKind;
            BinaryPrimitives.WriteInt32LittleEndian(span[1..], key.Length);
            key.CopyTo(span[5..]);
        }

        public void CopyTo(WriteBatchWithIndex batch) => Replay(batch, null, 0, long.MaxValue);

        public void CopyTo(WriteBatch batch) => Replay(null, batch, 0, long.MaxValue);

        /// <summary>Copies the writes from byte <paramref name="from"/> on, until at least <paramref name="bytes"/> are copied or the end.</summary>
        /// <returns>Where the next write starts (the end when everything is copied).</returns>
        public int CopyTo(WriteBatch batch, int from, long bytes) => Replay(null, batch, from, bytes);

        /// <summary>Appends <paramref name="other"/>'s writes after these.</summary>
        public void Append(StagedWrites other)
        {
            other._data.AsSpan(0, other._length).CopyTo(Reserve(other._length));
            Count += other.Count - 1; // Reserve counted one
        }

        public void Clear()
        {
            _length = 0;
            Count = 0;
        }

        private int Replay(WriteBatchWithIndex? indexed, WriteBatch? plain, int from, long bytes)
        {
            ReadOnlySpan<byte> data = _data.AsSpan(from, _length - from);
            int limit = data.Length - (int)Math.Min(bytes, data.Length);
            while (data.Length > limit)
            {
                byte kind = data[0];
                int keyLength = BinaryPrimitives.ReadInt32LittleEndian(data[1..]);
                var key = data.Slice(5, keyLength);
                data = data[(5 + keyLength)..];
                if (kind == PutKind)
                {
                    int valueLength = BinaryPrimitives.ReadInt32LittleEndian(data);
                    var value = data.Slice(4, valueLength);
                    data = data[(4 + valueLength)..];
                    if (indexed is not null)
                    {
                        indexed.Put(key, value);
                    }
                    else
                    {
                        plain!.Put(key, value, null);
                    }
                }
                else if (indexed is not null)
                {
                    indexed.Delete(key);
                }
                else
                {
                    plain!.Delete(key, null);
                }
            }

            return _length - data.Length;
        }

        private Span<byte> Reserve(int length)
        {
            if (_data.Length - _length < length)
            {
                Array.Resize(ref _data, Math.Max(_data.Length * 2, _length + length));
            }

            var span = _data.AsSpan(_length, length);
            _length += length;
            Count++;
            return span;
        }
    }
}
