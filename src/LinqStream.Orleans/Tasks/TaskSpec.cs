namespace LinqStream.Orleans.Tasks;

/// <summary>
/// What the coordinator tells a task grain to run for one epoch of a job spread over silos: the job's definition and parameters
/// (every silo builds the same query from them), which task it is, where the other tasks are, and the state to restore.
/// </summary>
[GenerateSerializer]
[Alias("LinqStream.Orleans.TaskSpec")]
internal sealed record TaskSpec
{
    /// <summary>The index of a source task in <see cref="Index"/> (which one: <see cref="SourceIndex"/>); keyed tasks are 0 to <see cref="Parallelism"/> - 1.</summary>
    public const int SourceTask = -1;

    /// <summary>Gets the job's id.</summary>
    [Id(0)]
    public required string JobId { get; init; }

    /// <summary>Gets the epoch: every channel of the run is opened for it, and the task stops when the job's fence holds a newer one.</summary>
    [Id(1)]
    public required long Epoch { get; init; }

    /// <summary>Gets the job's submission (definition and parameters).</summary>
    [Id(2)]
    public required JobSubmission Submission { get; init; }

    /// <summary>Gets the number of keyed tasks.</summary>
    [Id(3)]
    public required int Parallelism { get; init; }

    /// <summary>Gets which task this is: <see cref="SourceTask"/>, or a keyed task's index.</summary>
    [Id(4)]
    public required int Index { get; init; }

    /// <summary>Gets the grain keys of the keyed tasks, by index.</summary>
    [Id(6)]
    public required string[] TaskKeys { get; init; }

    /// <summary>Gets the grain key of the merge's channel endpoint (on the coordinator's silo).</summary>
    [Id(7)]
    public required string MergeKey { get; init; }

    /// <summary>Gets the checkpoint's aggregate section (keyed tasks load their key groups from it), or null to start empty.</summary>
    [Id(8)]
    public byte[]? AggregateState { get; init; }

    /// <summary>
    /// Gets this source task's share of the checkpoint's parts below the aggregate, or null to start at the beginning: the parts
    /// themselves with one source task; with several, its union's share of the union over all partitions, then its partitions' parts.
    /// </summary>
    [Id(9)]
    public byte[][]? SourceState { get; init; }

    /// <summary>Gets which source task this is (0 to <see cref="SourceCount"/> - 1), when <see cref="Index"/> is <see cref="SourceTask"/>.</summary>
    [Id(10)]
    public int SourceIndex { get; init; }

    /// <summary>Gets the number of source tasks: 1, or one per group of the input's partitions (min(partitions, <see cref="Parallelism"/>)).</summary>
    [Id(11)]
    public int SourceCount { get; init; } = 1;

    /// <summary>Gets, for a keyed task restoring a job with several source tasks, the watermark its union had already sent (null: start fresh).</summary>
    [Id(12)]
    public long? UnionWatermark { get; init; }

    /// <summary>Gets the task's name in messages and its channel names: <c>source</c> (or <c>source-{n}</c> of several) or <c>task-{index}</c>.</summary>
    public string Name => Index == SourceTask ? SourceName(SourceIndex, SourceCount) : TaskName(Index);

    /// <summary>Gets a keyed task's name.</summary>
    public static string TaskName(int index) => $"task-{index}";

    /// <summary>Gets the number of source tasks that read <paramref name="inputs"/> (a union's partitions when <paramref name="partitioned"/>) for <paramref name="parallelism"/> keyed tasks.</summary>
    public static int SourceTasksFor(int inputs, bool partitioned, int parallelism) => partitioned ? Math.Max(1, Math.Min(inputs, parallelism)) : 1;

    /// <summary>Gets source task <paramref name="index"/>'s name: <c>source</c> when it is the only one, <c>source-{index}</c> of several.</summary>
    public static string SourceName(int index, int count) => count == 1 ? "source" : $"source-{index}";
}

/// <summary>Where a task of one epoch is.</summary>
internal enum TaskRunState : byte
{
    /// <summary>The grain runs nothing for the epoch asked about (it was never started here, or lost its state with its silo).</summary>
    NotRunning,

    /// <summary>The task runs.</summary>
    Running,

    /// <summary>The task sent everything (its completion or its query's error) and the receivers hold it.</summary>
    Ended,

    /// <summary>The task could not go on (a channel refused it, a call failed for good): the job must roll back.</summary>
    Failed,
}

/// <summary>A task's answer to the coordinator's poll: its state and, for the source task, how far it read.</summary>
[GenerateSerializer]
[Alias("LinqStream.Orleans.TaskProgress")]
internal readonly record struct TaskProgress(
    [property: Id(0)] TaskRunState State,
    [property: Id(1)] long EventsRead,
    [property: Id(2)] long LateEvents,
    [property: Id(3)] long MaxEventTime,
    [property: Id(4)] string? Error);
