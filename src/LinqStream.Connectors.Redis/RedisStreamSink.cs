using LinqStream.Connectors;
using LinqStream.Connectors.Redis;
using StackExchange.Redis;

namespace LinqStream;

/// <summary>
/// Appends a job's results to a Redis stream, exactly once across restores: the n-th result of the job is the entry with id
/// <c>0-n</c>, and the checkpoint keeps n, so a restored job that produces the same results again skips the ids already there.
/// </summary>
/// <typeparam name="T">The result type.</typeparam>
/// <remarks>
/// <para>The stream belongs to the sink: every entry id is <c>0-</c><i>sequence</i>, and opening a stream that holds other
/// ids fails. A fresh job (no checkpoint) over a stream that already holds its output skips those entries, as a restore
/// would; to start a new output, delete the stream or use another.</para>
/// <para>Results go to the server in chunks of <see cref="RedisStreamSinkOptions.ChunkSize"/> (one script call that runs
/// <c>XADD</c> for each and skips ids at or below the stream's last one, so a retried chunk never duplicates). Exactly-once
/// needs a deterministic query (event time, no processing time), and durability is the server's: with <c>appendonly yes</c>
/// and <c>appendfsync always</c> a committed checkpoint survives a server crash.</para>
/// <para>The protocol (sequence in the checkpoint, skip on restore, bounded retries) is <see cref="ExactlyOnceSinkProtocol{T}"/>,
/// shared with the JetStream sink; this class is the Redis side of it (<see cref="IExactlyOnceTarget"/>).</para>
/// </remarks>
public sealed class RedisStreamSink<T> : EventSink<T>, IExactlyOnceTarget
{
    private const byte StateFormat = 1;

    // ARGV[1] = field, ARGV[2] = how many entries the stream held when the chunk was made, ARGV[3] = the fence's epoch ('' when
    // unfenced; KEYS[2] is then the fence's key, checked first: an activation declared dead writes nothing), then (sequence, value) pairs.
    // Entries at or below the stream's last id were written before: skipped. A stream that holds fewer entries than it did lost
    // output (deleted, or the server came back empty): writing on would leave a hole, so the script refuses.
    private static readonly string s_appendScript = RedisFence.Check(fenceKey: 2, epochArg: 3) + """

        local last = 0
        local top = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
        if #top > 0 then
          local ms, seq = string.match(top[1][1], '^(%d+)%-(%d+)$')
          if ms ~= '0' then return redis.error_reply('the stream holds entry ' .. top[1][1] .. ', not written by a LinqStream sink') end
          last = tonumber(seq)
        end
        if last < tonumber(ARGV[2]) then return redis.error_reply('LINQSTREAM-BACKWARDS ' .. last) end
        local added = 0
        for i = 4, #ARGV, 2 do
          if tonumber(ARGV[i]) > last then
            redis.call('XADD', KEYS[1], '0-' .. ARGV[i], ARGV[1], ARGV[i + 1])
            added = added + 1
          end
        end
        return added
        """;

    private readonly string _configuration;
    private readonly RedisKey _key;
    private readonly RedisKey[] _keys;
    private readonly RedisStreamSinkOptions _options;
    private readonly ConnectorHealth _health;
    private readonly ExactlyOnceSinkProtocol<T> _protocol;
    private ConnectionMultiplexer? _connection;
    private IDatabase? _database;

    /// <summary>Initializes a new instance of the <see cref="RedisStreamSink{T}"/> class.</summary>
    /// <param name="configuration">The StackExchange.Redis configuration string, for example <c>127.0.0.1:6379</c>.</param>
    /// <param name="stream">The output stream's key.</param>
    /// <param name="serializer">Encodes a result into the entry's field.</param>
    /// <param name="options">The settings, or <see langword="null"/> for <see cref="RedisStreamSinkOptions.Default"/>.</param>
    public RedisStreamSink(string configuration, string stream, EventSerializer<T> serializer, RedisStreamSinkOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(configuration);
        ArgumentException.ThrowIfNullOrWhiteSpace(stream);
        ArgumentNullException.ThrowIfNull(serializer);
        _configuration = configuration;
        _key = stream;
        _options = options ?? RedisStreamSinkOptions.Default;
        _keys = _options.Fence is { } fence ? [_key, fence.Key] : [_key];
        Name = RedisConnections.Name(configuration, stream);
        _health = new ConnectorHealth(Name, _options.Reconnect, status => StatusChanged?.Invoke(this, status));
        _protocol = new ExactlyOnceSinkProtocol<T>(Name, "a Redis stream sink", StateFormat, serializer, _options.ChunkSize, _health);
    }

    /// <summary>Raised on every change of the connection state, with the error while reconnecting.</summary>
    public event EventHandler<ConnectionStatus>? StatusChanged;

    /// <inheritdoc/>
    public override string Name { get; }

    /// <inheritdoc/>
    /// <value>Always <see langword="true"/>: a restored job neither repeats nor loses entries.</value>
    public override bool IsTransactional => true;

