namespace LinqStream.Orleans;

/// <summary>
/// What a client sends to run a job on the cluster: the name of a job definition registered on every silo
/// (<see cref="LinqStreamSiloOptions.AddJob"/>) and the parameters that definition reads. A query is code, so it never travels: each
/// silo builds it from its own definition and these values.
/// </summary>
[GenerateSerializer]
[Alias("LinqStream.Orleans.JobSubmission")]
public sealed record JobSubmission
{
    /// <summary>Gets the name of the job definition.</summary>
    [Id(0)]
    public required string Definition { get; init; }

    /// <summary>Gets the definition's parameters (source and sink addresses, a script's text, sizes).</summary>
    /// <value>The default value is empty.</value>
    [Id(1)]
    public Dictionary<string, string> Parameters { get; init; } = [];

    /// <summary>Gets the number of input events between checkpoints.</summary>
    /// <value>The default value is 10,000.</value>
    [Id(2)]
    public long? CheckpointEveryEvents { get; init; } = 10_000;

    /// <summary>Gets the processing time between checkpoints.</summary>
    /// <value>The default value is 5 seconds.</value>
    [Id(3)]
    public TimeSpan? CheckpointInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets the number of keyed tasks the job's keyed window aggregate runs on, spread over the silos as grains.</summary>
    /// <value>
    /// The default value is <see langword="null"/>: the job runs in one grain (its query's own <see cref="QueryOptions.Parallelism"/>
    /// tasks run inside it). Valid values are 1 to 1,024. A checkpoint taken at one value restores at any other.
    /// </value>
    /// <remarks>
    /// The job's grain is the coordinator: it runs the merge, the rest of the plan and the sink, and places one source task and this
    /// many keyed tasks on the silos, connected by cross-silo channels; checkpoints are aligned barriers, and when a task is lost the
    /// whole job rolls back to its last complete checkpoint under a new epoch (docs/cluster.md, Milestone 2).
    /// </remarks>
    [Id(4)]
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

    /// <summary>
    /// Gets how long, at most, the events sent from one task to another on a different silo wait to be joined by more before they
    /// go (a job spread over silos: <see cref="Parallelism"/>).
    /// </summary>
    /// <value>The default value is 20 milliseconds. Valid values are zero (each batch as it comes, a watermark on its own) to 10 seconds.</value>
    /// <remarks>
    /// The hash exchange splits each step's batch over the keyed tasks, so the pieces on one channel are small (about a sixth of a
    /// batch at 6 tasks); each cross-silo frame costs a grain call's share and the receiver's work per batch. A channel therefore
    /// fills one frame with the events of several pieces, up to the job's batch size, and carries the last watermark among them
    /// after them; it sends the frame when it is full, before a checkpoint barrier or the end, or when it has waited this long.
    /// Each crossing (source task to keyed task, keyed task to the coordinator) adds at most this much latency (docs/cluster.md).
    /// </remarks>
    [Id(5)]
    public TimeSpan FrameLinger
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, TimeSpan.FromSeconds(10));
            field = value;
        }
    } = TimeSpan.FromMilliseconds(20);

    /// <summary>Gets how long a checkpoint's write to the store may take before the job gives up on it and rolls back.</summary>
    /// <value>The default value is 30 seconds. Valid values are more than zero and at most 1 hour.</value>
    /// <remarks>
    /// A write that takes longer (a stalled or overloaded store), or that the store itself abandons with a timeout (StackExchange.Redis
    /// gives up after 5 s by default), does not fail the job: the job rolls back to its last complete checkpoint under a new epoch,
    /// as when a task is lost, and goes on from there (at most 10 rollbacks in a row, then it is recorded Failed). The write left
    /// behind is cancelled, and the new epoch's fence refuses it should it still arrive. The limit covers only the store's write: the
    /// checkpoint is assembled in memory first (docs/cluster.md, "A checkpoint write that times out").
    /// </remarks>
    [Id(6)]
    public TimeSpan CheckpointWriteTimeout
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(value, TimeSpan.Zero);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, TimeSpan.FromHours(1));
            field = value;
        }
    } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets a value indicating whether the events a job spread over silos sends to its keyed tasks carry only the members the keyed
    /// aggregate reads (its key selector and aggregates), when its plan allows (a projection below the exchange).
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    /// <remarks>
    /// The answers do not change: the keyed tasks build each event with the other members at their defaults, and nothing after the
    /// aggregate sees the events. The plan's <c>Explain()</c> says which members would cross, or why whole events must; the job's
    /// coordinator logs what does (docs/cluster.md, "Projection below the exchange"). Set it to false to send whole events.
    /// </remarks>
    [Id(7)]
    public bool ProjectExchange { get; init; } = true;
}
