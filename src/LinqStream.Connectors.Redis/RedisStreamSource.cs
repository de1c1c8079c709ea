using System.Text;
using LinqStream.Connectors;
using LinqStream.Connectors.Redis;
using StackExchange.Redis;

namespace LinqStream;

/// <summary>
/// Reads a Redis stream as one partition of a query: entries in id order, each entry's <see cref="RedisStreamSourceOptions.Field"/>
/// decoded by an <see cref="EventSerializer{T}"/>; the position is the last entry id, so a restored query resumes just after it.
/// </summary>
/// <typeparam name="T">The event type.</typeparam>
/// <remarks>
/// <para>Reads in batches (<c>XREAD COUNT</c>); when the stream has nothing new it waits on the server (<c>XREAD BLOCK</c>) for at
/// most <see cref="RedisStreamSourceOptions.BlockTime"/> and reports itself idle, so the query's watermark can move on.</para>
/// <para>An entry that cannot be decoded goes to the query's dead letters with the stream, its id and the reason; the source
/// moves past it. When the server is lost, each read waits the <see cref="ReconnectPolicy"/>'s backoff and tries again from the
/// last id; every change is raised through <see cref="StatusChanged"/> and kept in <see cref="Status"/>.</para>
/// </remarks>
public sealed class RedisStreamSource<T> : EventSource<T>
{
    private readonly string _configuration;
    private readonly RedisKey _key;
    private readonly RedisValue _field;
    private readonly EventSerializer<T> _serializer;
    private readonly RedisStreamSourceOptions _options;
    private readonly ConnectorHealth _health;
    private ConnectionMultiplexer? _connection;
    private IDatabase? _database;
    private SourceContext? _context;
    private RedisEntryId _last;
    private RedisEntryId? _end;
    private bool _completed;

    /// <summary>Initializes a new instance of the <see cref="RedisStreamSource{T}"/> class.</summary>
    /// <param name="configuration">The StackExchange.Redis configuration string, for example <c>127.0.0.1:6379</c>.</param>
    /// <param name="stream">The stream's key.</param>
    /// <param name="serializer">Decodes an entry's field into an event, for example <see cref="EventSerializer{T}.Json(System.Text.Json.Serialization.Metadata.JsonTypeInfo{T})"/>.</param>
    /// <param name="options">The settings, or <see langword="null"/> for <see cref="RedisStreamSourceOptions.Default"/>.</param>
    public RedisStreamSource(string configuration, string stream, EventSerializer<T> serializer, RedisStreamSourceOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(configuration);
        ArgumentException.ThrowIfNullOrWhiteSpace(stream);
        ArgumentNullException.ThrowIfNull(serializer);
        _configuration = configuration;
        _key = stream;
        _serializer = serializer;
        _options = options ?? RedisStreamSourceOptions.Default;
        _field = _options.Field;
        Name = RedisConnections.Name(configuration, stream);
        _health = new ConnectorHealth(Name, _options.Reconnect, status => StatusChanged?.Invoke(this, status));
    }

    /// <summary>Raised on every change of the connection state (connected, reconnecting with the error, failed, closed), on the reader's thread.</summary>
    public event EventHandler<ConnectionStatus>? StatusChanged;

    /// <inheritdoc/>
    public override string Name { get; }

    /// <inheritdoc/>
    /// <value>Always <see langword="true"/>: a Redis stream keeps its entries (unless trimmed) and reads from any id.</value>
    public override bool CanReplay => true;

    /// <summary>Gets the current connection state.</summary>
    public ConnectionStatus Status => _health.Status;

    /// <summary>Gets the id of the last entry read (decoded or dead-lettered), <c>0-0</c> before the first.</summary>
    public string LastId => _last.ToString();

    /// <inheritdoc/>
    public override async ValueTask OpenAsync(SourceContext context, byte[]? position, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (_connection is not null)
        {
            throw new InvalidOperationException($"{Name} is already open: one query at a time reads a source instance.");
        }

        _context = context;
        _health.TimeProvider = context.TimeProvider;
        _last = position is null ? RedisEntryId.Zero : RedisEntryId.FromPosition(position, Name);
        _end = null;
        _completed = false;
        // AbortOnConnectFail is off: this returns with the server down, and the first reads report it and retry.
        _connection = await RedisConnections.ConnectAsync(_configuration, _options.Reconnect).ConfigureAwait(false);
        _database = _connection.GetDatabase();
    }

