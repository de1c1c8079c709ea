using System.Text.Json;
using StackExchange.Redis;

namespace LinqStream.Orleans;

/// <summary>
/// The jobs of the cluster in Redis: the hash <c>{prefix}:jobs</c> (job id to <see cref="JobRecord"/> as JSON), each job's fence
/// <c>{prefix}:job:{id}:epoch</c> and its checkpoints under <c>{prefix}:job:{id}</c>. A running job's record is updated only under its
/// fence, so a zombie activation cannot overwrite what its successor recorded.
/// </summary>
internal sealed class JobRegistry : IDisposable
{
    private const string FencedSetScript = """
        if redis.call('GET', KEYS[2]) ~= ARGV[2] then return 0 end
        redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
        return 1
        """;

    // Takes the next epoch only if the fence still holds ARGV[1]: a coordinator that rolls its job back must not take the job
    // from a newer coordinator that already took it over.
    private const string RollScript = """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
        return redis.call('INCR', KEYS[1])
        """;

    private readonly Lazy<ConnectionMultiplexer> _connection;
    private readonly RedisKey _jobs;

    public JobRegistry(LinqStreamSiloOptions options)
    {
        Options = options;
        _jobs = options.KeyPrefix + ":jobs";
        _connection = new(() =>
        {
            var configuration = ConfigurationOptions.Parse(options.Redis);
            configuration.AbortOnConnectFail = false;
            return ConnectionMultiplexer.Connect(configuration);
        });
    }

    public LinqStreamSiloOptions Options { get; }

    private IDatabase Database => _connection.Value.GetDatabase();

    public string FenceKey(string jobId) => $"{Options.KeyPrefix}:job:{jobId}:epoch";

    public string CheckpointPrefix(string jobId) => $"{Options.KeyPrefix}:job:{jobId}";

    public async Task<JobRecord?> GetAsync(string jobId)
    {
        var value = await Database.HashGetAsync(_jobs, jobId).ConfigureAwait(false);
        return value.IsNull ? null : Parse(value!);
    }

    public async Task<IReadOnlyList<JobRecord>> ListAsync()
    {
        var entries = await Database.HashGetAllAsync(_jobs).ConfigureAwait(false);
        var records = new List<JobRecord>(entries.Length);
        foreach (var entry in entries)
        {
            records.Add(Parse(entry.Value!));
        }

        records.Sort((a, b) => string.CompareOrdinal(a.Status.JobId, b.Status.JobId));
        return records;
    }

    /// <summary>Writes a record without a fence (a new submission, made by the job's only grain activation).</summary>
    public Task PutAsync(JobRecord record) => Database.HashSetAsync(_jobs, record.Status.JobId, Serialize(record));

    /// <summary>Writes a record if <paramref name="fence"/> still holds its epoch; false when a newer activation took over.</summary>
    public async Task<bool> UpdateAsync(JobRecord record, RedisFence fence)
    {
        var written = await Database.ScriptEvaluateAsync(
            FencedSetScript,
            [_jobs, fence.Key],
            [record.Status.JobId, fence.Epoch, Serialize(record)]).ConfigureAwait(false);
        return (long)written == 1;
    }

    /// <summary>Takes the job's next epoch, fencing off every earlier activation.</summary>
    public Task<RedisFence> TakeEpochAsync(string jobId) => RedisFence.TakeAsync(Database, FenceKey(jobId));

    /// <summary>Takes the epoch after <paramref name="fence"/>'s if the fence still holds it (a rollback); null when a newer epoch holds the job.</summary>
    public async Task<RedisFence?> TakeNextEpochAsync(RedisFence fence)
    {
        var next = (long)await Database.ScriptEvaluateAsync(RollScript, [fence.Key], [fence.Epoch]).ConfigureAwait(false);
        return next < 0 ? null : new RedisFence(fence.Key, next);
    }

    /// <summary>Gets the epoch the job's fence holds now (0 when the job never started).</summary>
    public async Task<long> CurrentEpochAsync(string jobId)
    {
        var value = await Database.StringGetAsync(FenceKey(jobId)).ConfigureAwait(false);
        return value.IsNull ? 0 : (long)value;
    }

    public void Dispose()
    {
        if (_connection.IsValueCreated)
        {
            _connection.Value.Dispose();
        }
    }

    private static string Serialize(JobRecord record) => JsonSerializer.Serialize(record, ClusterJson.Default.JobRecord);

    private static JobRecord Parse(string json) =>
        JsonSerializer.Deserialize(json, ClusterJson.Default.JobRecord)
        ?? throw new InvalidDataException($"A job record in the registry is empty: {json}");
}
