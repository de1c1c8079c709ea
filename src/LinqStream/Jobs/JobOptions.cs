namespace LinqStream;

/// <summary>How a job checkpoints, restores and where its rejected records go.</summary>
public sealed record JobOptions
{
    /// <summary>Gets where checkpoints are kept; the job restores from the newest valid one when it starts.</summary>
    /// <value>The default value is <see langword="null"/>: no automatic checkpoints (<see cref="QueryJob{T}.CheckpointAsync(Stream, CancellationToken)"/> still works).</value>
    public CheckpointStore? Checkpoints { get; init; }

    /// <summary>Gets the processing time between automatic checkpoints.</summary>
    /// <value>The default value is <see langword="null"/> (no timed checkpoints).</value>
    public TimeSpan? CheckpointInterval { get; init; }

    /// <summary>Gets the number of input events between automatic checkpoints.</summary>
    /// <value>The default value is <see langword="null"/> (no counted checkpoints).</value>
    public long? CheckpointEveryEvents { get; init; }

    /// <summary>Gets a checkpoint to start from instead of the store's newest (read once, when the job starts).</summary>
    public Stream? RestoreFrom { get; init; }

    /// <summary>Gets where rejected records go (malformed input, events skipped by <see cref="QueryOptions.OnError"/>); committed with checkpoints like the results.</summary>
    /// <value>
    /// The default value is <see langword="null"/>: the query's own <see cref="QueryOptions.DeadLetters"/> receives the records the query
    /// rejects (not committed with checkpoints), and without that the first rejected record stops the job with an error naming it.
    /// </value>
    public EventSink<DeadLetter>? DeadLetters { get; init; }

    /// <summary>Gets the metrics that measure the job (instruments of the meter <see cref="JobMetrics.MeterName"/>, and snapshots for dashboards).</summary>
    /// <value>The default value is <see langword="null"/>: nothing is measured and nothing is added between operators.</value>
    public JobMetrics? Metrics { get; init; }

    /// <summary>Gets where the job keeps keyed operator state: <see cref="StateBackend.Heap"/>, or the RocksDB backend of <c>LinqStream.State.RocksDb</c>.</summary>
    /// <value>The default value is <see langword="null"/>: <see cref="StateBackend.Heap"/>.</value>
    /// <remarks>The backend is opened when the job is built and closed when it is disposed; see docs/state.md.</remarks>
    public StateBackend? State { get; init; }

    /// <summary>Gets what runs the keyed aggregate's tasks on other machines (set by <c>LinqStream.Orleans</c> for a job spread over silos); null runs them on this process's threads.</summary>
    internal Parallel.IParallelRunHost? ParallelHost { get; init; }

    /// <summary>Gets the number of tasks the job's keyed window aggregate runs on, overriding <see cref="QueryOptions.Parallelism"/>.</summary>
    /// <value>The default value is <see langword="null"/>: the query's own <see cref="QueryOptions.Parallelism"/>. Valid values are 1 to 1,024.</value>
    /// <remarks>
    /// Checkpoints are aligned barriers through the tasks' channels and keyed state is written per key group, so a checkpoint taken
    /// at one parallelism restores at any other (with the same <see cref="QueryOptions.KeyGroups"/>); see docs/parallelism.md.
    /// </remarks>
    public int? Parallelism
    {
        get;
        init
        {
            if (value is { } p)
            {
                ArgumentOutOfRangeException.ThrowIfLessThan(p, 1);
                ArgumentOutOfRangeException.ThrowIfGreaterThan(p, 1024);
            }

            field = value;
        }
    }
}

/// <summary>What a job promises about its output across a crash and restore.</summary>
public enum DeliveryGuarantee
{
    /// <summary>Every source replays from its position and the sink commits with checkpoints: no result lost, none repeated.</summary>
    ExactlyOnce,

    /// <summary>Every source replays, but the sink does not commit with checkpoints: results after the last checkpoint may repeat.</summary>
    AtLeastOnce,

    /// <summary>A source cannot replay: input after the last checkpoint is lost on restore.</summary>
    AtMostOnce,
}

/// <summary>The outcome of <see cref="QueryJob{T}.RunAsync"/>.</summary>
/// <param name="Results">The number of results written by this run.</param>
/// <param name="DeadLetters">The number of records rejected by this run.</param>
/// <param name="Checkpoints">The number of checkpoints this run took.</param>
/// <param name="RestoredFrom">The checkpoint the run started from, if any.</param>
/// <param name="Warnings">What went wrong without stopping the job (for example a damaged checkpoint that was skipped).</param>
public sealed record JobResult(long Results, long DeadLetters, long Checkpoints, long? RestoredFrom, IReadOnlyList<string> Warnings)
{
    /// <summary>Gets the number of events that arrived after the watermark had passed their time, in this run (since the start or the restore).</summary>
    /// <value>Counted whatever the <see cref="IngressPolicy"/>, with or without <see cref="IngressPolicy.Statistics"/>; 0 when none.</value>
    public long LateEvents { get; init; }

    /// <summary>Gets the number of late events dropped in this run (<see cref="IngressPolicy.Drop"/>).</summary>
    /// <value>0 when none.</value>
    public long LateEventsDropped { get; init; }

    /// <summary>Gets the number of late events moved to the watermark in this run (<see cref="IngressPolicy.Adjust"/>).</summary>
    /// <value>0 when none.</value>
    public long LateEventsAdjusted { get; init; }

    /// <summary>Gets the number of tasks the keyed aggregate ran on (1 when the query ran on one task, also when it could not be split).</summary>
    public int Parallelism { get; init; } = 1;

    /// <summary>Gets the 99th percentile of the checkpoint barriers' alignment time in this run: from the first task's barrier to the
    /// last one's at the merge in front of the sink.</summary>
    /// <value><see langword="null"/> when no barrier was aligned (parallelism 1, or no checkpoint while the tasks ran).</value>
    public TimeSpan? BarrierAlignmentP99 { get; init; }
}
