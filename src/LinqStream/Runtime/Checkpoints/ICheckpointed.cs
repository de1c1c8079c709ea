namespace LinqStream.Runtime.Checkpoints;

/// <summary>A part of a running query that keeps state between batches: an operator, or a source's position and reorder buffer.</summary>
/// <remarks>
/// Parts register with <see cref="QueryContext.Checkpointed"/> as they are wired, so the same query always lists them in the same
/// order; a checkpoint writes them in that order and a restore reads them back into the fresh parts of the new run.
/// </remarks>
internal interface ICheckpointed
{
    /// <summary>Gets the part's kind as written into the checkpoint, checked on restore (e.g. <c>TumblingAggregate</c>).</summary>
    string CheckpointName { get; }

    /// <summary>Writes the part's state. Called on the query's thread, between steps, so nothing is half-done.</summary>
    void WriteState(BinaryWriter writer);

    /// <summary>Loads a state written by <see cref="WriteState"/> into this fresh part, before the query runs.</summary>
    void ReadState(BinaryReader reader);
}
