namespace LinqStream.Runtime.Checkpoints;

/// <summary>
/// A part whose <see cref="ICheckpointed.WriteState"/> is not a pure capture (a spilled aggregate's starts its store's checkpoint),
/// but whose checkpoint code can still be run once, writing nothing anywhere, before the query's first batch: so that the first
/// checkpoint does not pay the code's first run (JIT, type loads, codecs) inside the query's pause (issue #18: the first checkpoint's
/// 480 ms; <see cref="QueryJob{T}"/> warms every part before it starts).
/// </summary>
internal interface ICheckpointWarmup : ICheckpointed
{
    /// <summary>Runs the part's cut over its state as it is (on the query's thread, before the first batch), keeping nothing of it.</summary>
    void WarmCheckpointPath();
}
