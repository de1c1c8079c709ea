namespace LinqStream.State.RocksDb;

/// <summary>Adds <c>StateBackend.RocksDb(path)</c>.</summary>
public static class RocksDbStateBackendExtensions
{
    extension(StateBackend)
    {
        /// <summary>Keeps keyed operator state in RocksDB under <paramref name="path"/>, with incremental checkpoints (docs/state.md).</summary>
        /// <param name="path">The state directory.</param>
        /// <param name="hotKeys">How many sessions, or (window, key) groups, a keyed operator keeps on the heap (default 65,536).</param>
        /// <returns>The backend, for <c>JobOptions.State</c>.</returns>
        public static RocksDbStateBackend RocksDb(string path, int hotKeys = 65_536) => new(path) { HotKeys = hotKeys };
    }
}
