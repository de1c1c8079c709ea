using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Text;
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
    private const string EmptyMessage = "the message is empty";

    /// <summary>How often an idle source checks that the stream is still the one it was reading (not purged, deleted or made again).</summary>
    private static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(1);
    private readonly string _url;
    private readonly string _subject;
    private readonly string _stream;
    private readonly NatsJetStreamSourceOptions _options;
    private readonly EventSerializer<T> _serializer;
    private EventSerializer<T> _decoder;
    private DecodingDeserializer<T> _deserializer;
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
    private EndPoint? _endPoint;
    private NatsPullReader? _reader;
    private byte[] _nextSubject = [];
    private byte[] _ackPrefix = [];
    private int _taken;
    private int _seen;
    private readonly DeliveryRun _run = new();
    private int _runFirstTaken;
    private ulong _pending;
    private long _receivesOfDroppedReaders;
    private long _slowReceivesOfDroppedReaders;
    private long _timedWaitsOfDroppedReaders;

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
        _serializer = serializer;
        _decoder = serializer;
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
        if (_serializer.ForQuery(context) is var decoder && !ReferenceEquals(decoder, _decoder))
        {
            // This run's query reads only some members: the serializer's projection decodes just those.
            _decoder = decoder;
            _deserializer = new DecodingDeserializer<T>(decoder);
        }

        _created = null;
        _last = position is null ? 0 : ReadPosition(position);
        _end = null;
        _completed = false;
        _consumer = null;
        _skipped = 0;
        _endPoint = ReadThroughClient ? null : NatsPullReader.EndPointOf(_url);
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

        _taken = 0;
        _seen = 0;
        _run.Clear();
        var tally = WorkItems;
        long mark = NatsWorkItemTally.Mark(tally);
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
                // A pull request of the old consumer may still be open on the own connection: start that afresh too.
                DropReader();
                await CheckStreamAsync(js, cancellationToken).ConfigureAwait(false);
                if (_options.StopAtEnd && _end is null)
                {
                    _end = await LastOfSubjectAsync(js, cancellationToken).ConfigureAwait(false);
                }

                _consumer = await CreateConsumerAsync(js, cancellationToken).ConfigureAwait(false);
                _nextSubject = Encoding.UTF8.GetBytes($"$JS.API.CONSUMER.MSG.NEXT.{_stream}.{_consumer.Info.Name}");
                _ackPrefix = Encoding.UTF8.GetBytes($"$JS.ACK.{_stream}.{_consumer.Info.Name}.");
                _delivered = 0;
            }

            tally?.Add(NatsWorkItemTally.Part.Management, ref mark);

            // NATS.Net's fetch hands every message of a request to this read, so it asks for no more than the buffer holds; the own
            // reader asks for a whole batch even when the buffer is smaller (the engine's batch), and leaves the rest of the reply in
            // its receive buffer for the next reads: fewer pull requests, and fewer waits for the server to start a reply.
            int count = Math.Min(buffer.Length, _options.BatchSize);
            // A fetch whose server went away mid-request would otherwise wait for ever: the own reader's waits end at a deadline
            // it checks between them (no timer per read), NATS.Net's fetch at a token cancelled after the same time.
            var fetched = _endPoint is not null
                ? await FetchOwnAsync(_endPoint, _options.BatchSize, buffer, Stopwatch.GetTimestamp() + RequestTimeoutTicks, cancellationToken).ConfigureAwait(false)
                : FetchOutcome.Unsupported;
            if (fetched == FetchOutcome.Unsupported)
            {
                // Through NATS.Net: from the start (TLS, credentials or several servers in the URL), or from now on (the server wants them).
                _endPoint = null;
                fetched = await FetchThroughClientAsync(_consumer, count, buffer, cancellationToken).ConfigureAwait(false);
            }

            tally?.Add(NatsWorkItemTally.Part.Fetch, ref mark);
            if (_health.Status.State != ConnectionState.Connected)
            {
                _health.Connected("sequence " + _last);
            }

            if (fetched == FetchOutcome.Broken)
            {
                _consumer = null;
                return new SourceRead(_taken, false);
            }

            if (_seen > 0 && fetched != FetchOutcome.PastEnd)
            {
                return new SourceRead(_taken, false);
            }

            if (_options.StopAtEnd)
            {
                if (fetched == FetchOutcome.PastEnd || _last >= _end)
                {
                    _completed = true;
                    return new SourceRead(_taken, true);
                }

                // Empty before the end the source saw when it opened: the consumer or the stream may be gone. Check both again.
                _consumer = null;
            }
            else if (_health.TimeProvider.GetElapsedTime(_lastCheck) >= CheckInterval)
            {
                // Nothing new: make sure that is because nothing was written, not because the stream was purged or deleted.
                await CheckStreamAsync(js, cancellationToken).ConfigureAwait(false);
                tally?.Add(NatsWorkItemTally.Part.Management, ref mark);
            }

            await Task.Delay(_options.PollInterval, _health.TimeProvider, cancellationToken).ConfigureAwait(false);
            tally?.Add(NatsWorkItemTally.Part.Waits, ref mark);
            return SourceRead.Idle;
        }
        catch (Exception ex) when ((NatsConnections.IsTransient(ex) || ex is OperationCanceledException) && !cancellationToken.IsCancellationRequested)
        {
            // Messages fetched but not received are gone from this consumer: the next read makes a new one after the last sequence.
            tally?.Add(NatsWorkItemTally.Part.Fetch, ref mark);
            _consumer = null;
            DropReader();
            if (_seen > 0)
            {
                // What arrived goes to the query (the position already covers it); the next read meets the failure again and reports it.
                return new SourceRead(_taken, false);
            }

            await _health.FailedAsync(ex, "sequence " + _last, cancellationToken).ConfigureAwait(false);
            tally?.Add(NatsWorkItemTally.Part.Waits, ref mark);
            return SourceRead.Idle;
        }
        catch (NatsJSApiException ex)
        {
            DropReader();
            var error = new InvalidOperationException($"{Name} (stream '{_stream}') cannot be read after sequence {_last}: {ex.Error.Description} ({ex.Error.ErrCode}).", ex);
            _health.Fail(error, "sequence " + _last);
            throw error;
        }
    }

    /// <summary>
    /// Gets or sets a value indicating whether messages are fetched through NATS.Net (a message object, subject string and channel
    /// hand-off per message) instead of the source's own connection (<see cref="NatsPullReader"/>, the default); servers that want
    /// TLS or credentials, and URLs naming several servers, always are. The benchmark sets it to compare the two.
    /// </summary>
    internal bool ReadThroughClient { get; set; }

    /// <summary>Gets how many socket receives the own reader made since this source was made (a diagnostic for the benchmarks).</summary>
    internal long OwnReaderReceives => _receivesOfDroppedReaders + (_reader?.Receives ?? 0);

    /// <summary>Gets how many of <see cref="OwnReaderReceives"/> waited beyond the reader's first short wait in the kernel (the server silent for more than 2 ms).</summary>
    internal long OwnReaderSlowReceives => _slowReceivesOfDroppedReaders + (_reader?.SlowReceives ?? 0);

    /// <summary>Gets how many timer waits the own reader's receives made (the server silent for more than 20 ms): a thread-pool work item each.</summary>
    internal long OwnReaderTimedWaits => _timedWaitsOfDroppedReaders + (_reader?.TimedWaits ?? 0);

    /// <summary>
    /// Gets or sets where the thread pool's work items went while this source worked, and whether the runtime's socket engine
    /// watched its own reader's sockets (a diagnostic for the connector benchmark; <see langword="null"/>, the default: not counted).
    /// </summary>
    internal NatsWorkItemTally? WorkItems { get; set; }

    /// <summary>How long one read may take (<see cref="NatsConnections.RequestTimeout"/>), in <see cref="Stopwatch"/> ticks.</summary>
    private static long RequestTimeoutTicks => (long)(NatsConnections.RequestTimeout.TotalSeconds * Stopwatch.Frequency);

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
        var tally = WorkItems;
        long mark = NatsWorkItemTally.Mark(tally);
        DropReader();
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

        tally?.Add(NatsWorkItemTally.Part.Management, ref mark);
        await base.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Fetches through the source's own connection (<see cref="NatsPullReader"/>): a pull request is sent (unless the last read sent
    /// it ahead), and each message's payload is decoded where it lies in the receive buffer. When a request was filled (the stream
    /// likely has more), the next one is sent before this read returns, so the server answers while the query works. While at most
    /// half a request's messages are still to come and the stream is known to hold enough messages to fill the open requests and the
    /// next one (the pending count of the last message checked), the next request is sent already (<see cref="SendAhead"/>):
    /// the server goes on from one request to the next without waiting for the client.
    /// </summary>
    /// <remarks>
    /// Every send and receive happens on the reading thread (<see cref="NatsPullReader"/>): no asynchronous socket operation, so no
    /// arrival of bytes wakes a thread-pool worker. The reader's waits end at <paramref name="deadline"/> (a <see cref="TimeoutException"/>).
    /// </remarks>
    private async ValueTask<FetchOutcome> FetchOwnAsync(EndPoint endPoint, int count, Memory<T> buffer, long deadline, CancellationToken cancellationToken)
    {
        if (_reader is null)
        {
            var tally = WorkItems;
            long mark = NatsWorkItemTally.Mark(tally);
            try
            {
                _reader = await NatsPullReader.ConnectAsync(endPoint, NatsConnections.RequestTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (NotSupportedException)
            {
                return FetchOutcome.Unsupported;
            }
            finally
            {
                tally?.Add(NatsWorkItemTally.Part.Connect, ref mark);
            }
        }

        var reader = _reader;
        if (!reader.RequestOpen)
        {
            reader.SendPull(_nextSubject, count);
        }

        FetchOutcome fetched;
        while ((fetched = Take(reader, buffer.Span)) == FetchOutcome.More)
        {
            if (reader.PongDue)
            {
                reader.SendPong();
            }

            SendAhead(reader, count);
            await reader.ReceiveAsync(deadline, cancellationToken).ConfigureAwait(false);
        }

        if (reader.PongDue)
        {
            reader.SendPong();
        }

        if (fetched == FetchOutcome.Done && reader.LastRequestFilled && !(_end is { } end && _last >= end))
        {
            reader.SendPull(_nextSubject, count);
        }
        else if (fetched == FetchOutcome.Full)
        {
            SendAhead(reader, count);
        }

        return fetched;
    }

    /// <summary>
    /// Sends the next pull request while requests are open, when at most half a request's messages are still to come and the stream
    /// held enough messages after the last one checked to fill them all (its pending count): none can then end early with a status,
    /// so counting their messages together is exact (<see cref="NatsPullReader.SendPull"/>).
    /// </summary>
    private void SendAhead(NatsPullReader reader, int count)
    {
        if (reader.RequestOpen && reader.Outstanding <= count / 2 && _pending >= (ulong)reader.Outstanding + (ulong)count && !(_end is { } end && _last >= end))
        {
            reader.SendPull(_nextSubject, count);
        }
    }

    /// <summary>Takes the messages received so far into <paramref name="buffer"/>, until the request ends, the buffer is full or more bytes are needed.</summary>
    /// <remarks>
    /// A taken message's place is not read from its reply subject one message at a time: the subject is noted (<see cref="DeliveryRun"/>),
    /// and the run of messages taken since the last check is checked at once from its last message (<see cref="Settle"/>) before this
    /// returns (so before the receive buffer changes), before a dead letter (which names its own sequence) and when the framing fails.
    /// A run with a message out of place is cut there, as the message-by-message check did.
    /// </remarks>
    private FetchOutcome Take(NatsPullReader reader, Span<T> buffer)
    {
        try
        {
            while (_taken < buffer.Length)
            {
                if (!reader.TryTakeMessage(out var message))
                {
                    var settled = Settle(reader);
                    return settled != FetchOutcome.More ? settled : reader.RequestOpen ? FetchOutcome.More : FetchOutcome.Done;
                }

                var bytes = reader.Bytes;
                var payload = bytes.Slice(message.PayloadStart, message.PayloadLength);
                string? error = EmptyMessage;
                if (!payload.IsEmpty)
                {
                    try
                    {
                        buffer[_taken] = _decoder.Deserialize(payload);
                        error = null;
                    }
                    catch (Exception ex)
                    {
                        error = ex.Message;
                    }
                }

                if (error is null)
                {
                    if (_run.Count == 0)
                    {
                        _runFirstTaken = _taken;
                    }

                    _run.Add(message.ReplyStart, message.ReplyLength);
                    _taken++;
                    continue;
                }

                // A dead letter: the run before it is checked first, then its own place (the letter names its sequence). The pending
                // count of the run's last message is then out of date (more messages came), so no request is sent ahead on it.
                var outcome = Settle(reader);
                _pending = 0;
                if (outcome == FetchOutcome.More)
                {
                    outcome = Accept(bytes.Slice(message.ReplyStart, message.ReplyLength));
                }

                if (outcome != FetchOutcome.More)
                {
                    return outcome;
                }

                DeadLetter(error, Encoding.UTF8.GetString(payload));
            }

            var last = Settle(reader);
            return last != FetchOutcome.More ? last : reader.RequestOpen ? FetchOutcome.Full : FetchOutcome.Done;
        }
        catch
        {
            // The framing failed after some messages were taken: they go to the query with their place (the read returns them).
            Settle(reader);
            throw;
        }
    }

    /// <summary>
    /// Checks the run of messages taken since the last check (<see cref="DeliveryRun.Check"/>): the position moves to its last message
    /// in place, and the messages from the first one out of place on are taken back.
    /// </summary>
    private FetchOutcome Settle(NatsPullReader reader)
    {
        if (_run.Count == 0)
        {
            return FetchOutcome.More;
        }

        var outcome = _run.Check(reader.Bytes, _ackPrefix, _end, ref _last, ref _delivered, out int kept, out _pending);
        _seen += kept;
        _taken = _runFirstTaken + kept;
        return outcome;
    }

    /// <summary>Fetches through NATS.Net, which calls the source's deserializer on each message as it arrives (within <see cref="NatsConnections.RequestTimeout"/>).</summary>
    private async ValueTask<FetchOutcome> FetchThroughClientAsync(INatsJSConsumer consumer, int count, Memory<T> buffer, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(NatsConnections.RequestTimeout);
        await foreach (var message in consumer.FetchNoWaitAsync(new NatsJSFetchOpts { MaxMsgs = count }, _deserializer, timeout.Token).ConfigureAwait(false))
        {
            var outcome = Accept(message.ReplyTo);
            if (outcome != FetchOutcome.More)
            {
                return outcome;
            }

            var decoded = message.Data;
            if (decoded.HasValue)
            {
                buffer.Span[_taken++] = decoded.Value;
            }
            else
            {
                DeadLetter(decoded.Error ?? EmptyMessage, decoded.Raw ?? string.Empty);
            }
        }

        return FetchOutcome.Done;
    }

    /// <summary>
    /// Checks a message's place from its reply subject (<see cref="DeliveryRun.Accept(ulong, ulong, ulong?, ref ulong, ref ulong)"/>):
    /// the consumer numbers what it delivers 1, 2, 3...; a jump means messages sent to this consumer never arrived (a fetch cut short by
    /// a stopped or paused server, or one this source stopped reading). Without acknowledgements the server counts them as delivered,
    /// so the only safe move is a new consumer just after the last sequence received (<see cref="FetchOutcome.Broken"/>). A message
    /// past a bounded replay's end is <see cref="FetchOutcome.PastEnd"/>; otherwise the position moves to it (<see cref="FetchOutcome.More"/>).
    /// </summary>
    private FetchOutcome Accept(ReadOnlySpan<byte> replyTo) => Counted(DeliveryRun.Accept(replyTo, _ackPrefix, _end, ref _last, ref _delivered));

    private FetchOutcome Accept(string? replyTo) =>
        JetStreamReplySubject.TryParseSequences(replyTo, out ulong sequence, out ulong delivered)
            ? Counted(DeliveryRun.Accept(sequence, delivered, _end, ref _last, ref _delivered))
            : FetchOutcome.Broken;

    private FetchOutcome Counted(FetchOutcome outcome)
    {
        if (outcome == FetchOutcome.More)
        {
            _seen++;
        }

        return outcome;
    }

    private void DeadLetter(string reason, string record) =>
        _context!.DeadLetters.Write(LinqStream.DeadLetter.Create(Name, "sequence " + _last, reason, record));

    private void DropReader()
    {
        _pending = 0;
        if (_reader is not { } reader)
        {
            return;
        }

        _receivesOfDroppedReaders += reader.Receives;
        _slowReceivesOfDroppedReaders += reader.SlowReceives;
        _timedWaitsOfDroppedReaders += reader.TimedWaits;
        WorkItems?.Dropped(reader.SocketWatchedByEpoll);
        reader.Dispose();
        _reader = null;
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
