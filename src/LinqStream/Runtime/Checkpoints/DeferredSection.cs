namespace LinqStream.Runtime.Checkpoints;

/// <summary>
/// A part whose checkpoint ends off the query's thread (a keyed aggregate on the RocksDB backend: the store's memtable flush and
/// hard links). Between two steps the job takes the part's consistent cut with <see cref="BeginWriteState"/>; the section's bytes
/// are written once <see cref="DeferredSection.Ready"/> completes, while the query goes on (docs/state.md, "The checkpoint at
/// parallelism 1").
/// </summary>
internal interface IDeferredCheckpointed : ICheckpointed
{
    /// <summary>Takes the part's state now (called on the query's thread, between steps, instead of <see cref="ICheckpointed.WriteState"/>).</summary>
    /// <returns>The section to write when it is ready; null when the part has no asynchronous part and wants <see cref="ICheckpointed.WriteState"/> called instead.</returns>
    DeferredSection? BeginWriteState();
}

/// <summary>A part's section whose bytes can be written once <see cref="Ready"/> has completed.</summary>
/// <param name="Ready">The asynchronous part of the snapshot; a fault fails the checkpoint. <see cref="Task.CompletedTask"/> itself when
/// the part has none (then the job writes the checkpoint file at once, on its loop).</param>
/// <param name="Write">Writes the section (same bytes as <see cref="ICheckpointed.WriteState"/> would have); called once, after <see cref="Ready"/>, on any thread.</param>
internal sealed record DeferredSection(Task Ready, Action<BinaryWriter> Write)
{
    /// <summary>Gets a value indicating whether the part has no asynchronous phase (<see cref="Ready"/> is <see cref="Task.CompletedTask"/>).</summary>
    public bool IsSynchronous => ReferenceEquals(Ready, Task.CompletedTask);
}
