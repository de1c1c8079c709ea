namespace LinqStream.Orleans;

/// <summary>What a silo needs to run LinqStream jobs: the shared Redis, and the job definitions (the same on every silo).</summary>
public sealed class LinqStreamSiloOptions
{
    private readonly Dictionary<string, Func<ClusterJobContext, ClusterJobRun>> _definitions = new(StringComparer.Ordinal);

    /// <summary>Gets or sets the StackExchange.Redis configuration string of the server that holds the job registry, the fences and the checkpoints.</summary>
    /// <value>Required; every silo of the cluster must name the same server.</value>
    public string Redis { get; set; } = "";

    /// <summary>Gets or sets the prefix of every Redis key LinqStream writes (<c>{prefix}:jobs</c>, <c>{prefix}:job:{id}:...</c>).</summary>
    /// <value>The default value is <c>linqstream</c>.</value>
    public string KeyPrefix { get; set; } = "linqstream";

    /// <summary>Gets or sets how often each silo's supervisor looks for running jobs and makes sure each one's grain is active.</summary>
    /// <value>The default value is 1 second; with the membership's failure detection this bounds how soon a job resumes after its silo died.</value>
    public TimeSpan SuperviseInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets the registered job definitions' names.</summary>
    public IReadOnlyCollection<string> Definitions => _definitions.Keys;

    /// <summary>Registers a job definition: a named factory that builds the job's query and sink from a submission's parameters.</summary>
    /// <param name="name">The name submissions use (<see cref="JobSubmission.Definition"/>).</param>
    /// <param name="factory">Builds the job; call <see cref="ClusterJobContext.Run{T}"/> with the query and a sink fenced by <see cref="ClusterJobContext.Fence"/>.</param>
    /// <returns>These options.</returns>
    /// <exception cref="ArgumentException">A definition with this name exists.</exception>
    public LinqStreamSiloOptions AddJob(string name, Func<ClusterJobContext, ClusterJobRun> factory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(factory);
        if (!_definitions.TryAdd(name, factory))
        {
            throw new ArgumentException($"A job definition named '{name}' is already registered.", nameof(name));
        }

        return this;
    }

    /// <summary>Gets or sets what a job's checkpoint writes go through below the write limit, by job id (tests: a store that stalls).</summary>
    internal Func<string, CheckpointStore, CheckpointStore>? CheckpointStoreBelowLimit { get; set; }

    internal Func<ClusterJobContext, ClusterJobRun>? Find(string name) => _definitions.GetValueOrDefault(name);
}
