using System.Buffers.Binary;
using LinqStream.Connectors;
using LinqStream.Connectors.Nats;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace LinqStream;

/// <summary>
/// Reads a NATS JetStream subject as one partition of a query: messages in stream-sequence order, each decoded by an
/// <see cref="EventSerializer{T}"/>; the position is the last stream sequence, so a restored query resumes just after it.
/// </summary>
/// <typeparam name="T">The event type.</typeparam>
/// <remarks>
/// <para>The source reads through its own ephemeral pull consumer (no acknowledgements; the position lives in the query's
/// checkpoint, not on the server) and fetches up to <see cref="NatsJetStreamSourceOptions.BatchSize"/> messages per request.
/// When nothing is new it waits <see cref="NatsJetStreamSourceOptions.PollInterval"/> and reports itself idle.</para>
/// <para>A message that cannot be decoded goes to the query's dead letters with the subject, its stream sequence and the reason.
/// When the server is lost, each read waits the <see cref="ReconnectPolicy"/>'s backoff and then makes a new consumer at the
/// sequence after the last one read; every change is raised through <see cref="StatusChanged"/>.</para>
/// </remarks>
public sealed class NatsJetStreamSource<T> : EventSource<T>
{
    private const byte PositionFormat = 2;
    private readonly string _url;
    private readonly string _subject;
    private readonly string _stream;
    private readonly NatsJetStreamSourceOptions _options;
    private readonly DecodingDeserializer<T> _deserializer;
    private readonly ConnectorHealth _health;
    private NatsConnection? _connection;
    private NatsJSContext? _js;
    private INatsJSConsumer? _consumer;
    private SourceContext? _context;
    private ulong _last;
    private ulong? _end;
    private bool _completed;

    /// <summary>Initializes a new instance of the <see cref="NatsJetStreamSource{T}"/> class.</summary>
    /// <param name="url">The server, for example <c>nats://127.0.0.1:4222</c>.</param>
    /// <param name="subject">The subject to read (the stream may hold others).</param>
    /// <param name="serializer">Decodes a message's payload into an event.</param>
    /// <param name="options">The settings, or <see langword="null"/> for <see cref="NatsJetStreamSourceOptions.Default"/>.</param>
    public NatsJetStreamSource(string url, string subject, EventSerializer<T> serializer, NatsJetStreamSourceOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(url);
        ArgumentException.ThrowIfNullOrWhiteSpace(subject);
        ArgumentNullException.ThrowIfNull(serializer);
        _url = url;
        _subject = subject;
        _options = options ?? NatsJetStreamSourceOptions.Default;
        _stream = _options.Stream ?? NatsConnections.DefaultStreamName(subject);
        _deserializer = new DecodingDeserializer<T>(serializer);
        Name = NatsConnections.Name(url, subject);
        _health = new ConnectorHealth(Name, _options.Reconnect, status => StatusChanged?.Invoke(this, status));
    }

    /// <summary>Raised on every change of the connection state (connected, reconnecting with the error, failed, closed), on the reader's thread.</summary>
    public event EventHandler<ConnectionStatus>? StatusChanged;

    /// <inheritdoc/>
    public override string Name { get; }

    /// <inheritdoc/>
    /// <value>Always <see langword="true"/>: a JetStream stream keeps its messages (within its limits) and reads from any sequence.</value>
    public override bool CanReplay => true;

    /// <summary>Gets the current connection state.</summary>
    public ConnectionStatus Status => _health.Status;

    /// <summary>Gets the stream sequence of the last message read (decoded or dead-lettered), 0 before the first.</summary>
    public ulong LastSequence => _last;

