namespace LinqStream.Orleans;

/// <summary>A job's state and progress, as its grain reports it.</summary>
[GenerateSerializer]
[Alias("LinqStream.Orleans.JobStatus")]
public sealed record JobStatus
{
    /// <summary>Gets the job's id (the grain's key).</summary>
    [Id(0)]
    public required string JobId { get; init; }

    /// <summary>Gets the job definition it runs.</summary>
    [Id(1)]
    public required string Definition { get; init; }

    /// <summary>Gets the state.</summary>
    [Id(2)]
    public JobState State { get; init; }

    /// <summary>Gets the epoch of the activation that runs (or last ran) the job: 1 for the first, one more for every take-over.</summary>
    [Id(3)]
    public long Epoch { get; init; }

    /// <summary>Gets the silo that runs (or last ran) the job.</summary>
    [Id(4)]
    public string? Silo { get; init; }

    /// <summary>Gets the events read by the current activation (since its restore).</summary>
    [Id(5)]
    public long EventsIn { get; init; }

    /// <summary>Gets the events read per second over the last sample interval.</summary>
    [Id(6)]
    public double EventsPerSecond { get; init; }

    /// <summary>Gets the latest event time read minus the watermark.</summary>
    [Id(7)]
    public TimeSpan? WatermarkLag { get; init; }

    /// <summary>Gets the id of the last checkpoint taken or restored (0 before any).</summary>
    [Id(8)]
    public long LastCheckpoint { get; init; }

    /// <summary>Gets the time since the last checkpoint was stored, while the job runs.</summary>
    [Id(9)]
    public TimeSpan? LastCheckpointAge { get; init; }

    /// <summary>Gets the checkpoint the current activation restored from, if any.</summary>
    [Id(10)]
    public long? RestoredFrom { get; init; }

    /// <summary>Gets why the job failed.</summary>
    [Id(11)]
    public string? Error { get; init; }

    /// <summary>Gets the results written by the activation that completed the job (once <see cref="JobState.Completed"/>).</summary>
    [Id(12)]
    public long Results { get; init; }

    /// <summary>Gets when the current activation started the job (the silo's <see cref="TimeProvider"/>).</summary>
    [Id(13)]
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>Gets whether the job will not change any more (completed, failed or cancelled).</summary>
    public bool IsFinished => State is JobState.Completed or JobState.Failed or JobState.Cancelled;
}
