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
    private const byte PositionFormatWithoutCreation = 2;
    private const byte PositionFormat = 3;

    /// <summary>How often an idle source checks that the stream is still the one it was reading (not purged, deleted or made again).</summary>
    private static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(1);
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
    private ulong _delivered;
    private int _disconnected;
    private DateTimeOffset? _created;
    private long _lastCheck;
    private long _skipped;

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

    /// <summary>Raised when the source skips a gap in its input (only with <see cref="NatsJetStreamSourceOptions.OnGap"/> set to <see cref="InputGapPolicy.Skip"/>).</summary>
    public event EventHandler<InputGap>? GapSkipped;

    /// <inheritdoc/>
    public override string Name { get; }

    /// <summary>Gets how many messages this source skipped over gaps since it was opened (see <see cref="NatsJetStreamSourceOptions.OnGap"/>).</summary>
    public long SkippedMessages => _skipped;

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
        _created = null;
        _last = position is null ? 0 : ReadPosition(position);
        _end = null;
        _completed = false;
        _consumer = null;
        _skipped = 0;
        // The connection is made by the first read, which reports and retries a server that is not there yet.
        _connection = NatsConnections.Connect(_url, _options.Reconnect);
        _connection.ConnectionDisconnected += (_, _) =>
        {
            Interlocked.Exchange(ref _disconnected, 1);
            return ValueTask.CompletedTask;
        };
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

        int n = 0;
        int seen = 0;
        try
        {
            await NatsConnections.EnsureConnectedAsync(_connection!).ConfigureAwait(false);
            if (Interlocked.Exchange(ref _disconnected, 0) != 0)
            {
                // The server may have restarted (an ephemeral consumer does not survive that) or dropped a fetch half sent.
                _consumer = null;
            }

            if (_consumer is null)
            {
                await CheckStreamAsync(js, cancellationToken).ConfigureAwait(false);
                if (_options.StopAtEnd && _end is null)
                {
                    _end = await LastOfSubjectAsync(js, cancellationToken).ConfigureAwait(false);
                }

                _consumer = await CreateConsumerAsync(js, cancellationToken).ConfigureAwait(false);
                _delivered = 0;
            }

            int count = Math.Min(buffer.Length, _options.BatchSize);
            bool pastEnd = false;
            bool broken = false;
            // A fetch whose server went away mid-request would otherwise wait for the client's reconnect for ever.
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(NatsConnections.RequestTimeout);
            await foreach (var message in _consumer.FetchNoWaitAsync(new NatsJSFetchOpts { MaxMsgs = count }, _deserializer, timeout.Token).ConfigureAwait(false))
            {
                // The consumer numbers what it delivers 1, 2, 3...: a jump means messages sent to this consumer never arrived (a fetch
                // cut short by a stopped or paused server, or one this source stopped reading). Without acknowledgements the server
                // counts them as delivered, so the only safe move is a new consumer just after the last sequence received.
                if (!Sequences(message, out ulong sequence, out ulong delivered) || delivered != _delivered + 1)
                {
                    broken = true;
                    break;
                }

                _delivered = delivered;
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
            if (broken)
            {
                _consumer = null;
                return new SourceRead(n, false);
            }

            if (seen > 0 && !pastEnd)
            {
                return new SourceRead(n, false);
            }

            if (_options.StopAtEnd)
            {
                if (pastEnd || _last >= _end)
                {
                    _completed = true;
                    return new SourceRead(n, true);
                }

                // Empty before the end the source saw when it opened: the consumer or the stream may be gone. Check both again.
                _consumer = null;
            }
            else if (_health.TimeProvider.GetElapsedTime(_lastCheck) >= CheckInterval)
            {
                // Nothing new: make sure that is because nothing was written, not because the stream was purged or deleted.
                await CheckStreamAsync(js, cancellationToken).ConfigureAwait(false);
            }

            await Task.Delay(_options.PollInterval, _health.TimeProvider, cancellationToken).ConfigureAwait(false);
            return SourceRead.Idle;
        }
        catch (Exception ex) when ((NatsConnections.IsTransient(ex) || ex is OperationCanceledException) && !cancellationToken.IsCancellationRequested)
        {
            // Messages fetched but not received are gone from this consumer: the next read makes a new one after the last sequence.
            _consumer = null;
            if (seen > 0)
            {
                // What arrived goes to the query (the position already covers it); the next read meets the failure again and reports it.
                return new SourceRead(n, false);
            }

            await _health.FailedAsync(ex, "sequence " + _last, cancellationToken).ConfigureAwait(false);
            return SourceRead.Idle;
        }
        catch (NatsJSApiException ex)
        {
            var error = new InvalidOperationException($"{Name} (stream '{_stream}') cannot be read after sequence {_last}: {ex.Error.Description} ({ex.Error.ErrCode}).", ex);
            _health.Fail(error, "sequence " + _last);
            throw error;
        }
    }

    /// <summary>
    /// Gets or sets a value indicating whether each message's sequences are read through the client's <c>NatsJSMsg.Metadata</c>
    /// (a string per token of the reply subject) instead of <see cref="JetStreamReplySubject"/>; the benchmark compares the two.
    /// </summary>
    internal bool MetadataThroughClient { get; set; }

    /// <inheritdoc/>
    public override byte[] GetPosition()
    {
        var bytes = new byte[17];
        bytes[0] = PositionFormat;
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(1), _last);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(9), _created?.UtcTicks ?? 0);
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

    /// <summary>The message's stream sequence and its number among the messages delivered to this consumer (1, 2, 3...).</summary>
    private bool Sequences(INatsJSMsg<DecodedMessage<T>> message, out ulong stream, out ulong consumer)
    {
        if (!MetadataThroughClient)
        {
            return JetStreamReplySubject.TryParseSequences(message.ReplyTo, out stream, out consumer);
        }

        var metadata = message.Metadata;
        (stream, consumer) = metadata is { } m ? (m.Sequence.Stream, m.Sequence.Consumer) : (0UL, 0UL);
        return metadata is not null;
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
        if (!TryReadPosition(position, out ulong sequence, out _created))
        {
            throw new ArgumentException($"The position ({position.Length} bytes) is not a JetStream position of {Name}; was the checkpoint written for another source?", nameof(position));
        }

        return sequence;
    }

    /// <summary>Reads a position written by <see cref="GetPosition"/>: the last sequence delivered and the stream's creation time (null when unknown).</summary>
    internal static bool TryReadPosition(byte[] position, out ulong sequence, out DateTimeOffset? created)
    {
        // Format 2 (before the stream's creation time was kept) is still read; it cannot tell a stream made again.
        if (position is [PositionFormatWithoutCreation, ..] && position.Length == 9)
        {
            (sequence, created) = (BinaryPrimitives.ReadUInt64LittleEndian(position.AsSpan(1)), null);
            return true;
        }

        if (position.Length != 17 || position[0] != PositionFormat)
        {
            (sequence, created) = (0, null);
            return false;
        }

        long ticks = BinaryPrimitives.ReadInt64LittleEndian(position.AsSpan(9));
        created = ticks == 0 ? null : new DateTimeOffset(ticks, TimeSpan.Zero);
        sequence = BinaryPrimitives.ReadUInt64LittleEndian(position.AsSpan(1));
        return true;
    }

    /// <summary>
    /// Compares the position with what the stream holds now: deleted, made again (another creation time, or fewer messages than
    /// already read) or purged past the position is a gap, which fails the read or is skipped as <see cref="NatsJetStreamSourceOptions.OnGap"/> says.
    /// </summary>
    private async ValueTask CheckStreamAsync(NatsJSContext js, CancellationToken cancellationToken)
    {
        _lastCheck = _health.TimeProvider.GetTimestamp();
        var info = await StreamInfoAsync(js, cancellationToken).ConfigureAwait(false);
        if (info is null)
        {
            if (_last > 0)
            {
                OnGap(new InputGap(Name, "sequence " + _last, "nothing (the stream is gone)", null, $"The stream '{_stream}' was deleted."));
                _last = 0;
            }

            await NatsConnections.EnsureStreamAsync(js, _stream, _subject, cancellationToken).ConfigureAwait(false);
            info = await StreamInfoAsync(js, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"{Name}: the stream '{_stream}' was deleted again just after it was made.");
        }
        else if ((_created is { } created && created.UtcTicks != info.Created.UtcTicks) || info.State.LastSeq < _last)
        {
            OnGap(new InputGap(Name, "sequence " + _last, "sequence " + info.State.FirstSeq, null,
                $"The stream '{_stream}' was deleted and made again (created {info.Created:O}, last sequence {info.State.LastSeq})."));
            _last = 0;
        }
        else if (_last > 0 && info.State.FirstSeq > _last + 1)
        {
            long skipped = (long)(info.State.FirstSeq - _last - 1);
            OnGap(new InputGap(Name, "sequence " + _last, "sequence " + info.State.FirstSeq, skipped,
                $"The stream '{_stream}' was purged or trimmed past the position."));
            _last = info.State.FirstSeq - 1;
        }

        if (_created is null || _created.Value.UtcTicks != info.Created.UtcTicks)
        {
            _created = info.Created;
            _consumer = null;
        }
    }

    private async ValueTask<StreamInfo?> StreamInfoAsync(NatsJSContext js, CancellationToken cancellationToken)
    {
        try
        {
            var stream = await js.GetStreamAsync(_stream, cancellationToken: cancellationToken).ConfigureAwait(false);
            return stream.Info;
        }
        catch (NatsJSApiException ex) when (ex.Error.Code == 404)
        {
            return null;
        }
    }

    private async ValueTask<ulong> LastOfSubjectAsync(NatsJSContext js, CancellationToken cancellationToken)
    {
        var stream = await js.GetStreamAsync(_stream, cancellationToken: cancellationToken).ConfigureAwait(false);
        try
        {
            var last = await stream.GetAsync(new StreamMsgGetRequest { LastBySubj = _subject }, cancellationToken).ConfigureAwait(false);
            return last.Message.Seq;
        }
        catch (NatsJSApiException ex) when (ex.Error.Code == 404)
        {
            return 0;
        }
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
}
