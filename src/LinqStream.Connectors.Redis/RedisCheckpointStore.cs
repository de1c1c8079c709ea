using LinqStream.Connectors.Redis;
using StackExchange.Redis;

namespace LinqStream;

/// <summary>
/// Checkpoints as Redis strings (<c>{prefix}:ckpt:{id}</c>, listed in the sorted set <c>{prefix}:ckpts</c>), so every machine that
/// reaches the server can restore a job; with a <see cref="Fence"/> a checkpoint is stored only while the fence holds this store's
/// epoch, checked in the script that writes it.
/// </summary>
/// <remarks>
/// A checkpoint is one <c>SET</c> inside a script (atomic: a reader sees all of it or nothing); only the newest <see cref="Retain"/>
/// are kept. Durability is the server's (<c>appendonly yes</c>, <c>appendfsync always</c>). A Redis string holds at most 512 MB, so
/// a larger checkpoint fails to store (and the job with it) with the server's error. The store needs no lock
/// (<see cref="CheckpointStore.Acquire"/>): the fence is what keeps two writers apart.
/// </remarks>
public sealed class RedisCheckpointStore : CheckpointStore, IDisposable
{
    // KEYS[1] = the checkpoint's key, KEYS[2] = the index, KEYS[3] = the fence's key; ARGV[1] = the id, ARGV[2] = the bytes,
    // ARGV[3] = the epoch ('' when unfenced), ARGV[4] = how many to keep, ARGV[5] = the key prefix of checkpoints.
    private static readonly string s_saveScript = RedisFence.Check(fenceKey: 3, epochArg: 3) + """

        redis.call('SET', KEYS[1], ARGV[2])
        redis.call('ZADD', KEYS[2], ARGV[1], ARGV[1])
        local old = redis.call('ZREVRANGE', KEYS[2], tonumber(ARGV[4]), -1)
        for _, id in ipairs(old) do
          redis.call('DEL', ARGV[5] .. string.format('%012d', tonumber(id)))
          redis.call('ZREM', KEYS[2], id)
        end
        return #old
        """;

    private readonly string _configuration;
    private readonly string _prefix;
    private readonly RedisKey _index;
    private readonly Lock _gate = new();
    private ConnectionMultiplexer? _connection;

    /// <summary>Initializes a new instance of the <see cref="RedisCheckpointStore"/> class.</summary>
    /// <param name="configuration">The StackExchange.Redis configuration string, for example <c>127.0.0.1:6379</c>.</param>
    /// <param name="prefix">The prefix of every key the store writes (one job's checkpoints; give each job its own).</param>
    /// <param name="fence">The fence checked before every write, or <see langword="null"/> for none.</param>
    public RedisCheckpointStore(string configuration, string prefix, RedisFence? fence = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(configuration);
        ArgumentException.ThrowIfNullOrWhiteSpace(prefix);
        _configuration = configuration;
        _prefix = prefix + ":ckpt:";
        _index = prefix + ":ckpts";
        Fence = fence;
        Name = RedisConnections.Name(configuration, prefix);
    }

    /// <summary>Gets the store's name in messages, <c>redis://host:port/prefix</c>.</summary>
    public string Name { get; }

    /// <summary>Gets the fence every write is checked against.</summary>
    public RedisFence? Fence { get; }

    /// <summary>Gets how many checkpoints to keep; older ones are deleted after a newer one is stored.</summary>
    /// <value>The default value is 3; at least 2, so a damaged newest checkpoint always has a predecessor.</value>
    public int Retain
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 2);
            field = value;
        }
    } = 3;

    /// <inheritdoc/>
    /// <exception cref="FencedWriteException">A newer epoch holds the fence: this writer was declared dead.</exception>
    public override async Task SaveAsync(long id, ReadOnlyMemory<byte> checkpoint, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(id);
        var database = Database();
        RedisKey[] keys = Fence is { } fence ? [KeyOf(id), _index, fence.Key] : [KeyOf(id), _index];
        RedisValue[] args = [id, checkpoint, Fence is { } f ? f.Epoch : RedisValue.EmptyString, Retain, _prefix];
        try
        {
            await database.ScriptEvaluateAsync(s_saveScript, keys, args).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (RedisServerException ex) when (RedisFence.Refused(ex, Fence, $"The checkpoint store {Name}") is { } refused)
        {
            throw refused;
        }
    }

    /// <inheritdoc/>
    public override IReadOnlyList<long> List()
    {
        var ids = Database().SortedSetRangeByRank(_index, 0, -1, Order.Descending);
        var result = new List<long>(ids.Length);
        foreach (var id in ids)
        {
            result.Add((long)id);
        }

        return result;
    }

    /// <inheritdoc/>
    public override async Task<byte[]> LoadAsync(long id, CancellationToken cancellationToken)
    {
        var value = await Database().StringGetAsync(KeyOf(id)).WaitAsync(cancellationToken).ConfigureAwait(false);
        return value.IsNull
            ? throw new FileNotFoundException($"Checkpoint {id} is not in {Name} (the key {KeyOf(id)} is missing: deleted, or the server lost it).")
            : (byte[])value!;
    }

    /// <inheritdoc/>
    public override string Describe(long id) => $"{Name} checkpoint {id} (key {KeyOf(id)})";

    /// <inheritdoc/>
    public void Dispose()
    {
        lock (_gate)
        {
            _connection?.Dispose();
            _connection = null;
        }
    }

    private RedisKey KeyOf(long id) => _prefix + id.ToString("D12", System.Globalization.CultureInfo.InvariantCulture);

    private IDatabase Database()
    {
        lock (_gate)
        {
            _connection ??= ConnectionMultiplexer.Connect(RedisConnections.Options(_configuration, ReconnectPolicy.Default));
            return _connection.GetDatabase();
        }
    }
}
