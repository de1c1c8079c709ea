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
}
