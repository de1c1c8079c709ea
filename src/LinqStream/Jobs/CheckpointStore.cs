namespace LinqStream;

/// <summary>Where a job keeps its checkpoints. Writes must be atomic: a reader sees a whole checkpoint or none.</summary>
public abstract class CheckpointStore
{
    /// <summary>Stores checkpoint <paramref name="id"/> atomically and durably.</summary>
    /// <param name="id">The checkpoint's number (increasing).</param>
    /// <param name="checkpoint">The bytes.</param>
    /// <param name="cancellationToken">Stops the write.</param>
    /// <returns>A task that completes when the checkpoint is durable.</returns>
    public abstract Task SaveAsync(long id, ReadOnlyMemory<byte> checkpoint, CancellationToken cancellationToken);

    /// <summary>
    /// Stores checkpoint <paramref name="id"/> atomically and durably, with <paramref name="write"/> writing its bytes into a stream
    /// the store provides, so that a large checkpoint goes to its destination as it is produced instead of being assembled in
    /// memory first. Jobs call this one.
    /// </summary>
    /// <param name="id">The checkpoint's number (increasing).</param>
    /// <param name="write">Writes the checkpoint's bytes into the given stream (once).</param>
    /// <param name="cancellationToken">Stops the write.</param>
    /// <returns>A task that completes when the checkpoint is durable.</returns>
    /// <remarks>The default buffers the bytes in memory and calls <see cref="SaveAsync(long, ReadOnlyMemory{byte}, CancellationToken)"/>; a store that can stream overrides it (<see cref="DirectoryCheckpointStore"/> does).</remarks>
    public virtual async Task SaveAsync(long id, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(write);
        using var buffer = new MemoryStream();
        await write(buffer, cancellationToken).ConfigureAwait(false);
        await SaveAsync(id, buffer.GetBuffer().AsMemory(0, (int)buffer.Length), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Lists the stored checkpoints, newest first.</summary>
    /// <returns>The ids.</returns>
    public abstract IReadOnlyList<long> List();

    /// <summary>Reads one checkpoint.</summary>
    /// <param name="id">The checkpoint's number.</param>
    /// <param name="cancellationToken">Stops the read.</param>
    /// <returns>The bytes.</returns>
    public abstract Task<byte[]> LoadAsync(long id, CancellationToken cancellationToken);

    /// <summary>Gets how a checkpoint is named in messages (a file path).</summary>
    /// <param name="id">The checkpoint's number.</param>
    /// <returns>The name.</returns>
    public abstract string Describe(long id);

    /// <summary>Takes the store for one job until the result is disposed, so that two jobs never write over each other's checkpoints.</summary>
    /// <param name="owner">Names the job in the error another job gets.</param>
    /// <param name="warn">Receives what the store had to do to take the lock (for example take over one left by a crashed process).</param>
    /// <returns>The lock, or <see langword="null"/> when the store needs none (the default).</returns>
    /// <exception cref="IOException">Another job holds the store; the message names it.</exception>
    public virtual IDisposable? Acquire(string owner, Action<string> warn) => null;
}

/// <summary>
/// Checkpoints as files in a directory: each written to a temporary file, flushed to disk, then renamed into place, so a crash
/// leaves either the whole checkpoint or none; only the newest <see cref="Retain"/> are kept. A running job holds the directory
/// through the lock file <c>job.lock</c> (its process id, host and name), so a second job on it fails with a message naming the first.
/// </summary>
public sealed class DirectoryCheckpointStore : CheckpointStore
{
    private const string Extension = ".lsqc";

    /// <summary>Initializes a new instance of the <see cref="DirectoryCheckpointStore"/> class.</summary>
    /// <param name="directory">The directory; created if missing.</param>
    public DirectoryCheckpointStore(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory = System.IO.Directory.CreateDirectory(directory).FullName;
    }

    /// <summary>Gets the directory.</summary>
    public string Directory { get; }

    /// <summary>Gets how many checkpoints to keep; older ones are deleted after a newer one is stored.</summary>
    /// <value>The default value is 3; at least 2, so a damaged newest checkpoint always has a predecessor.</value>
    public int Retain
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 2);
            field = value;
        }
    } = 3;

    /// <inheritdoc/>
    public override Task SaveAsync(long id, ReadOnlyMemory<byte> checkpoint, CancellationToken cancellationToken) =>
        SaveAsync(id, (file, token) => file.WriteAsync(checkpoint, token).AsTask(), cancellationToken);

    /// <inheritdoc/>
    /// <remarks>The bytes go straight into the temporary file, which is fsynced and then renamed into place.</remarks>
    public override async Task SaveAsync(long id, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(write);
        string final = PathOf(id);
        string temporary = Path.Combine(Directory, $".{id:D12}.{Guid.NewGuid():N}.tmp");
        try
        {
            await using var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024, FileOptions.Asynchronous);
            await write(file, cancellationToken).ConfigureAwait(false);
            await file.FlushAsync(cancellationToken).ConfigureAwait(false);
            file.Flush(flushToDisk: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }

        File.Move(temporary, final, overwrite: true);
        foreach (var old in List().Skip(Retain))
        {
            File.Delete(PathOf(old));
        }

        foreach (var stale in System.IO.Directory.EnumerateFiles(Directory, ".*.tmp"))
        {
            // Left by a crash in the middle of a write.
            if (!string.Equals(stale, temporary, StringComparison.Ordinal))
            {
                TryDelete(stale);
            }
        }
    }

    /// <inheritdoc/>
    public override IReadOnlyList<long> List()
    {
        var ids = new List<long>();
        foreach (var file in System.IO.Directory.EnumerateFiles(Directory, "*" + Extension))
        {
            if (long.TryParse(Path.GetFileNameWithoutExtension(file), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long id))
            {
                ids.Add(id);
            }
        }

        ids.Sort((a, b) => b.CompareTo(a));
        return ids;
    }

    /// <inheritdoc/>
    public override Task<byte[]> LoadAsync(long id, CancellationToken cancellationToken) => File.ReadAllBytesAsync(PathOf(id), cancellationToken);

    /// <inheritdoc/>
    public override string Describe(long id) => PathOf(id);

    /// <inheritdoc/>
    /// <remarks>
    /// Writes <c>job.lock</c> with this process's id, host and start time and <paramref name="owner"/>. A lock whose process is gone
    /// (same host; the id is not running, or runs another program) is taken over with a warning; a live one, or one from another
    /// host (whose process cannot be checked), fails with an <see cref="IOException"/> naming its job, process and host.
    /// </remarks>
    public override IDisposable? Acquire(string owner, Action<string> warn)
    {
        ArgumentNullException.ThrowIfNull(owner);
        ArgumentNullException.ThrowIfNull(warn);
        return DirectoryCheckpointLock.Acquire(Directory, owner, warn);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Another writer's file, or already gone.
        }
    }

    private string PathOf(long id) => Path.Combine(Directory, id.ToString("D12", System.Globalization.CultureInfo.InvariantCulture) + Extension);
}
