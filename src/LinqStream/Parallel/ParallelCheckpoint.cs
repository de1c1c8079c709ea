using LinqStream.Runtime.Checkpoints;

namespace LinqStream.Parallel;

/// <summary>
/// How a job checkpoints one parallel part of a query: it asks for a barrier, every source task writes its parts and sends the
/// barrier after its data, each task writes its key groups when the barrier has come from all its open inputs (aligned) and passes it on, and the merge stops
/// taking from a task once its barrier is there until every task's is (aligned); then the job writes the rest of the plan
/// and the sink, and releases the barrier.
/// </summary>
internal interface IParallelCheckpoint
{
    /// <summary>Gets the checkpoint name of the aggregate the tasks run (as it is at parallelism 1).</summary>
    string AggregateName { get; }

    /// <summary>Gets the checkpoint names of the parts below the aggregate, as parallelism 1 lists them (a split union first, as one union).</summary>
    IReadOnlyList<string> SourcePartNames { get; }

    /// <summary>Gets a value indicating whether the merge has the barrier from every task (and has passed everything before it on).</summary>
    bool IsAligned { get; }

    /// <summary>Gets the alignment of the last aligned barrier as Flink defines it: the longest time from the first input's barrier
    /// to the last one's at any task of the part (the merge over the tasks, a task over its source tasks).</summary>
    TimeSpan LastAlignment { get; }

    /// <summary>Gets when each barrier asked for so far passed each point of the part (diagnostics; empty when not recorded).</summary>
    IReadOnlyList<BarrierTimeline> Timelines => [];

    /// <summary>Gets a value indicating whether every task has ended (the input ran out).</summary>
    bool HasEnded { get; }

    /// <summary>Gets the late events counted by the source tasks' ingress (one count per source task).</summary>
    IEnumerable<Runtime.Ingress.LateEventCounts> LateEventCounts { get; }

    /// <summary>Gets or sets what source task s calls after each of its steps with the events its sources have read so far (the job's
    /// CheckpointEveryEvents: the merge may have nothing to give the job's loop for a long time); a part without source tasks calls nothing.</summary>
    Action<int, long>? SourceStepped
    {
        get => null;
        set { }
    }

    void RequestBarrier(long id);

    void ReleaseBarrier();

    (byte[] Aggregate, byte[][] Sources) StateAtBarrier();

    (byte[] Aggregate, byte[][] Sources) StateAtEnd();

    /// <summary>As <see cref="StateAtBarrier"/>, with the aggregate's section written once its tasks' slices are ready: a keyed
    /// aggregate on the RocksDB backend ends its store's checkpoint off the task's thread, and the job writes the file when that
    /// ends instead of waiting for it (docs/state.md, "The checkpoint at parallelism above 1"). Called on the job's thread.</summary>
    /// <returns>The aggregate's section to write when it is ready, and the parts below it (written now).</returns>
    (DeferredSection Aggregate, byte[][] Sources) BeginStateAtBarrier()
    {
        var (aggregate, sources) = StateAtBarrier();
        return (new DeferredSection(Task.CompletedTask, writer => writer.Write(aggregate)), sources);
    }

    /// <summary>As <see cref="StateAtEnd"/>, with the aggregate's section written once it is ready (see <see cref="BeginStateAtBarrier"/>).</summary>
    /// <returns>The aggregate's section to write when it is ready, and the parts below it (written now).</returns>
    (DeferredSection Aggregate, byte[][] Sources) BeginStateAtEnd()
    {
        var (aggregate, sources) = StateAtEnd();
        return (new DeferredSection(Task.CompletedTask, writer => writer.Write(aggregate)), sources);
    }

    void Restore(byte[] aggregate, IReadOnlyList<byte[]> sources);

    /// <summary>
    /// Before the part starts (on the job's thread, after a restore): runs the checkpoint code its source tasks and tasks run at a
    /// barrier once over their state as it is, keeping nothing, so that the first barrier does not pay the code's first run (JIT,
    /// the state codec's reflection and metadata) on a task's thread, where it delays that task's barrier and so the alignment
    /// (<see cref="Runtime.Checkpoints.ICheckpointWarmup"/> does the same for parallelism 1's parts). Nothing by default.
    /// </summary>
    void WarmCheckpointPath()
    {
    }
}

/// <summary>
/// Stands in <see cref="Runtime.QueryContext.Checkpointed"/> where a parallel part's aggregate would be at parallelism 1, so the
/// job writes and reads the same list of sections at every parallelism. It has no state of its own to write directly.
/// </summary>
internal sealed class ParallelStatePart(IParallelCheckpoint run) : ICheckpointed
{
    public IParallelCheckpoint Run { get; } = run;

    public string CheckpointName => Run.AggregateName;

    public void WriteState(BinaryWriter writer) =>
        throw new InvalidOperationException("A parallel part is checkpointed with a barrier (QueryJob), not written directly.");

    public void ReadState(BinaryReader reader) =>
        throw new InvalidOperationException("A parallel part is restored by QueryJob, section by section.");
}

/// <summary>A dead-letter sink that takes each letter with the last checkpoint barrier its writer had passed (the job's buffer).</summary>
internal interface IEpochDeadLetterSink : IDeadLetterSink
{
    /// <summary>Takes <paramref name="letter"/>, written after barrier <paramref name="epoch"/> and before the next (0 before any).</summary>
    void Write(DeadLetter letter, long epoch);
}

/// <summary>
/// The dead letters of one task of a parallel run (a source task or an aggregate task), tagged with the last checkpoint barrier
/// that task has passed, so a job commits with a checkpoint exactly the letters of the input before its barrier. The epoch
/// belongs to the task, not to a thread: a source task over a live source steps on whatever pool thread its awaits resume on.
/// </summary>
internal sealed class TaskDeadLetters(IDeadLetterSink shared) : IDeadLetterSink
{
    private readonly IEpochDeadLetterSink? _tagged = shared as IEpochDeadLetterSink;
    private long _epoch;

    /// <summary>The task has passed barrier <paramref name="barrier"/>: its letters from here on come after it.</summary>
    public void Passed(long barrier) => Volatile.Write(ref _epoch, barrier);

    public void Write(DeadLetter letter)
    {
        if (_tagged is not null)
        {
            _tagged.Write(letter, Volatile.Read(ref _epoch));
        }
        else
        {
            shared.Write(letter); // a sink of the caller's, serialized across the tasks (LockedDeadLetters)
        }
    }
}
