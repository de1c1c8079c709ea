using LinqStream.Runtime.State;

namespace LinqStream.State.RocksDb;

/// <summary>
/// Keeps keyed operator state in RocksDB under a directory: keyed session, tumbling and hopping window aggregates (and the window join's waiting events) keep their hot keys on the heap and the
/// rest on disk, and checkpoint incrementally (only SST files no earlier checkpoint kept). See docs/state.md.
/// </summary>
/// <remarks>
/// Layout of <see cref="Path"/>: <c>live/</c> holds each operator instance's working database (deleted when the job is disposed and
/// when the next run starts: one job per directory), <c>shared/</c> the SST files that checkpoints name. The checkpoint file in
/// the job's <see cref="CheckpointStore"/> holds each store's manifest, so the two directories go together.
/// </remarks>
public sealed class RocksDbStateBackend : StateBackend
{
    /// <summary>Initializes a new instance of the <see cref="RocksDbStateBackend"/> class.</summary>
    /// <param name="path">The state directory (created if missing).</param>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty.</exception>
    public RocksDbStateBackend(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        Path = System.IO.Path.GetFullPath(path);
    }

    /// <summary>Gets the state directory.</summary>
    public string Path { get; }

    /// <summary>Gets how many sessions, or (window, key) groups, a keyed operator keeps on the heap before it spills the coldest to RocksDB.</summary>
    /// <value>The default value is 65,536. Valid values are 16 and more.</value>
    public int HotKeys
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 16);
            field = value;
        }
    } = 65_536;

    /// <summary>Gets the native memory per store for RocksDB's block cache (its memtables take as much again).</summary>
    /// <value>The default value is 32 MiB. Valid values are 1 MiB and more.</value>
    public long CacheBytes
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1L << 20);
            field = value;
        }
    } = 32L << 20;

    /// <summary>
    /// Gets how many of a job's last saved checkpoints (into its checkpoint store or written to a stream) a store keeps the shared files
    /// of, besides those of every checkpoint the checkpoint store still lists and of the snapshots begun since the last saved one.
    /// A store used outside a job keeps the files of its last this many snapshots.
    /// </summary>
    /// <value>The default value is 5. Valid values are 1 and more.</value>
    public int RetainedCheckpoints
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            field = value;
        }
    } = 5;

    /// <inheritdoc/>
    public override string Name => "rocksdb:" + Path;

    /// <summary>Gets the stores of the last run opened on this backend (measurements: the memory of a running job, issue #18).</summary>
    internal RocksDbStateStoreFactory? LastRun { get; private set; }

    /// <summary>Gets what is called with each store a run makes, before the operator uses it (tests hold or fail a checkpoint's second part).</summary>
    internal Action<RocksDbKeyedStateStore>? StoreCreated { get; init; }

    internal override IKeyedStateStoreFactory OpenRun() => LastRun = new RocksDbStateStoreFactory(this);
}
