using System.Globalization;
using System.Text;
using LinqStream.Connectors;
using LinqStream.Connectors.Nats;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace LinqStream;

/// <summary>
/// Publishes a job's results to a NATS JetStream subject, exactly once across restores: the n-th result carries the header
/// <c>Nats-Msg-Id: prefix-n</c> and the checkpoint keeps n, so a restored job skips what the last message on the subject
/// shows was written, and the server's duplicate window drops any publish that is retried.
/// </summary>
/// <typeparam name="T">The result type.</typeparam>
/// <remarks>
/// <para>The subject belongs to the sink: opening it reads the last message's id to learn how far an earlier run got. A fresh
/// job (no checkpoint) over a subject that already holds its output skips those messages, as a restore would; to start a new
/// output, purge the subject or use another.</para>
/// <para>Up to <see cref="NatsJetStreamSinkOptions.ChunkSize"/> publishes are in flight at once; each chunk's acknowledgements
/// are awaited, and a chunk that failed is published again (the ids make that harmless). Exactly-once needs a deterministic
/// query (event time, no processing time).</para>
/// <para>The protocol (sequence in the checkpoint, skip on restore, bounded retries) is <see cref="ExactlyOnceSinkProtocol{T}"/>,
/// shared with the Redis sink; this class is the JetStream side of it (<see cref="IExactlyOnceTarget"/>).</para>
/// </remarks>
public sealed class NatsJetStreamSink<T> : EventSink<T>, IExactlyOnceTarget
{
    private const byte StateFormat = 2;
    private const string MessageIdHeader = "Nats-Msg-Id";
    private readonly string _url;
    private readonly string _subject;
    private readonly string _stream;
    private readonly string _prefix;
    private readonly NatsJetStreamSinkOptions _options;
    private readonly ConnectorHealth _health;
    private readonly ExactlyOnceSinkProtocol<T> _protocol;
    private readonly List<Task<PubAckResponse>> _acks = [];
    private NatsConnection? _connection;
    private NatsJSContext? _js;
    private ulong _streamSequence;

    /// <summary>Initializes a new instance of the <see cref="NatsJetStreamSink{T}"/> class.</summary>
    /// <param name="url">The server, for example <c>nats://127.0.0.1:4222</c>.</param>
    /// <param name="subject">The subject to publish to.</param>
    /// <param name="serializer">Encodes a result into the message payload.</param>
    /// <param name="options">The settings, or <see langword="null"/> for <see cref="NatsJetStreamSinkOptions.Default"/>.</param>
    public NatsJetStreamSink(string url, string subject, EventSerializer<T> serializer, NatsJetStreamSinkOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(url);
        ArgumentException.ThrowIfNullOrWhiteSpace(subject);
        ArgumentNullException.ThrowIfNull(serializer);
        _url = url;
        _subject = subject;
        _options = options ?? NatsJetStreamSinkOptions.Default;
        _stream = _options.Stream ?? NatsConnections.DefaultStreamName(subject);
        _prefix = _options.MessageIdPrefix ?? subject;
        Name = NatsConnections.Name(url, subject);
        _health = new ConnectorHealth(Name, _options.Reconnect, status => StatusChanged?.Invoke(this, status));
        _protocol = new ExactlyOnceSinkProtocol<T>(Name, "a JetStream sink", StateFormat, serializer, _options.ChunkSize, _health);
    }

    /// <summary>Raised on every change of the connection state, with the error while reconnecting.</summary>
    public event EventHandler<ConnectionStatus>? StatusChanged;

    /// <inheritdoc/>
    public override string Name { get; }

    /// <inheritdoc/>
    /// <value>Always <see langword="true"/>: a restored job neither repeats nor loses messages.</value>
    public override bool IsTransactional => true;

    /// <summary>Gets the current connection state.</summary>
    public ConnectionStatus Status => _health.Status;

    /// <summary>Gets the number of results the job has produced so far (the last message id is <c>prefix-</c>this number).</summary>
    public long Sequence => _protocol.Sequence;

    /// <inheritdoc/>
    public override async ValueTask OpenAsync(byte[]? committed, CancellationToken cancellationToken)
    {
        long restored = _protocol.ReadCommitted(committed);
        if (_connection is not null)
        {
            throw new InvalidOperationException($"{Name} is already open: one job at a time writes through a sink instance.");
        }

        _connection = NatsConnections.Connect(_url, _options.Reconnect);
        _js = new NatsJSContext(_connection);
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
            _js = null;
            _protocol.Close();
        }

