using System.Buffers.Binary;
using System.Diagnostics;
using RocksDbSharp;

namespace LinqStream.State.RocksDb;

/// <summary>
/// The checkpoint of a store in two parts: a short one on the caller's thread (<see cref="BeginCheckpoint"/>: commit, open the
/// "after the barrier" window) and the slow one on a thread of its own (memtable flush, RocksDB checkpoint as hard links, new SST
/// files moved into the shared directory, retention).
/// </summary>
/// <remarks>
/// While the slow part runs the database takes no writes, so the flush and the hard links see exactly the state committed
/// before the barrier. Commits after it go into an indexed write batch (<see cref="WriteBatchWithIndex"/>); <c>Get</c> reads
/// the batch over the database and a scan merges the two, so the operator sees every write it committed. The first commit after
/// the slow part ended writes the batch into the database and closes the window. The batch is bounded: a commit that would take
/// it past the write buffer's size waits for the slow part instead (a stall, counted in <see cref="Stalls"/>).
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

    // The indexed batch while a checkpoint's slow part runs (then the database takes no writes); null otherwise.
    private WriteBatchWithIndex? _after;
    private long _afterBytes;
    private Task<byte[]>? _inFlight;

    /// <summary>Gets how long the last <see cref="BeginCheckpoint"/> kept its caller (the query's pause; measurements).</summary>
    internal TimeSpan LastPause { get; private set; }

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

    /// <summary>The parts of one checkpoint's slow part: memtable flush, RocksDB's checkpoint (hard links), the files into the shared directory.</summary>
    internal readonly record struct CheckpointPhases(TimeSpan Flush, TimeSpan Save, TimeSpan Files, int SstFiles, long InlineBytes);

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
                // The previous checkpoint's window is still open: commit into it, then close it (waiting for its slow part if it
                // still runs).
                WriteStagedTo(_after);
                CloseWindow(_inFlight!, started);
            }

            WriteBatchToDatabase();
            _after = _afterBatch;
            var db = _db;
            task = Task.Factory.StartNew(() => Complete(db), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            _inFlight = task;
        }

        LastPause = Stopwatch.GetElapsedTime(started);
        return task;
    }

    /// <summary>A commit while the window is open: the staged writes go into the indexed batch; the window closes if it can.</summary>
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

            _afterBytes += _staged.Bytes;
            WriteStagedTo(_after);
        }

        if (_inFlight!.IsCompleted && _cursors.Count == 0)
        {
            CloseWindow(_inFlight, Stopwatch.GetTimestamp());
        }
    }

    /// <summary>Waits for the slow part (a stall when it still runs), writes the indexed batch into the database, ends the window.</summary>
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

        if (_afterBatch.Count() > 0)
        {
            _db.Write(_afterBatch, _write);
            _afterBatch.Clear();
        }

        _after = null;
        _afterBytes = 0;
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

    /// <summary>The slow part, on its own thread: the database takes no writes until it ends (they wait in the indexed batch).</summary>
    private byte[] Complete(RocksDbSharp.RocksDb db)
    {
        SlowPartStarting?.Invoke();
        long started = Stopwatch.GetTimestamp();
        string temporary = Path.Combine(Path.GetDirectoryName(Location)!, _instance + ".checkpoint");
        db.Flush(_flush);
        long flushed = Stopwatch.GetTimestamp();
        if (Directory.Exists(temporary))
        {
            Directory.Delete(temporary, recursive: true);
        }

        using (var checkpoint = db.Checkpoint())
        {
            checkpoint.Save(temporary, 0);
        }

        long saved = Stopwatch.GetTimestamp();
        var files = new List<CheckpointManifest.SharedFile>();
        var inline = new List<(string Name, byte[] Data)>();
        long newBytes = 0;
        try
        {
            foreach (string path in Directory.GetFiles(temporary).Order(StringComparer.Ordinal))
            {
                string name = Path.GetFileName(path);
                long size = new FileInfo(path).Length;
                if (!name.EndsWith(".sst", StringComparison.Ordinal))
                {
                    inline.Add((name, File.ReadAllBytes(path)));
                    continue;
                }

                string sharedName = _inherited.TryGetValue(name, out var inherited) ? inherited : _instance + "-" + name;
                string target = Path.Combine(_shared, sharedName);
                if (!File.Exists(target))
                {
                    File.Move(path, target);
                    newBytes += size;
                }

                files.Add(new CheckpointManifest.SharedFile(name, sharedName, size));
            }
        }
        finally
        {
            Directory.Delete(temporary, recursive: true);
        }

        Interlocked.Exchange(ref _lastNewBytes, newBytes);
        Interlocked.Exchange(ref _checkpointBytes, files.Sum(f => f.Size) + inline.Sum(f => (long)f.Data.Length));
        Retain([.. files.Select(f => f.SharedName)]);
        var manifest = new CheckpointManifest(files, inline).ToBytes();
        var phases = LastCheckpointPhases = new CheckpointPhases(
            Stopwatch.GetElapsedTime(started, flushed), Stopwatch.GetElapsedTime(flushed, saved), Stopwatch.GetElapsedTime(saved), files.Count, inline.Sum(f => (long)f.Data.Length));
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

        public void CopyTo(WriteBatchWithIndex batch) => Replay(batch, null);

        public void CopyTo(WriteBatch batch) => Replay(null, batch);

        public void Clear()
        {
            _length = 0;
            Count = 0;
        }

        private void Replay(WriteBatchWithIndex? indexed, WriteBatch? plain)
        {
            ReadOnlySpan<byte> data = _data.AsSpan(0, _length);
            while (!data.IsEmpty)
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
