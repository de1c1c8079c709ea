using System.Text;
using LinqStream.Connectors.Nats;
using NATS.Client.Core;
using NATS.Client.JetStream;

namespace LinqStream;

/// <summary>
/// Keeps rejected records in a NATS JetStream subject: the record is the payload, and the headers <c>LinqStream-Source</c>,
/// <c>LinqStream-Position</c> and <c>LinqStream-Reason</c> say where it came from and why.
/// </summary>
/// <remarks>
/// The stream is created (file storage) when missing. <see cref="Write"/> waits for JetStream's acknowledgement, so a dead
/// letter is stored before the source moves past its record; if the server cannot be reached, <see cref="Write"/> throws and
/// the query fails rather than losing the record.
/// </remarks>
public sealed class NatsDeadLetterSink : IDeadLetterSink, IAsyncDisposable
{
    private readonly NatsConnection _connection;
    private readonly NatsJSContext _js;
    private readonly string _subject;
    private readonly string _stream;
    private bool _streamReady;

    /// <summary>Initializes a new instance of the <see cref="NatsDeadLetterSink"/> class.</summary>
    /// <param name="url">The server, for example <c>nats://127.0.0.1:4222</c>.</param>
    /// <param name="subject">The dead-letter subject.</param>
    /// <param name="stream">The stream that stores it; <see langword="null"/> for the subject with '.', '*' and '&gt;' replaced by '_'.</param>
    public NatsDeadLetterSink(string url, string subject, string? stream = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(url);
        ArgumentException.ThrowIfNullOrWhiteSpace(subject);
        _subject = subject;
        _stream = stream ?? NatsConnections.DefaultStreamName(subject);
        _connection = NatsConnections.Connect(url, ReconnectPolicy.Default);
        _js = new NatsJSContext(_connection);
    }

    /// <inheritdoc/>
    public void Write(DeadLetter letter)
    {
        ArgumentNullException.ThrowIfNull(letter);
        // IDeadLetterSink is synchronous (sources call it from their reader task): wait for the acknowledgement here.
        WriteAsync(letter).AsTask().GetAwaiter().GetResult();
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => _connection.DisposeAsync();

    private async ValueTask WriteAsync(DeadLetter letter)
    {
        if (!_streamReady)
        {
            await NatsConnections.EnsureStreamAsync(_js, _stream, _subject, CancellationToken.None).ConfigureAwait(false);
            _streamReady = true;
        }

        var headers = new NatsHeaders
        {
            ["LinqStream-Source"] = letter.Source,
            ["LinqStream-Position"] = letter.Position,
            ["LinqStream-Reason"] = OneLine(letter.Reason),
        };
        var ack = await _js.PublishAsync<byte[]>(_subject, Encoding.UTF8.GetBytes(letter.Record), headers: headers).ConfigureAwait(false);
        ack.EnsureSuccess();
    }

    // A header value cannot hold a line break.
    private static string OneLine(string text) => text.Replace('\r', ' ').Replace('\n', ' ');
}
