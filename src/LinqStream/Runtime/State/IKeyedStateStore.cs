namespace LinqStream.Runtime.State;

/// <summary>
/// Keyed operator state kept outside the managed heap (the seam of issue #18): ordered byte keys whose first two bytes are the
/// key group (big-endian), so one key group, and inside it one table and one window end, is a contiguous range.
/// </summary>
/// <remarks>
/// The heap backend does not go through this interface: it is today's operator, chosen at planning time, with no virtual call per
/// event. An operator that spills (e.g. <c>SpilledSessionWindowAggregateOperator</c>) calls the store only for keys that are not
/// in its small on-heap cache, and writes in batches: <see cref="Put"/> and <see cref="Delete"/> are buffered until
/// <see cref="Commit"/>, and reads see committed state (a store may write a large buffer before the commit to bound its memory, so a
/// read may also see writes since the last commit: an operator never reads a key it changed since then expecting the old value).
/// One store belongs to one operator instance on one task.
/// </remarks>
internal interface IKeyedStateStore : IDisposable
{
    /// <summary>Gets where the store lives (for messages).</summary>
    string Location { get; }

    /// <summary>Buffers a write of <paramref name="value"/> under <paramref name="key"/>.</summary>
    void Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value);

    /// <summary>Buffers the removal of <paramref name="key"/>.</summary>
    void Delete(ReadOnlySpan<byte> key);

    /// <summary>Writes the buffered puts and deletes in one batch.</summary>
    void Commit();

    /// <summary>Reads the committed value of <paramref name="key"/> into <paramref name="buffer"/> (grown when too small).</summary>
    /// <returns>The value's length, or -1 when the key is absent.</returns>
    int Get(ReadOnlySpan<byte> key, ref byte[] buffer);

    /// <summary>Opens a cursor over the committed keys in [<paramref name="from"/>, <paramref name="to"/>), in byte order.</summary>
    IKeyedStateCursor Scan(byte[] from, byte[] to);

    /// <summary>
    /// Starts an incremental checkpoint of the committed state and returns at once: the task that yields the manifest (naming
    /// every immutable file the state needs, small ones inline, with the files not recorded before kept) completes when the
    /// slow part (RocksDB's memtable flush, hard links, moving new files) is done off the calling thread. Writes committed
    /// after this call are not part of the checkpoint, and reads keep seeing them. Called between batches.
    /// </summary>
    Task<byte[]> BeginCheckpoint();

    /// <summary>Loads this fresh, empty store with the key groups [<paramref name="first"/>, <paramref name="end"/>) of the states the manifests describe.</summary>
    /// <exception cref="InvalidDataException">A manifest is damaged or a file it names is missing or of another size.</exception>
    void Restore(IReadOnlyList<byte[]> manifests, int first, int end);

    /// <summary>Gets the store's size now.</summary>
    StateSize Size { get; }
}

/// <summary>Helpers over <see cref="IKeyedStateStore"/>.</summary>
internal static class KeyedStateStoreExtensions
{
    /// <summary>Takes a checkpoint and waits for its manifest (tests and tools; operators take the manifest later, see <see cref="IKeyedStateStore.BeginCheckpoint"/>).</summary>
    public static byte[] Checkpoint(this IKeyedStateStore store) => store.BeginCheckpoint().GetAwaiter().GetResult();
}

/// <summary>A cursor over an ordered range of a <see cref="IKeyedStateStore"/>.</summary>
internal interface IKeyedStateCursor : IDisposable
{
    bool Valid { get; }

    ReadOnlySpan<byte> Key { get; }

    ReadOnlySpan<byte> Value { get; }

    void Next();
}

/// <summary>Makes the stores of one run of a job (one per keyed operator instance and task) and disposes them when the run ends.</summary>
internal interface IKeyedStateStoreFactory : IDisposable
{
    /// <summary>Gets how many keys an operator keeps on the heap before it spills the coldest to the store.</summary>
    int HotKeys { get; }

    /// <summary>Creates an empty store for one operator instance (<paramref name="operatorName"/> is for directory names and messages).</summary>
    IKeyedStateStore Create(string operatorName);

    /// <summary>Gets the sum of the sizes of the stores made so far (progress reports).</summary>
    StateSize TotalSize { get; }

    /// <summary>
    /// Starts the cut of the job's next checkpoint: the snapshots that stores begin from now on (<see cref="IKeyedStateStore.BeginCheckpoint"/>)
    /// belong to it. A job calls it before it takes the cut (at parallelism 1) or requests the barrier (above 1). From the first call on,
    /// the stores keep their files for the checkpoints <see cref="CheckpointSaved"/> reports, not for their last snapshots.
    /// </summary>
    /// <returns>The cut's number, larger than every earlier one.</returns>
    long BeginCut() => 0;

    /// <summary>
    /// Reports that the checkpoint of cut <paramref name="cut"/> was saved (into the checkpoint store or a stream); <paramref name="listed"/>
    /// holds the cuts of this run's checkpoints that the checkpoint store still lists. A store may then delete the files it made that
    /// no snapshot names of those cuts, of the last saved checkpoints it keeps anyway, or of a cut after <paramref name="cut"/>.
    /// </summary>
    void CheckpointSaved(long cut, IReadOnlyCollection<long> listed)
    {
    }
}

/// <summary>How big keyed state is: held in the store's memory (memtables, block cache), in its live files, in checkpoints.</summary>
/// <param name="MemoryBytes">Native memory of the store (not the managed heap).</param>
/// <param name="LiveBytes">Bytes of the store's live files.</param>
/// <param name="CheckpointBytes">Bytes of the checkpoint files it keeps.</param>
/// <param name="LastCheckpointNewBytes">Bytes the last checkpoint had to keep that no earlier checkpoint had kept.</param>
internal readonly record struct StateSize(long MemoryBytes, long LiveBytes, long CheckpointBytes, long LastCheckpointNewBytes)
{
    public static StateSize operator +(StateSize a, StateSize b) => new(
        a.MemoryBytes + b.MemoryBytes, a.LiveBytes + b.LiveBytes, a.CheckpointBytes + b.CheckpointBytes, a.LastCheckpointNewBytes + b.LastCheckpointNewBytes);
}
