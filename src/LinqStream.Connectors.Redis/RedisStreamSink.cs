using System.Buffers;
using System.Buffers.Binary;
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
/// </remarks>
public sealed class RedisStreamSink<T> : EventSink<T>
{
    private const byte StateFormat = 1;

    // ARGV[1] = field, ARGV[2] = how many entries the stream held when the chunk was made, ARGV[3] = the fence's epoch ('' when
    // unfenced; KEYS[2] is then the fence's key), then (sequence, value) pairs.
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
    private readonly EventSerializer<T> _serializer;
    private readonly RedisStreamSinkOptions _options;
    private readonly ConnectorHealth _health;
    private readonly ArrayBufferWriter<byte> _bytes = new(64 * 1024);
    private readonly List<(long Sequence, int Start, int Length)> _pending = [];
    private ConnectionMultiplexer? _connection;
    private IDatabase? _database;
    private long _sequence;
    private long _existing;

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
        _serializer = serializer;
        Name = RedisConnections.Name(configuration, stream);
        _health = new ConnectorHealth(Name, _options.Reconnect, status => StatusChanged?.Invoke(this, status));
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
    public long Sequence => _sequence;

    /// <inheritdoc/>
    public override async ValueTask OpenAsync(byte[]? committed, CancellationToken cancellationToken)
    {
        long restored = committed is null ? 0 : ReadState(committed);
        if (_connection is not null)
        {
            throw new InvalidOperationException($"{Name} is already open: one job at a time writes through a sink instance.");
        }

        _pending.Clear();
        _bytes.ResetWrittenCount();
        _connection = await RedisConnections.ConnectAsync(_configuration, _options.Reconnect).ConfigureAwait(false);
        _database = _connection.GetDatabase();
        while (true)
        {
            try
            {
                var top = await _database.StreamRangeAsync(_key, "-", "+", 1, Order.Descending).ConfigureAwait(false);
                var last = top.Length == 0 ? RedisEntryId.Zero : RedisEntryId.Parse(top[0].Id);
                if (last.Milliseconds != 0)
                {
                    throw new InvalidOperationException(
                        $"{Name} holds entry {last}, which a LinqStream sink did not write (its ids are 0-1, 0-2, ...). Write the results to a new stream, or delete this one.");
                }

                if ((long)last.Sequence < restored)
                {
                    throw new InvalidOperationException(
                        $"{Name} ends at entry {last}, but the checkpoint committed {restored} entries: the stream lost committed output (was it deleted or trimmed, or did the server restart without persistence?).");
                }

                _existing = (long)last.Sequence;
                _sequence = restored;
                _health.Connected(last.ToString());
                return;
            }
            catch (Exception ex) when (RedisConnections.IsTransient(ex) && !cancellationToken.IsCancellationRequested)
            {
                await _health.FailedAsync(ex, "open", cancellationToken, ConnectorHealth.DefaultSinkGiveUpAfter).ConfigureAwait(false);
            }
        }
    }

    /// <inheritdoc/>
    public override async ValueTask WriteAsync(ReadOnlyMemory<T> results, CancellationToken cancellationToken)
    {
        if (_database is null)
        {
            throw new InvalidOperationException($"{Name} is not open; call OpenAsync first.");
        }

        for (int i = 0; i < results.Length; i++)
        {
            _sequence++;
            if (_sequence <= _existing)
            {
                // Written by the run before the restore; the same query over the same input gives the same result here.
                continue;
            }

            int start = _bytes.WrittenCount;
            _serializer.Serialize(results.Span[i], _bytes);
            _pending.Add((_sequence, start, _bytes.WrittenCount - start));
            if (_pending.Count >= _options.ChunkSize)
            {
                await FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        // Each batch of results goes out when it is written, so a quiet live query's results are not held back.
        await FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public override async ValueTask<byte[]> PrepareCommitAsync(long checkpointId, CancellationToken cancellationToken)
    {
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        var state = new byte[9];
        state[0] = StateFormat;
        BinaryPrimitives.WriteInt64LittleEndian(state.AsSpan(1), _sequence);
        return state;
    }

    /// <inheritdoc/>
    public override ValueTask CompleteAsync(CancellationToken cancellationToken) => FlushAsync(cancellationToken);

    /// <inheritdoc/>
    public override async ValueTask DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
            _connection = null;
            _database = null;
            _health.Closed("0-" + _sequence);
        }

        await base.DisposeAsync().ConfigureAwait(false);
    }

    private async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        if (_pending.Count == 0)
        {
            return;
        }

        var database = _database ?? throw new InvalidOperationException($"{Name} is not open; call OpenAsync first.");
        var memory = _bytes.WrittenMemory;
        var args = new RedisValue[3 + (2 * _pending.Count)];
        args[0] = _options.Field;
        // Every result before this chunk is in the stream (written by earlier chunks, or found there at open).
        args[1] = _pending[0].Sequence - 1;
        args[2] = _options.Fence is { } fence ? fence.Epoch : RedisValue.EmptyString;
        for (int i = 0; i < _pending.Count; i++)
        {
            var (sequence, start, length) = _pending[i];
            args[3 + (2 * i)] = sequence;
            args[4 + (2 * i)] = memory.Slice(start, length);
        }

        while (true)
        {
            try
            {
                await database.ScriptEvaluateAsync(s_appendScript, _keys, args).ConfigureAwait(false);
                _health.Connected("0-" + _pending[^1].Sequence);
                break;
            }
            catch (Exception ex) when (RedisConnections.IsTransient(ex) && !cancellationToken.IsCancellationRequested)
            {
                // The script is atomic and skips what is already there: retrying a chunk that did reach the server is harmless.
                // Retries stop after GiveUpAfter, or after ConnectorHealth.DefaultSinkGiveUpAfter (2 min) when the policy has none.
                await _health.FailedAsync(ex, "0-" + _pending[0].Sequence, cancellationToken, ConnectorHealth.DefaultSinkGiveUpAfter).ConfigureAwait(false);
            }
            catch (RedisServerException ex)
            {
                Exception error = RedisFence.Refused(ex, _options.Fence, Name) as Exception ?? (ex.Message.StartsWith("LINQSTREAM-BACKWARDS", StringComparison.Ordinal)
                    ? new InvalidOperationException(
                        $"{Name} ends at entry 0-{ex.Message["LINQSTREAM-BACKWARDS".Length..].Trim()}, but it held the results up to 0-{_pending[0].Sequence - 1}: the stream went backwards (deleted, trimmed, or the server came back without its data). The job stops rather than write a stream with a hole in it; restore the output or start over with a new stream.", ex)
                    : new InvalidOperationException($"{Name} refused entries 0-{_pending[0].Sequence} to 0-{_pending[^1].Sequence}: {ex.Message}", ex));
                _health.Fail(error, "0-" + _pending[0].Sequence);
                throw error;
            }
        }

        _pending.Clear();
        _bytes.ResetWrittenCount();
    }

    private long ReadState(byte[] committed)
    {
        if (committed.Length != 9 || committed[0] != StateFormat)
        {
            throw new ArgumentException($"The committed state ({committed.Length} bytes) was not written by a Redis stream sink, so it cannot restore {Name}.", nameof(committed));
        }

        return BinaryPrimitives.ReadInt64LittleEndian(committed.AsSpan(1));
    }
}
