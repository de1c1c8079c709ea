using LinqStream.Runtime.State;

namespace LinqStream;

/// <summary>Where a job keeps its keyed operator state (window and session accumulators per key): on the managed heap, or spilled to disk.</summary>
/// <remarks>
/// <see cref="Heap"/> is the default and today's code path. The RocksDB backend is in the package <c>LinqStream.State.RocksDb</c>
/// (<c>StateBackend.RocksDb(path)</c> once its namespace is imported): keyed session, tumbling and hopping window aggregates (and the window join's waiting events) keep a small set of hot keys on
/// the heap and the rest in RocksDB, and checkpoint incrementally. See docs/state.md.
/// </remarks>
public abstract class StateBackend
{
    internal StateBackend()
    {
    }

    /// <summary>Gets the backend that keeps all state on the managed heap (the default).</summary>
    public static StateBackend Heap { get; } = new HeapStateBackend();

    /// <summary>Gets the backend's name as shown in plans and progress ("heap", "rocksdb:DIR").</summary>
    public abstract string Name { get; }

    /// <inheritdoc/>
    public override string ToString() => Name;

    /// <summary>Opens the stores of one run; null keeps every operator on the heap.</summary>
    internal abstract IKeyedStateStoreFactory? OpenRun();

    private sealed class HeapStateBackend : StateBackend
    {
        public override string Name => "heap";

        internal override IKeyedStateStoreFactory? OpenRun() => null;
    }
}