    /// <inheritdoc/>
    public override async ValueTask<SourceRead> ReadAsync(Memory<T> buffer, CancellationToken cancellationToken)
    {
        var database = _database ?? throw new InvalidOperationException($"{Name} is not open; call OpenAsync first.");
        if (_completed)
        {
            return SourceRead.Completed;
        }

        try
        {
            if (_options.StopAtEnd)
            {
                _end ??= await ReadEndAsync(database).ConfigureAwait(false);
                if (_last >= _end.Value)
                {
                    _completed = true;
                    _health.Closed(LastId);
                    return SourceRead.Completed;
                }
            }

            int count = Math.Min(buffer.Length, _options.BatchSize);
            // A raw XREAD: the typed StreamReadAsync builds a StreamEntry and a NameValueEntry[] per entry, which costs more
            // client CPU than the decoding (measured: about 2.3 µs per entry against 1.3 µs with the reply read directly).
            var reply = await database.ExecuteAsync("XREAD", "COUNT", count, "STREAMS", _key, LastId).ConfigureAwait(false);
            if (reply.IsNull)
            {
                _health.Connected(LastId);
                // Nothing new: wait on the server for a short while (and take what arrives), or let the engine see an idle partition.
                reply = await database.ExecuteAsync("XREAD", "COUNT", count, "BLOCK", (long)_options.BlockTime.TotalMilliseconds, "STREAMS", _key, LastId)
                    .ConfigureAwait(false);
                if (reply.IsNull)
                {
                    return SourceRead.Idle;
                }
            }

            _health.Connected(LastId);
            return new SourceRead(Decode(Entries(reply), buffer.Span), false);
        }
        catch (Exception ex) when (RedisConnections.IsTransient(ex) && !cancellationToken.IsCancellationRequested)
        {
            await _health.FailedAsync(ex, LastId, cancellationToken).ConfigureAwait(false);
            return SourceRead.Idle;
        }
        catch (RedisServerException ex)
        {
            throw new InvalidOperationException($"{Name} cannot be read at entry {LastId}: {ex.Message}", ex);
        }
    }

    /// <inheritdoc/>
    public override byte[] GetPosition() => _last.ToPosition();

    /// <inheritdoc/>
    public override async ValueTask DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.CloseAsync(allowCommandsToComplete: false).ConfigureAwait(false);
            await _connection.DisposeAsync().ConfigureAwait(false);
            _connection = null;
            _database = null;
            _health.Closed(LastId);
        }

        await base.DisposeAsync().ConfigureAwait(false);
    }

    private async Task<RedisEntryId> ReadEndAsync(IDatabase database)
    {
        var top = await database.StreamRangeAsync(_key, "-", "+", 1, Order.Descending).ConfigureAwait(false);
        return top.Length == 0 ? RedisEntryId.Zero : RedisEntryId.Parse(top[0].Id);
    }

    /// <summary>The entries of an <c>XREAD</c> reply for one stream: <c>[[key, entries]]</c> (RESP2) or <c>{key: entries}</c> (RESP3).</summary>
    private static RedisResult[] Entries(RedisResult reply)
    {
        var top = (RedisResult[])reply!;
        var streams = top.Length > 0 && top[0].Resp2Type == ResultType.Array ? (RedisResult[])top[0]! : top;
        return (RedisResult[])streams[1]!;
    }

    private int Decode(RedisResult[] entries, Span<T> buffer)
    {
        int n = 0;
        for (int i = 0; i < entries.Length; i++)
        {
            var entry = (RedisResult[])entries[i]!;
            var id = RedisEntryId.Parse((RedisValue)entry[0]);
            if (_end is { } end && id > end)
            {
                // A bounded replay stops at the entry that was last when the source opened.
                break;
            }

            _last = id;
            var fields = (RedisResult[])entry[1]!;
            var value = FindField(fields);
            if (value.IsNull)
            {
                DeadLetter(id, $"the entry has no field '{_field}'", string.Join(' ', fields.Select(f => (string?)f)));
                continue;
            }

            ReadOnlyMemory<byte> bytes = value;
            try
            {
                buffer[n] = _serializer.Deserialize(bytes.Span);
                n++;
            }
            catch (Exception ex)
            {
                DeadLetter(id, ex.Message, Encoding.UTF8.GetString(bytes.Span));
            }
        }

        return n;
    }

    private RedisValue FindField(RedisResult[] fields)
    {
        for (int i = 0; i + 1 < fields.Length; i += 2)
        {
            if ((RedisValue)fields[i] == _field)
            {
                return (RedisValue)fields[i + 1];
            }
        }

        return RedisValue.Null;
    }

    private void DeadLetter(RedisEntryId id, string reason, string record) =>
        _context!.DeadLetters.Write(LinqStream.DeadLetter.Create(Name, "entry " + id, reason, record));
}