    /// <summary>Gets the fence the sink's writes are checked against (<see cref="RedisStreamSinkOptions.Fence"/>).</summary>
    public RedisFence? Fence => _options.Fence;

    /// <summary>Gets the current connection state.</summary>
    public ConnectionStatus Status => _health.Status;

    /// <summary>Gets the number of results the job has produced so far (the last entry id is <c>0-</c> this number).</summary>
    public long Sequence => _protocol.Sequence;

    /// <inheritdoc/>
    public override async ValueTask OpenAsync(byte[]? committed, CancellationToken cancellationToken)
    {
        long restored = _protocol.ReadCommitted(committed);
        if (_connection is not null)
        {
            throw new InvalidOperationException($"{Name} is already open: one job at a time writes through a sink instance.");
        }

        _connection = await RedisConnections.ConnectAsync(_configuration, _options.Reconnect).ConfigureAwait(false);
        _database = _connection.GetDatabase();
        await _protocol.OpenAsync(this, restored, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public override ValueTask WriteAsync(ReadOnlyMemory<T> results, CancellationToken cancellationToken) => _protocol.WriteAsync(results, cancellationToken);

    /// <inheritdoc/>
    public override ValueTask<byte[]> PrepareCommitAsync(long checkpointId, CancellationToken cancellationToken) => _protocol.PrepareCommitAsync(cancellationToken);

    /// <inheritdoc/>
    public override ValueTask CompleteAsync(CancellationToken cancellationToken) => _protocol.FlushAsync(cancellationToken);

    /// <inheritdoc/>
    public override async ValueTask DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
            _connection = null;
            _database = null;
            _protocol.Close();
        }

        await base.DisposeAsync().ConfigureAwait(false);
    }

    async ValueTask<long> IExactlyOnceTarget.OpenAsync(CancellationToken cancellationToken)
    {
        var database = _database ?? throw new InvalidOperationException($"{Name} is not open; call OpenAsync first.");
        var top = await database.StreamRangeAsync(_key, "-", "+", 1, Order.Descending).ConfigureAwait(false);
        var last = top.Length == 0 ? RedisEntryId.Zero : RedisEntryId.Parse(top[0].Id);
        if (last.Milliseconds != 0)
        {
            throw new InvalidOperationException(
                $"{Name} holds entry {last}, which a LinqStream sink did not write (its ids are 0-1, 0-2, ...). Write the results to a new stream, or delete this one.");
        }

        return (long)last.Sequence;
    }

    async ValueTask IExactlyOnceTarget.WriteAsync(ExactlyOnceChunk chunk, bool retry, CancellationToken cancellationToken)
    {
        // The script is atomic and skips what is already there: retrying a chunk that did reach the server is harmless.
        var database = _database ?? throw new InvalidOperationException($"{Name} is not open; call OpenAsync first.");
        var args = new RedisValue[3 + (2 * chunk.Count)];
        args[0] = _options.Field;
        // Every result before this chunk is in the stream (written by earlier chunks, or found there at open).
        args[1] = chunk.FirstSequence - 1;
        args[2] = _options.Fence is { } fence ? fence.Epoch : RedisValue.EmptyString;
        for (int i = 0; i < chunk.Count; i++)
        {
            var (sequence, bytes) = chunk[i];
            args[3 + (2 * i)] = sequence;
            args[4 + (2 * i)] = bytes;
        }

        try
        {
            await database.ScriptEvaluateAsync(s_appendScript, _keys, args).ConfigureAwait(false);
        }
        catch (RedisServerException ex) when (!RedisConnections.IsTransient(ex))
        {
            Exception error = RedisFence.Refused(ex, _options.Fence, Name) as Exception ?? (ex.Message.StartsWith("LINQSTREAM-BACKWARDS", StringComparison.Ordinal)
                ? new InvalidOperationException(
                    $"{Name} ends at entry 0-{ex.Message["LINQSTREAM-BACKWARDS".Length..].Trim()}, but it held the results up to 0-{chunk.FirstSequence - 1}: the stream went backwards (deleted, trimmed, or the server came back without its data). The job stops rather than write a stream with a hole in it; restore the output or start over with a new stream.", ex)
                : new InvalidOperationException($"{Name} refused entries 0-{chunk.FirstSequence} to 0-{chunk.LastSequence}: {ex.Message}", ex));
            _health.Fail(error, "0-" + chunk.FirstSequence);
            throw error;
        }
    }

    bool IExactlyOnceTarget.IsTransient(Exception error) => RedisConnections.IsTransient(error);

    string IExactlyOnceTarget.Position(long sequence) => "0-" + sequence.ToString(System.Globalization.CultureInfo.InvariantCulture);

    Exception IExactlyOnceTarget.LostCommittedOutput(long last, long committed) => new InvalidOperationException(
        $"{Name} ends at entry 0-{last}, but the checkpoint committed {committed} entries: the stream lost committed output (was it deleted or trimmed, or did the server restart without persistence?).");
}
