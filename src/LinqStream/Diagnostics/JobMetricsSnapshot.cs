namespace LinqStream;

/// <summary>Every measurement of a job at one moment (<see cref="JobMetrics.Snapshot"/>).</summary>
/// <param name="Job">The job's name.</param>
/// <param name="Time">When the snapshot was read.</param>
/// <param name="EventsIn">Events read from the sources.</param>
/// <param name="EventsOut">Results written to the sink.</param>
/// <param name="EventsPerSecond">Events read per second over the last sample interval.</param>
/// <param name="ResultsPerSecond">Results written per second over the last sample interval.</param>
/// <param name="Watermark">The job's watermark (the lowest of its sources'), or null before the first one and after the end.</param>
/// <param name="WatermarkLag">The latest event time read minus the watermark, or null before the first watermark.</param>
/// <param name="LateEvents">Events later than the ingress policy allows.</param>
/// <param name="DeadLetters">Records rejected into the dead letters.</param>
/// <param name="StateBytes">Bytes of state in the last checkpoint (0 before the first).</param>
/// <param name="BackpressureBlocked">Time the sources' readers waited on full queues.</param>
/// <param name="Operators">Each node of the physical plan, the root (the last operator) first.</param>
/// <param name="Sources">Each source reader.</param>
/// <param name="Checkpoints">The most recent checkpoints (up to 50), oldest first.</param>
/// <param name="LastCheckpointAge">Time since the last checkpoint, or null before the first.</param>
/// <param name="RecentDeadLetters">The most recent dead letters (up to 50), oldest first.</param>
public sealed record JobMetricsSnapshot(
    string Job,
    DateTimeOffset Time,
    long EventsIn,
    long EventsOut,
    double EventsPerSecond,
    double ResultsPerSecond,
    DateTimeOffset? Watermark,
    TimeSpan? WatermarkLag,
    long LateEvents,
    long DeadLetters,
    long StateBytes,
    TimeSpan BackpressureBlocked,
    IReadOnlyList<OperatorMetrics> Operators,
    IReadOnlyList<SourceMetrics> Sources,
    IReadOnlyList<CheckpointMetrics> Checkpoints,
    TimeSpan? LastCheckpointAge,
    IReadOnlyList<DeadLetter> RecentDeadLetters);

/// <summary>One node of a job's physical plan, as measured.</summary>
/// <param name="Id">The node's number: 0 is the root, then inputs depth first (the <c>operator</c> tag is "Id Name").</param>
/// <param name="Name">The operator's name as <c>Explain()</c> prints it.</param>
/// <param name="Detail">What <c>Explain()</c> prints after the name.</param>
/// <param name="Inputs">The ids of the nodes that feed this one.</param>
/// <param name="EventsIn">Events that reached the operator (for a source node, events read).</param>
/// <param name="EventsOut">Events the operator sent on.</param>
/// <param name="EventsPerSecond">Events sent on per second over the last sample interval.</param>
/// <param name="Watermark">The last watermark the operator sent on.</param>
/// <param name="BackpressureBlocked">For a source node, the time its reader waited on a full queue; zero for the others.</param>
public sealed record OperatorMetrics(
    int Id, string Name, string Detail, IReadOnlyList<int> Inputs, long EventsIn, long EventsOut, double EventsPerSecond, DateTimeOffset? Watermark, TimeSpan BackpressureBlocked);

/// <summary>One source reader of a job, as measured.</summary>
/// <param name="Name">The source's name.</param>
/// <param name="EventsRead">Events read.</param>
/// <param name="LateEvents">Events later than the ingress policy allows.</param>
/// <param name="Watermark">The source's watermark.</param>
/// <param name="BackpressureBlocked">Time the reader waited on a full queue.</param>
/// <param name="Completed">Whether the source has ended.</param>
public sealed record SourceMetrics(string Name, long EventsRead, long LateEvents, DateTimeOffset? Watermark, TimeSpan BackpressureBlocked, bool Completed);

/// <summary>One checkpoint a job took.</summary>
/// <param name="Id">The checkpoint's id.</param>
/// <param name="Time">When it was stored.</param>
/// <param name="Duration">Time to take and store it.</param>
/// <param name="Bytes">Its size.</param>
public sealed record CheckpointMetrics(long Id, DateTimeOffset Time, TimeSpan Duration, long Bytes)
{
    /// <summary>Gets the time the checkpoint's barrier took to align at the merge (from the first task's barrier to the last one's).</summary>
    /// <value><see langword="null"/> at parallelism 1, where a checkpoint is taken between two steps of the one task.</value>
    public TimeSpan? BarrierAlignment { get; init; }
}
