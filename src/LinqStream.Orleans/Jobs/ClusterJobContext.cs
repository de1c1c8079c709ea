namespace LinqStream.Orleans;

/// <summary>
/// What a job definition gets on the silo that activates the job: the submission's parameters, this activation's epoch and fence,
/// and a checkpoint store in the shared Redis that refuses writes from older epochs.
/// </summary>
public sealed class ClusterJobContext
{
    private readonly IReadOnlyDictionary<string, string> _parameters;

    internal ClusterJobContext(string jobId, JobSubmission submission, RedisFence fence, string redis, RedisCheckpointStore checkpoints, JobMetrics metrics, IServiceProvider services, Tasks.ClusterParallelHost? host = null, string task = "job", CheckpointStore? writeThrough = null)
    {
        Host = host;
        TaskName = task;
        JobId = jobId;
        Definition = submission.Definition;
        _parameters = submission.Parameters;
        Fence = fence;
        Redis = redis;
        Checkpoints = checkpoints;
        Services = services;
        Options = new JobOptions
        {
            // The job writes through the write limit (TimedCheckpointStore) when the activation gives one.
            Checkpoints = writeThrough ?? checkpoints,
            CheckpointEveryEvents = submission.CheckpointEveryEvents,
            CheckpointInterval = submission.CheckpointInterval,
            Metrics = metrics,
            // Spread over silos: the keyed aggregate's tasks run as grains (docs/cluster.md, Milestone 2); the host builds this silo's part.
            Parallelism = host is null ? null : submission.Parallelism,
            ParallelHost = host,
        };
    }

    /// <summary>Gets what spreads the job's tasks over the silos, or null when the job runs in one grain.</summary>
    internal Tasks.ClusterParallelHost? Host { get; }

    /// <summary>Gets what this silo builds the job for: <c>job</c> (the whole job, or its coordinator), <c>source</c> or <c>task-{n}</c>.</summary>
    internal string TaskName { get; }

    /// <summary>Gets the job's id.</summary>
    public string JobId { get; }

    /// <summary>Gets the name of the job definition.</summary>
    public string Definition { get; }

    /// <summary>Gets the submission's parameters.</summary>
    public IReadOnlyDictionary<string, string> Parameters => _parameters;

    /// <summary>Gets this activation's epoch (1 for the first activation, one more for every take-over).</summary>
    public long Epoch => Fence.Epoch;

    /// <summary>Gets this activation's fence: give it to every transactional sink (<see cref="RedisStreamSinkOptions.Fence"/>).</summary>
    public RedisFence Fence { get; }

    /// <summary>Gets the configuration string of the cluster's Redis server.</summary>
    public string Redis { get; }

    /// <summary>Gets the job's checkpoint store, fenced by this activation's epoch.</summary>
    public RedisCheckpointStore Checkpoints { get; }

    /// <summary>Gets the job options the cluster runs the job with: the fenced store, the submission's checkpoint intervals and the metrics.</summary>
    public JobOptions Options { get; }

    /// <summary>Gets the silo's services.</summary>
    public IServiceProvider Services { get; }

    /// <summary>Gets a required parameter.</summary>
    /// <param name="name">The parameter's name.</param>
    /// <returns>Its value.</returns>
    /// <exception cref="ArgumentException">The submission has no such parameter.</exception>
    public string Parameter(string name) =>
        _parameters.TryGetValue(name, out var value)
            ? value
            : throw new ArgumentException(
                $"The job '{JobId}' (definition '{Definition}') needs the parameter '{name}', which the submission does not have. It has: {(_parameters.Count == 0 ? "none" : string.Join(", ", _parameters.Keys.Order(StringComparer.Ordinal)))}.",
                nameof(name));

    /// <summary>Binds the job's query to its sink with the cluster's <see cref="Options"/> (the fenced checkpoint store is always used).</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="query">The job's query.</param>
    /// <param name="sink">Where the results go; a <see cref="RedisStreamSink{T}"/> must be fenced with <see cref="Fence"/>.</param>
    /// <param name="deadLetters">Where rejected records go, committed with the checkpoints; or <see langword="null"/>.</param>
    /// <returns>The job, for the grain to run.</returns>
    /// <exception cref="InvalidOperationException">A Redis sink is not fenced by this activation: a zombie could write through it.</exception>
    public ClusterJobRun Run<T>(IQStream<T> query, EventSink<T> sink, EventSink<DeadLetter>? deadLetters = null)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(sink);
        var warnings = new List<string>();
        CheckFenced(sink, (sink as RedisStreamSink<T>)?.Fence, warnings);
        if (deadLetters is not null)
        {
            CheckFenced(deadLetters, (deadLetters as RedisStreamSink<DeadLetter>)?.Fence, warnings);
        }

        var job = query.ToJob(sink, Options with { DeadLetters = deadLetters });
        return new ClusterJobRun(
            token => job.RunAsync(token),
            () => job.LastCheckpointId,
            job,
            job.Guarantee,
            job.GuaranteeReason,
            warnings);
    }

    private void CheckFenced<TItem>(EventSink<TItem> sink, RedisFence? fence, List<string> warnings)
    {
        if (sink is RedisStreamSink<TItem>)
        {
            if (fence != Fence)
            {
                throw new InvalidOperationException(
                    $"The sink {sink.Name} of job '{JobId}' is not fenced by this activation (epoch {Epoch}), so an activation declared dead could still write to it. Create it with new RedisStreamSinkOptions {{ Fence = context.Fence }}.");
            }
        }
        else if (sink.IsTransactional)
        {
            warnings.Add($"The sink {sink.Name} cannot be fenced: an activation declared dead may still write to it until it notices (only Redis stream sinks are fenced).");
        }
    }
}
