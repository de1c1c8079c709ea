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
    /// <summary>How often a source checks that the stream is still the one it was reading (not trimmed past it, deleted or made again).</summary>
    private static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(1);

    private readonly string _configuration;
    private readonly RedisKey _key;
    private readonly RedisValue _field;
    private readonly EventSerializer<T> _serializer;
    private EventSerializer<T> _decoder;
    private readonly RedisStreamSourceOptions _options;
    private readonly ConnectorHealth _health;
    private readonly XReadReply _reply = new();
    private ConnectionMultiplexer? _connection;
    private IDatabase? _database;
    private SourceContext? _context;
    private RedisEntryId _last;
    private RedisEntryId? _end;
    private bool _completed;
    private long? _passed;
    private long _skipped;
    private RedisEntryId _acceptedDeletions;
    private bool _checkDue;
    private long _lastCheck;
    private ConfigurationOptions? _rawOptions;
    private RespStreamReader? _reader;
    private long _receivesOfDroppedReaders;
    private long _asynchronousReceivesOfDroppedReaders;
    private byte[] _keyBytes = [];
    private byte[] _fieldBytes = [];

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
        _decoder = serializer;
        _options = options ?? RedisStreamSourceOptions.Default;
        _field = _options.Field;
        Name = RedisConnections.Name(configuration, stream);
        _health = new ConnectorHealth(Name, _options.Reconnect, status => StatusChanged?.Invoke(this, status));
    }

    /// <summary>Raised on every change of the connection state (connected, reconnecting with the error, failed, closed), on the reader's thread.</summary>
    public event EventHandler<ConnectionStatus>? StatusChanged;

    /// <summary>Raised when the source skips a gap in its input (only with <see cref="RedisStreamSourceOptions.OnGap"/> set to <see cref="InputGapPolicy.Skip"/>).</summary>
    public event EventHandler<InputGap>? GapSkipped;

    /// <inheritdoc/>
    public override string Name { get; }

    /// <summary>Gets how many entries this source skipped over gaps since it was opened, as far as the server can tell (see <see cref="RedisStreamSourceOptions.OnGap"/>).</summary>
    public long SkippedEntries => _skipped;

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
        _decoder = _serializer.ForQuery(context); // only the members this run's query reads, for the JSON serializers
        (_last, _passed) = position is null ? (RedisEntryId.Zero, 0) : RedisEntryId.FromPosition(position, Name);
        _end = null;
        _completed = false;
        _skipped = 0;
        _acceptedDeletions = RedisEntryId.Zero;
        _checkDue = true;
        // AbortOnConnectFail is off: this returns with the server down, and the first reads report it and retry.
        _connection = await RedisConnections.ConnectAsync(_configuration, _options.Reconnect).ConfigureAwait(false);
        _database = _connection.GetDatabase();
        var options = RedisConnections.Options(_configuration, _options.Reconnect);
        _rawOptions = RespStreamReader.Supports(options) && !ReadThroughClient ? options : null;
        _keyBytes = Encoding.UTF8.GetBytes((string)_key!);
        _fieldBytes = Encoding.UTF8.GetBytes((string)_field!);
    }

    /// <summary>
    /// Gets or sets a value indicating whether entries are read through StackExchange.Redis (<c>RedisResult</c> per entry) instead
    /// of the source's own connection; TLS configurations always are. Tests set it to cover that path.
    /// </summary>
    internal bool ReadThroughClient { get; set; }

    /// <summary>Gets how many socket receives the own reader made since this source was made (a diagnostic for the benchmarks).</summary>
    internal long OwnReaderReceives => _receivesOfDroppedReaders + (_reader?.Receives ?? 0);

    /// <summary>Gets how many of <see cref="OwnReaderReceives"/> were asynchronous (the server was silent for longer than the reader's short wait).</summary>
    internal long OwnReaderAsynchronousReceives => _asynchronousReceivesOfDroppedReaders + (_reader?.AsynchronousReceives ?? 0);

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
            if (_checkDue || _health.TimeProvider.GetElapsedTime(_lastCheck) >= CheckInterval)
            {
                await CheckStreamAsync(database).ConfigureAwait(false);
            }

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
            if (_rawOptions is not null)
            {
                return await ReadRawAsync(count, buffer, cancellationToken).ConfigureAwait(false);
            }

            // Through StackExchange.Redis (TLS): a raw XREAD, since the typed StreamReadAsync builds a StreamEntry and a
            // NameValueEntry[] per entry, which costs more client CPU than the decoding.
            var reply = await database.ExecuteAsync("XREAD", "COUNT", count, "STREAMS", _key, LastId).ConfigureAwait(false);
            if (reply.IsNull)
            {
                _health.Connected(LastId);
                // Nothing new: wait on the server for a short while (and take what arrives), or let the engine see an idle partition.
                reply = await database.ExecuteAsync("XREAD", "COUNT", count, "BLOCK", (long)_options.BlockTime.TotalMilliseconds, "STREAMS", _key, LastId)
                    .ConfigureAwait(false);
                if (reply.IsNull)
                {
                    // Nothing new. Reads check the stream at least once per CheckInterval, so a stream deleted or trimmed meanwhile is seen.
                    return SourceRead.Idle;
                }
            }

            _health.Connected(LastId);
            return new SourceRead(Decode(Entries(reply), buffer.Span), false);
        }
        catch (Exception ex) when (RedisConnections.IsTransient(ex) && !cancellationToken.IsCancellationRequested)
        {
            // The server may come back without its data: check the stream before reading on.
            _checkDue = true;
            DropReader();
            await _health.FailedAsync(ex, LastId, cancellationToken).ConfigureAwait(false);
            return SourceRead.Idle;
        }
        catch (RedisServerException ex)
        {
            DropReader();
            var error = new InvalidOperationException($"{Name} cannot be read at entry {LastId}: {ex.Message}", ex);
            _health.Fail(error, LastId);
            throw error;
        }
    }

    /// <inheritdoc/>
    public override byte[] GetPosition() => _last.ToPosition(_passed);

    /// <inheritdoc/>
    public override async ValueTask DisposeAsync()
    {
        DropReader();
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

    /// <summary>
    /// Compares the position with what the stream holds now (<c>XINFO STREAM</c>): deleted, made again (a last id or an added
    /// count below what was already read) or trimmed past the position is a gap, which fails the read or is skipped as
    /// <see cref="RedisStreamSourceOptions.OnGap"/> says. A fresh source (at 0-0) has nothing to lose and waits for the stream.
    /// </summary>
    private async Task CheckStreamAsync(IDatabase database)
    {
        _checkDue = false;
        _lastCheck = _health.TimeProvider.GetTimestamp();
        if (_last == RedisEntryId.Zero)
        {
            return;
        }

        RedisResult reply;
        try
        {
            reply = await database.ExecuteAsync("XINFO", "STREAM", _key).ConfigureAwait(false);
        }
        catch (RedisServerException ex) when (ex.Message.Contains("no such key", StringComparison.OrdinalIgnoreCase))
        {
            OnGap(new InputGap(Name, "entry " + LastId, "nothing (the stream is gone)", null,
                $"The stream '{_key}' was deleted (or the server came back without its data)."));
            (_last, _passed, _acceptedDeletions) = (RedisEntryId.Zero, 0, RedisEntryId.Zero);
            return;
        }

        var info = reply.ToDictionary();
        long length = (long)info["length"];
        long added = (long)info["entries-added"];
        var lastGenerated = RedisEntryId.Parse((string)info["last-generated-id"]!);
        var maxDeleted = RedisEntryId.Parse((string)info["max-deleted-entry-id"]!);
        var firstEntry = info["first-entry"];
        RedisEntryId? first = firstEntry.IsNull ? null : RedisEntryId.Parse((string)((RedisResult[])firstEntry!)[0]!);
        string resumesAt = first is { } f ? "entry " + f : "nothing (the stream is empty)";
        if (lastGenerated < _last || (_passed is { } passed && added < passed))
        {
            OnGap(new InputGap(Name, "entry " + LastId, resumesAt, null,
                $"The stream '{_key}' was deleted and made again (its last id is {lastGenerated}, {added} entries were ever added to it)."));
            (_last, _passed, _acceptedDeletions) = (RedisEntryId.Zero, 0, RedisEntryId.Zero);
            return;
        }

        // XTRIM removes from the front: when the first entry left is past the position, entries after it may be gone, and the count
        // says how many (ever added, minus passed by this source, minus still there). XDEL shows in max-deleted-entry-id.
        long? skipped = _passed is { } count && (first is null || first.Value > _last) ? added - count - length : null;
        var known = _last > _acceptedDeletions ? _last : _acceptedDeletions;
        if (skipped > 0 || maxDeleted > known)
        {
            OnGap(new InputGap(Name, "entry " + LastId, resumesAt, skipped > 0 ? skipped : null,
                $"Entries of the stream '{_key}' after the position were deleted (trimmed with XTRIM or a MAXLEN, or removed with XDEL)."));
            _acceptedDeletions = maxDeleted > known ? maxDeleted : _acceptedDeletions;
            _passed = skipped > 0 ? _passed + skipped : null;
        }
    }

    /// <summary>
    /// Reads through the source's own connection: the reply stays bytes and each entry's value goes straight to the serializer.
    /// When a reply is full (the stream has more), the next <c>XREAD</c> is sent before this one is decoded, so the server
    /// answers while the client decodes.
    /// </summary>
    private async ValueTask<SourceRead> ReadRawAsync(int count, Memory<T> buffer, CancellationToken cancellationToken)
    {
        var reader = _reader ??= await RespStreamReader.ConnectAsync(_rawOptions!, cancellationToken).ConfigureAwait(false);
        if (reader.HasPending && (reader.PendingAfter != _last || reader.PendingCount > count))
        {
            // Sent ahead from a position a stream check has since moved (a recreated stream), or for more entries than this read
            // has room for: read it and drop it (the position has not moved past it), then ask again.
            await reader.ReceiveAsync(cancellationToken).ConfigureAwait(false);
        }

        if (!reader.HasPending)
        {
            await reader.SendXReadAsync(count, null, _keyBytes, _last, cancellationToken).ConfigureAwait(false);
        }

        var reply = await reader.ReceiveAsync(cancellationToken).ConfigureAwait(false);
        _reply.Index(reply.Span, _fieldBytes);
        if (_reply.Count == 0)
        {
            _health.Connected(LastId);
            // Nothing new: wait on the server for a short while (and take what arrives), or let the engine see an idle partition.
            await reader.SendXReadAsync(count, _options.BlockTime, _keyBytes, _last, cancellationToken).ConfigureAwait(false);
            reply = await reader.ReceiveAsync(cancellationToken).ConfigureAwait(false);
            _reply.Index(reply.Span, _fieldBytes);
            if (_reply.Count == 0)
            {
                // Nothing new. Reads check the stream at least once per CheckInterval, so a stream deleted or trimmed meanwhile is seen.
                return SourceRead.Idle;
            }
        }

        _health.Connected(LastId);
        if (_reply.Count >= count && _reply.LastId is var last && (_end is null || last < _end.Value))
        {
            await reader.SendXReadAsync(count, null, _keyBytes, last, cancellationToken).ConfigureAwait(false);
        }

        return new SourceRead(Decode(reply.Span, buffer.Span), false);
    }

    private void DropReader()
    {
        _receivesOfDroppedReaders += _reader?.Receives ?? 0;
        _asynchronousReceivesOfDroppedReaders += _reader?.AsynchronousReceives ?? 0;
        _reader?.Dispose();
        _reader = null;
    }

    /// <summary>Decodes the entries of a raw reply (indexed in <see cref="_reply"/>) into <paramref name="buffer"/>; what cannot be decoded is dead-lettered.</summary>
    private int Decode(ReadOnlySpan<byte> reply, Span<T> buffer)
    {
        int n = 0;
        int entries = _reply.Count;
        for (int i = 0; i < entries; i++)
        {
            var id = _reply.Id(i);
            if (_end is { } end && id > end)
            {
                // A bounded replay stops at the entry that was last when the source opened.
                break;
            }

            _last = id;
            _passed++;
            if (!_reply.TryGetValue(reply, i, out var value))
            {
                DeadLetter(id, $"the entry has no field '{_field}'", _reply.FieldsText(reply, i));
                continue;
            }

            T decoded;
            try
            {
                decoded = _decoder.Deserialize(value);
            }
            catch (Exception ex)
            {
                DeadLetter(id, ex.Message, Encoding.UTF8.GetString(value));
                continue;
            }

            buffer[n++] = decoded;
        }

        return n;
    }

    private void OnGap(InputGap gap)
    {
        if (_options.OnGap == InputGapPolicy.Fail)
        {
            var error = new InputGapException(gap);
            _health.Fail(error, gap.After);
            throw error;
        }

        _skipped += gap.Skipped ?? 0;
        GapSkipped?.Invoke(this, gap);
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
            _passed++;
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
                buffer[n] = _decoder.Deserialize(bytes.Span);
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