        await base.DisposeAsync().ConfigureAwait(false);
    }

    async ValueTask<long> IExactlyOnceTarget.OpenAsync(CancellationToken cancellationToken)
    {
        var js = _js ?? throw new InvalidOperationException($"{Name} is not open; call OpenAsync first.");
        await NatsConnections.EnsureConnectedAsync(_connection!).ConfigureAwait(false);
        await NatsConnections.EnsureStreamAsync(js, _stream, _subject, cancellationToken).ConfigureAwait(false);
        long last = await ReadLastWrittenAsync(js, cancellationToken).ConfigureAwait(false);
        _protocol.RetryLimit = await RetryLimitAsync(js, cancellationToken).ConfigureAwait(false);
        return last;
    }

    async ValueTask IExactlyOnceTarget.WriteAsync(ExactlyOnceChunk chunk, bool retry, CancellationToken cancellationToken)
    {
        // Before publishing again the sink reads which ids the stream holds and drops those; the server's duplicate window
        // catches the rest. Retries stop within the duplicate window (or GiveUpAfter), past which a repeat could be stored twice.
        var js = _js ?? throw new InvalidOperationException($"{Name} is not open; call OpenAsync first.");
        if (retry && await DropStoredAsync(js, chunk, cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        await PublishPendingAsync(js, chunk, cancellationToken).ConfigureAwait(false);
    }

    bool IExactlyOnceTarget.IsTransient(Exception error) => NatsConnections.IsTransient(error);

    string IExactlyOnceTarget.Position(long sequence) => string.Create(CultureInfo.InvariantCulture, $"{_prefix}-{sequence}");

    Exception IExactlyOnceTarget.LostCommittedOutput(long last, long committed) => new InvalidOperationException(
        $"{Name} ends at message {_prefix}-{last}, but the checkpoint committed {committed} messages: the stream lost committed output (was it purged, or did the server lose its data?).");

    private async ValueTask PublishPendingAsync(NatsJSContext js, ExactlyOnceChunk chunk, CancellationToken cancellationToken)
    {
        await NatsConnections.EnsureConnectedAsync(_connection!).ConfigureAwait(false);
        _acks.Clear();
        try
        {
            for (int i = 0; i < chunk.Count; i++)
            {
                var (sequence, bytes) = chunk[i];
                var id = string.Create(CultureInfo.InvariantCulture, $"{_prefix}-{sequence}");
                var headers = new NatsHeaders { [MessageIdHeader] = id };
                _acks.Add(js.PublishAsync(_subject, bytes, headers: headers, cancellationToken: cancellationToken).AsTask());
            }

            Exception? failure = null;
            for (int i = 0; i < _acks.Count; i++)
            {
                try
                {
                    var ack = await _acks[i].ConfigureAwait(false);
                    if (ack.Error is { } error)
                    {
                        throw new NatsJSApiException(error);
                    }

                    // ack.Duplicate: the server already holds this id (a publish retried after a lost acknowledgement): written once, as wanted.
                    if (!ack.Duplicate)
                    {
                        // A new message must land after every message stored before it. A lower sequence means the stream lost
                        // messages it had acknowledged (a server that came back without its latest data, a purge): writing on
                        // would leave a hole, even though no publish failed.
                        if (ack.Seq <= _streamSequence)
                        {
                            var backwards = new InvalidOperationException(
                                $"{Name} stored message {_prefix}-{chunk[i].Sequence} at stream sequence {ack.Seq}, but the stream had already acknowledged sequence {_streamSequence}: the stream went backwards (purged, or the server came back without its latest data). The job stops rather than write a stream with a hole in it; restore the output or start over with a new subject.");
                            _health.Fail(backwards, $"{_prefix}-{chunk[i].Sequence}");
                            throw backwards;
                        }

                        _streamSequence = ack.Seq;
                    }
                }
                catch (Exception ex) when (failure is null)
                {
                    failure = ex;
                }
                catch (Exception)
                {
                    // The first failure is reported; the others are the same outage.
                }
            }

            if (failure is not null)
            {
                if (failure is NatsJSApiException api && !NatsConnections.IsTransient(api))
                {
                    throw new InvalidOperationException($"{Name} refused messages {_prefix}-{chunk.FirstSequence} to {_prefix}-{chunk.LastSequence}: {api.Error.Description} ({api.Error.ErrCode}).", api);
                }

                throw failure;
            }
        }
        finally
        {
            _acks.Clear();
        }
    }

    /// <summary>
    /// Before a retry: drops the pending messages the stream already holds, and fails when it holds fewer than were confirmed
    /// before this chunk (the stream was purged, deleted, or the server came back without its data). True when nothing is left.
    /// </summary>
    private async ValueTask<bool> DropStoredAsync(NatsJSContext js, ExactlyOnceChunk chunk, CancellationToken cancellationToken)
    {
        await NatsConnections.EnsureConnectedAsync(_connection!).ConfigureAwait(false);
        long first = chunk.StartSequence;
        long stored;
        try
        {
            stored = await ReadLastWrittenAsync(js, cancellationToken).ConfigureAwait(false);
        }
        catch (NatsJSApiException ex) when (ex.Error.Code == 404)
        {
            stored = -1;
        }

        if (stored < first - 1)
        {
            var error = new InvalidOperationException(stored < 0
                ? $"{Name}: the stream '{_stream}' is gone (deleted, or the server came back without its data), but it held the results up to {_prefix}-{first - 1}. The job stops rather than write a stream with a hole in it; restore the output or start over with a new subject."
                : $"{Name} ends at message {_prefix}-{stored}, but it held the results up to {_prefix}-{first - 1}: the stream went backwards (purged, or the server came back without its data). The job stops rather than write a stream with a hole in it; restore the output or start over with a new subject.");
            _health.Fail(error, $"{_prefix}-{first}");
            throw error;
        }

        return chunk.DropThrough(stored);
    }

    private async ValueTask<TimeSpan> RetryLimitAsync(NatsJSContext js, CancellationToken cancellationToken)
    {
        var stream = await js.GetStreamAsync(_stream, cancellationToken: cancellationToken).ConfigureAwait(false);
        _streamSequence = stream.Info.State.LastSeq;
        if (_options.Reconnect.GiveUpAfter is { } limit)
        {
            return limit;
        }

        var window = stream.Info.Config.DuplicateWindow;
        // Retrying past the duplicate window could store a message twice; stop a little before it (the server default is 2 min).
        return window > TimeSpan.FromSeconds(2) ? window - TimeSpan.FromSeconds(1) : ConnectorHealth.DefaultSinkGiveUpAfter;
    }

    private async ValueTask<long> ReadLastWrittenAsync(NatsJSContext js, CancellationToken cancellationToken)
    {
        var stream = await js.GetStreamAsync(_stream, cancellationToken: cancellationToken).ConfigureAwait(false);
        StreamMsgGetResponse last;
        try
        {
            last = await stream.GetAsync(new StreamMsgGetRequest { LastBySubj = _subject }, cancellationToken).ConfigureAwait(false);
        }
        catch (NatsJSApiException ex) when (ex.Error.Code == 404)
        {
            return 0;
        }

        var id = MessageId(last.Message.Hdrs);
        var expected = _prefix + "-";
        if (id is null || !id.StartsWith(expected, StringComparison.Ordinal)
            || !long.TryParse(id.AsSpan(expected.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var sequence))
        {
            throw new InvalidOperationException(
                $"{Name} holds message {last.Message.Seq} with id '{id}', which this sink did not write (its ids are '{_prefix}-1', '{_prefix}-2', ...). Publish the results to a new subject, or purge this one.");
        }

        return sequence;
    }

    /// <summary>Finds <c>Nats-Msg-Id</c> in a stored message's headers (base64 of <c>NATS/1.0\r\nName: value\r\n...</c>).</summary>
    private static string? MessageId(string? base64Headers)
    {
        if (string.IsNullOrEmpty(base64Headers))
        {
            return null;
        }

        var text = Encoding.UTF8.GetString(Convert.FromBase64String(base64Headers));
        foreach (var line in text.Split("\r\n"))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line.AsSpan(0, colon).Trim().Equals(MessageIdHeader, StringComparison.OrdinalIgnoreCase))
            {
                return line[(colon + 1)..].Trim();
            }
        }

        return null;
    }
}