    /// <inheritdoc/>
    public override ValueTask OpenAsync(SourceContext context, byte[]? position, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (_connection is not null)
        {
            throw new InvalidOperationException($"{Name} is already open: one query at a time reads a source instance.");
        }

        _context = context;
        _health.TimeProvider = context.TimeProvider;
        _last = position is null ? 0 : ReadPosition(position);
        _end = null;
        _completed = false;
        _consumer = null;
        // The connection is made by the first read, which reports and retries a server that is not there yet.
        _connection = NatsConnections.Connect(_url, _options.Reconnect);
        _js = new NatsJSContext(_connection);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public override async ValueTask<SourceRead> ReadAsync(Memory<T> buffer, CancellationToken cancellationToken)
    {
        var js = _js ?? throw new InvalidOperationException($"{Name} is not open; call OpenAsync first.");
        if (_completed)
        {
            return SourceRead.Completed;
        }

        try
        {
            await NatsConnections.EnsureConnectedAsync(_connection!).ConfigureAwait(false);
            if (_consumer is null)
            {
                await NatsConnections.EnsureStreamAsync(js, _stream, _subject, cancellationToken).ConfigureAwait(false);
                if (_options.StopAtEnd && _end is null)
                {
                    var info = await js.GetStreamAsync(_stream, cancellationToken: cancellationToken).ConfigureAwait(false);
                    _end = info.Info.State.LastSeq;
                }

                _consumer = await CreateConsumerAsync(js, cancellationToken).ConfigureAwait(false);
            }

            int count = Math.Min(buffer.Length, _options.BatchSize);
            int n = 0;
            int seen = 0;
            bool pastEnd = false;
            // A fetch whose server went away mid-request would otherwise wait for the client's reconnect for ever.
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(NatsConnections.RequestTimeout);
            await foreach (var message in _consumer.FetchNoWaitAsync(new NatsJSFetchOpts { MaxMsgs = count }, _deserializer, timeout.Token).ConfigureAwait(false))
            {
                ulong sequence = message.Metadata?.Sequence.Stream ?? _last + 1;
                if (_end is { } end && sequence > end)
                {
                    pastEnd = true;
                    break;
                }

                _last = sequence;
                seen++;
                var decoded = message.Data;
                if (decoded.HasValue)
                {
                    buffer.Span[n++] = decoded.Value;
                }
                else
                {
                    _context!.DeadLetters.Write(DeadLetter.Create(Name, "sequence " + sequence, decoded.Error ?? "the message is empty", decoded.Raw ?? string.Empty));
                }
            }

            _health.Connected("sequence " + _last);
            if (seen > 0 && !pastEnd)
            {
                return new SourceRead(n, false);
            }

            if (_options.StopAtEnd)
            {
                _completed = true;
                return new SourceRead(n, true);
            }

            await Task.Delay(_options.PollInterval, _health.TimeProvider, cancellationToken).ConfigureAwait(false);
            return SourceRead.Idle;
        }
        catch (Exception ex) when ((NatsConnections.IsTransient(ex) || ex is OperationCanceledException) && !cancellationToken.IsCancellationRequested)
        {
            // Messages fetched but not received are gone from this consumer: the next read makes a new one after the last sequence.
            _consumer = null;
            await _health.FailedAsync(ex, "sequence " + _last, cancellationToken).ConfigureAwait(false);
            return SourceRead.Idle;
        }
        catch (NatsJSApiException ex)
        {
            throw new InvalidOperationException($"{Name} (stream '{_stream}') cannot be read after sequence {_last}: {ex.Error.Description} ({ex.Error.ErrCode}).", ex);
        }
    }

    /// <inheritdoc/>
    public override byte[] GetPosition()
    {
        var bytes = new byte[9];
        bytes[0] = PositionFormat;
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(1), _last);
        return bytes;
    }

    /// <inheritdoc/>
    public override async ValueTask DisposeAsync()
    {
        if (_connection is not null)
        {
            if (_consumer is not null && _connection.ConnectionState == NatsConnectionState.Open)
            {
                try
                {
                    await _js!.DeleteConsumerAsync(_stream, _consumer.Info.Name).ConfigureAwait(false);
                }
                catch (NatsException)
                {
                    // The consumer is ephemeral: the server removes it after its inactivity threshold anyway.
                }
            }

            await _connection.DisposeAsync().ConfigureAwait(false);
            _connection = null;
            _js = null;
            _consumer = null;
            _health.Closed("sequence " + _last);
        }

        await base.DisposeAsync().ConfigureAwait(false);
    }

    private async ValueTask<INatsJSConsumer> CreateConsumerAsync(NatsJSContext js, CancellationToken cancellationToken)
    {
        var config = new ConsumerConfig
        {
            Name = "linqstream-" + Guid.NewGuid().ToString("N"),
            AckPolicy = ConsumerConfigAckPolicy.None,
            FilterSubject = _subject,
            InactiveThreshold = TimeSpan.FromSeconds(30),
            MemStorage = true,
        };
        if (_last == 0)
        {
            config.DeliverPolicy = ConsumerConfigDeliverPolicy.All;
        }
        else
        {
            config.DeliverPolicy = ConsumerConfigDeliverPolicy.ByStartSequence;
            config.OptStartSeq = _last + 1;
        }

        return await js.CreateOrUpdateConsumerAsync(_stream, config, cancellationToken).ConfigureAwait(false);
    }

    private ulong ReadPosition(byte[] position)
    {
        if (position.Length != 9 || position[0] != PositionFormat)
        {
            throw new ArgumentException($"The position ({position.Length} bytes) is not a JetStream position of {Name}; was the checkpoint written for another source?", nameof(position));
        }

        return BinaryPrimitives.ReadUInt64LittleEndian(position.AsSpan(1));
    }
}
