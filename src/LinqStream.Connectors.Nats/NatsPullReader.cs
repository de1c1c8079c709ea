using System.Buffers.Text;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace LinqStream.Connectors.Nats;

/// <summary>
/// A JetStream source's own connection for pull requests: it writes the NATS protocol's <c>PUB</c> of a pull request to the socket
/// and parses the <c>MSG</c>/<c>HMSG</c> frames of the reply from the receive buffer, so the source decodes each payload where it
/// lies and reads the sequences from the reply subject's bytes — no message object, subject string, channel or task hop per
/// message (what NATS.Net's fetch costs). The next pull request may be sent while one is open (<see cref="SendPullAsync"/>).
/// </summary>
/// <remarks>
/// <para>Plain TCP to one server without authentication (the server's <c>INFO</c> must not require TLS or credentials; otherwise
/// <see cref="ConnectAsync"/> throws <see cref="NotSupportedException"/> and the source reads through NATS.Net). Management —
/// streams, consumers, stream checks — stays on the source's NATS.Net connection.</para>
/// <para>Every wait is bounded by the caller's token. A server <c>PING</c> is answered (<see cref="PongDue"/>); <c>-ERR</c> is an
/// <see cref="IOException"/> (the source reconnects). Not thread-safe: one source's reads use it one at a time.</para>
/// </remarks>
internal sealed class NatsPullReader : IDisposable
{
    /// <summary>The longest protocol line (a control line of a message) read before the reader gives up on the framing.</summary>
    private const int MaxControlLine = 64 * 1024;

    /// <summary>
    /// How long a receive waits in the kernel (<c>poll</c>) for bytes that are not there yet before it falls back to an asynchronous
    /// receive: the server is mid-reply most of the time, and sleeping here costs no CPU, where an asynchronous receive hands its
    /// completion to a thread-pool worker (whose idle siblings spin for work) and costs an <c>epoll</c> registration.
    /// </summary>
    private const int PollMicroseconds = 2_000;

    /// <summary>The receive buffer's first size: about 1,500 NEXMark bids per receive (it grows to the largest message).</summary>
    private const int InitialBufferSize = 512 * 1024;

    private readonly Socket _socket;
    private readonly byte[] _inbox;
    private byte[] _buffer = new byte[InitialBufferSize];
    private byte[] _command = new byte[512];
    private int _start;
    private int _length;
    private long _requestNumber;
    private long _firstOpen = 1;
    private int _replyLength;
    private byte[] _reply = new byte[64];
    private int _pongsDue;

    private NatsPullReader(Socket socket)
    {
        _socket = socket;
        _inbox = Encoding.ASCII.GetBytes("_INBOX." + Guid.NewGuid().ToString("N") + ".");
    }

    /// <summary>Gets a value indicating whether a pull request is open: sent, and neither all its messages nor its end status read yet.</summary>
    public bool RequestOpen => _firstOpen <= _requestNumber;

    /// <summary>
    /// Gets how many pull requests may be open: those sent since the last time every message asked for had come (or a status ended
    /// the requests). The server hands the messages of open requests out in turn, so a request whose messages all came while a later
    /// one was open still counts until the later one ends.
    /// </summary>
    public long OpenRequests => _requestNumber - _firstOpen + 1;

    /// <summary>Gets how many messages the open requests may still deliver, together.</summary>
    public int Outstanding { get; private set; }

    /// <summary>Gets a value indicating whether the last requests ended because all the messages they asked for came (so the stream likely has more).</summary>
    public bool LastRequestFilled { get; private set; }

    /// <summary>Gets a value indicating whether the server sent a <c>PING</c> that <see cref="SendPongAsync"/> has not answered yet.</summary>
    public bool PongDue => _pongsDue > 0;

    /// <summary>Gets how many socket receives brought bytes (a diagnostic: messages per receive say what the per-receive costs weigh).</summary>
    public long Receives { get; private set; }

    /// <summary>Gets how many of <see cref="Receives"/> were asynchronous (nothing arrived within the short wait in the kernel).</summary>
    public long AsynchronousReceives { get; private set; }

    /// <summary>Gets the size of the receive buffer (it grows to the largest message).</summary>
    public int BufferSize => _buffer.Length;

    /// <summary>
    /// Gets the server of <paramref name="url"/> when this reader can serve it: one server, <c>nats://</c> or a bare host and port,
    /// no credentials in the URL. Otherwise <see langword="null"/> (the source reads through NATS.Net).
    /// </summary>
    public static EndPoint? EndPointOf(string url)
    {
        var text = url.Trim();
        if (text.Length == 0 || text.Contains(',', StringComparison.Ordinal))
        {
            return null;
        }

        if (!text.Contains("://", StringComparison.Ordinal))
        {
            text = "nats://" + text;
        }

        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme != "nats" || uri.UserInfo.Length > 0 || uri.Host.Length == 0)
        {
            return null;
        }

        int port = uri.Port > 0 ? uri.Port : 4222;
        return IPAddress.TryParse(uri.Host, out var address) ? new IPEndPoint(address, port) : new DnsEndPoint(uri.Host, port);
    }

    /// <summary>Connects, reads the server's <c>INFO</c>, sends <c>CONNECT</c> (headers and no-responders on) and the inbox subscription, and waits for the <c>PONG</c>.</summary>
    /// <exception cref="NotSupportedException">The server requires TLS or authentication, or does not speak headers.</exception>
    public static async Task<NatsPullReader> ConnectAsync(EndPoint endPoint, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var reader = new NatsPullReader(socket);
        try
        {
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bounded.CancelAfter(timeout);
            try
            {
                await socket.ConnectAsync(endPoint, bounded.Token).ConfigureAwait(false);
                await reader.HandshakeAsync(bounded.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"Connecting to the NATS server at {endPoint} took longer than {timeout.TotalSeconds:0.#} s.");
            }

            return reader;
        }
        catch
        {
            reader.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Sends a pull request (<c>$JS.API.CONSUMER.MSG.NEXT</c>) for up to <paramref name="count"/> messages that does not wait for new
    /// ones. Another request may be sent while one is open, so the server goes on without waiting for the client, but only when the
    /// stream is known to hold enough messages to fill all of them (the caller's judgement, from the pending count of the messages
    /// received): the server hands the messages of open requests out in turn, so they cannot be told apart and only their total
    /// (<see cref="Outstanding"/>) is counted; a status that ends one of several open requests early fails the connection.
    /// </summary>
    /// <param name="nextSubject">The consumer's next-message subject, <c>$JS.API.CONSUMER.MSG.NEXT.stream.consumer</c>, in UTF-8.</param>
    /// <param name="count">The most messages to deliver.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    public async ValueTask SendPullAsync(byte[] nextSubject, int count, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        _requestNumber++;
        _replyLength = 0;
        Append(ref _reply, ref _replyLength, _inbox);
        AppendNumber(ref _reply, ref _replyLength, _requestNumber);

        Span<byte> body = stackalloc byte[64];
        int bodyLength = 0;
        "{\"batch\":"u8.CopyTo(body);
        bodyLength += 9;
        Utf8Formatter.TryFormat(count, body[bodyLength..], out int digits);
        bodyLength += digits;
        ",\"no_wait\":true}"u8.CopyTo(body[bodyLength..]);
        bodyLength += 16;

        int length = 0;
        Append(ref _command, ref length, "PUB "u8);
        Append(ref _command, ref length, nextSubject);
        Append(ref _command, ref length, " "u8);
        Append(ref _command, ref length, _reply.AsSpan(0, _replyLength));
        Append(ref _command, ref length, " "u8);
        AppendNumber(ref _command, ref length, bodyLength);
        Append(ref _command, ref length, "\r\n"u8);
        Append(ref _command, ref length, body[..bodyLength]);
        Append(ref _command, ref length, "\r\n"u8);
        await SendAsync(length, cancellationToken).ConfigureAwait(false);
        LastRequestFilled = false;
        Outstanding += count;
    }

    /// <summary>Answers each <c>PING</c> the server sent since the last answer.</summary>
    public async ValueTask SendPongAsync(CancellationToken cancellationToken)
    {
        int length = 0;
        for (int i = 0; i < _pongsDue; i++)
        {
            Append(ref _command, ref length, "PONG\r\n"u8);
        }

        await SendAsync(length, cancellationToken).ConfigureAwait(false);
        _pongsDue = 0;
    }

    /// <summary>
    /// Receives more bytes into the buffer (what was not parsed yet stays, moved to the front when the buffer runs out of room).
    /// Throws <see cref="IOException"/> when the server closed the connection.
    /// </summary>
    /// <remarks>
    /// Bytes already in the socket, or arriving within a short wait in the kernel, are taken with a synchronous receive on the
    /// calling thread: one <c>recv</c>, no asynchronous operation, no completion handed to another thread. Only when the server is
    /// silent for longer does the receive go asynchronous (and honour <paramref name="cancellationToken"/> while it waits).
    /// </remarks>
    public ValueTask ReceiveAsync(CancellationToken cancellationToken)
    {
        if (_start == _length)
        {
            _start = 0;
            _length = 0;
        }
        else
        {
            SocketBuffers.MakeRoom(ref _buffer, ref _start, ref _length);
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (_socket.Available > 0 || _socket.Poll(PollMicroseconds, SelectMode.SelectRead))
        {
            // Readable: bytes, or the end of the connection (0 bytes), or an error (the receive throws it).
            Received(_socket.Receive(_buffer.AsSpan(_length), SocketFlags.None));
            return ValueTask.CompletedTask;
        }

        return ReceiveAsynchronouslyAsync(cancellationToken);
    }

    private async ValueTask ReceiveAsynchronouslyAsync(CancellationToken cancellationToken)
    {
        AsynchronousReceives++;
        Received(await _socket.ReceiveAsync(_buffer.AsMemory(_length), SocketFlags.None, cancellationToken).ConfigureAwait(false));
    }

    private void Received(int received)
    {
        if (received == 0)
        {
            throw new IOException("The NATS server closed the connection.");
        }

        _length += received;
        Receives++;
    }

    /// <summary>
    /// Takes the next message of the open request from what was received: a data message, or the status that ends the request
    /// (<c>404 No Messages</c>, <c>408 Request Timeout</c>: <see cref="RequestOpen"/> becomes false, and the message is not returned).
    /// Protocol lines between messages (<c>PING</c>, <c>PONG</c>, <c>+OK</c>, <c>INFO</c>) are handled here.
    /// </summary>
    /// <param name="message">The data message; its spans index <see cref="Bytes"/>, valid until the next <see cref="ReceiveAsync"/>.</param>
    /// <returns>True for a data message; false when more bytes are needed, or the request has ended.</returns>
    /// <exception cref="IOException">The server sent <c>-ERR</c>, or framing this reader cannot follow.</exception>
    /// <exception cref="NatsPullFailedException">The request ended with another status (the consumer is gone: <c>409</c>, <c>503</c>).</exception>
    public bool TryTakeMessage(out NatsPullMessage message)
    {
        message = default;
        while (RequestOpen)
        {
            var data = _buffer.AsSpan(_start, _length - _start);
            int newline = data.IndexOf("\r\n"u8);
            if (newline < 0)
            {
                if (data.Length > MaxControlLine)
                {
                    throw new IOException($"The NATS server sent a protocol line longer than {MaxControlLine} bytes.");
                }

                return false;
            }

            var line = data[..newline];
            if (line.StartsWith("MSG "u8) || line.StartsWith("HMSG "u8))
            {
                if (!TryFrame(data, newline, out message, out int used))
                {
                    return false;
                }

                _start += used;
                if (!message.IsStatus)
                {
                    if (--Outstanding == 0)
                    {
                        _firstOpen = _requestNumber + 1;
                        LastRequestFilled = true;
                    }

                    return true;
                }

                EndWithStatus(message);
                continue;
            }

            _start += newline + 2;
            if (line.SequenceEqual("PING"u8))
            {
                _pongsDue++;
            }
            else if (line.StartsWith("-ERR"u8))
            {
                throw new IOException($"The NATS server answered {Encoding.UTF8.GetString(line)}.");
            }
            else if (!(line.SequenceEqual("PONG"u8) || line.SequenceEqual("+OK"u8) || line.StartsWith("INFO "u8)))
            {
                throw new IOException($"The NATS server sent a protocol line this reader does not know: '{Text(line)}'.");
            }
        }

        return false;
    }

    /// <summary>Gets the receive buffer that <see cref="NatsPullMessage"/>'s offsets index.</summary>
    public ReadOnlySpan<byte> Bytes => _buffer;

    public void Dispose() => _socket.Dispose();

    /// <summary>
    /// Reads one <c>MSG subject sid [reply] size</c> or <c>HMSG subject sid [reply] header-size total-size</c> frame whose control line
    /// ends at <paramref name="newline"/>; false while its payload has not all arrived.
    /// </summary>
    private bool TryFrame(ReadOnlySpan<byte> data, int newline, out NatsPullMessage message, out int used)
    {
        message = default;
        used = 0;
        bool headers = data[0] == (byte)'H';
        var line = data[..newline];
        Span<int> starts = stackalloc int[6];
        Span<int> lengths = stackalloc int[6];
        int tokens = 0;
        int at = headers ? 5 : 4;
        while (at < line.Length)
        {
            if (line[at] == (byte)' ')
            {
                at++;
                continue;
            }

            int end = line[at..].IndexOf((byte)' ');
            end = end < 0 ? line.Length : at + end;
            if (tokens == starts.Length)
            {
                throw new IOException($"The NATS server sent a message line with too many fields: '{Text(line)}'.");
            }

            starts[tokens] = at;
            lengths[tokens++] = end - at;
            at = end;
        }

        int expected = headers ? 4 : 3;
        if (tokens != expected && tokens != expected + 1)
        {
            throw new IOException($"The NATS server sent a message line this reader cannot read: '{Text(line)}'.");
        }

        int total = Number(line.Slice(starts[tokens - 1], lengths[tokens - 1]), line);
        int headerSize = headers ? Number(line.Slice(starts[tokens - 2], lengths[tokens - 2]), line) : 0;
        if (headerSize > total)
        {
            throw new IOException($"The NATS server sent a message whose headers are longer than the message: '{Text(line)}'.");
        }

        int payloadStart = newline + 2;
        if (payloadStart + total + 2 > data.Length)
        {
            return false;
        }

        if (data[payloadStart + total] != (byte)'\r' || data[payloadStart + total + 1] != (byte)'\n')
        {
            throw new IOException("A NATS message does not end with CRLF.");
        }

        bool hasReply = tokens == expected + 1;
        var header = data.Slice(payloadStart, headerSize);
        int status = StatusOf(header);
        message = new NatsPullMessage(
            _start + starts[0], lengths[0],
            hasReply ? _start + starts[2] : 0, hasReply ? lengths[2] : 0,
            _start + payloadStart + headerSize, total - headerSize,
            status, status != 0 ? Text(header) : null);
        used = payloadStart + total + 2;
        return true;
    }

    /// <summary>
    /// A status message ends the open requests when it is addressed to one of them (an older request's is dropped). "No messages"
    /// or "timed out" for one of two open requests fails the connection: which of the messages received were that request's cannot
    /// be told, so neither can the other's end (the source makes its consumer again just after the last sequence received).
    /// </summary>
    private void EndWithStatus(NatsPullMessage message)
    {
        var subject = Bytes.Slice(message.SubjectStart, message.SubjectLength);
        if (!subject.StartsWith(_inbox)
            || !AsciiNumber.TryParse(subject[_inbox.Length..], out ulong number)
            || number > (ulong)_requestNumber
            || number < (ulong)_firstOpen)
        {
            return; // a heartbeat or an answer to an earlier request
        }

        switch (message.Status)
        {
            case 100:
                return; // idle heartbeat
            case 404:
            case 408:
                long open = OpenRequests;
                _firstOpen = _requestNumber + 1;
                Outstanding = 0;
                if (open > 1)
                {
                    throw new IOException($"The NATS server ended one of {open} open pull requests early ({message.StatusText?.Trim()}); the messages of each cannot be told apart, so the connection starts again.");
                }

                return;
            default:
                _firstOpen = _requestNumber + 1;
                Outstanding = 0;
                throw new NatsPullFailedException(message.Status, message.StatusText ?? "");
        }
    }

    /// <summary>The status code of a header block <c>NATS/1.0 404 No Messages</c>; 0 for the plain <c>NATS/1.0</c> of a message with headers.</summary>
    private static int StatusOf(ReadOnlySpan<byte> header)
    {
        if (header.Length < 12 || !header.StartsWith("NATS/1.0 "u8))
        {
            return 0;
        }

        return AsciiNumber.TryParse(header.Slice(9, 3), out int code) ? code : 0;
    }

    private static int Number(ReadOnlySpan<byte> text, ReadOnlySpan<byte> line) =>
        AsciiNumber.TryParse(text, out int value)
            ? value
            : throw new IOException($"The NATS server sent a message line with a size that is not a number: '{Text(line)}'.");

    private static string Text(ReadOnlySpan<byte> bytes) => Encoding.UTF8.GetString(bytes[..Math.Min(bytes.Length, 200)]).TrimEnd();

    private async Task HandshakeAsync(CancellationToken cancellationToken)
    {
        // INFO {...}: the server's first line.
        string info = await ReadLineAsync(cancellationToken).ConfigureAwait(false);
        if (!info.StartsWith("INFO ", StringComparison.Ordinal))
        {
            throw new IOException($"The NATS server did not start with INFO but with '{info}'.");
        }

        using (var document = JsonDocument.Parse(info.AsMemory(5)))
        {
            var root = document.RootElement;
            bool Flag(string name) => root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.True;
            if (Flag("tls_required") || Flag("auth_required") || !Flag("headers"))
            {
                throw new NotSupportedException("The NATS server requires TLS or authentication, or does not support headers; the source reads through NATS.Net.");
            }
        }

        int length = 0;
        Append(ref _command, ref length, "CONNECT {\"verbose\":false,\"pedantic\":false,\"tls_required\":false,\"name\":\"linqstream-source\",\"lang\":\".NET\",\"version\":\"1.0\",\"protocol\":1,\"headers\":true,\"no_responders\":true}\r\n"u8);
        Append(ref _command, ref length, "SUB "u8);
        Append(ref _command, ref length, _inbox);
        Append(ref _command, ref length, "* 1\r\nPING\r\n"u8);
        await SendAsync(length, cancellationToken).ConfigureAwait(false);
        while (true)
        {
            string line = await ReadLineAsync(cancellationToken).ConfigureAwait(false);
            if (line == "PONG")
            {
                return;
            }

            if (line.StartsWith("-ERR", StringComparison.Ordinal))
            {
                throw new IOException($"The NATS server answered CONNECT with {line}.");
            }

            if (line == "PING")
            {
                _pongsDue++;
            }
        }
    }

    /// <summary>One protocol line during the handshake (not a hot path).</summary>
    private async Task<string> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            int newline = _buffer.AsSpan(_start, _length - _start).IndexOf("\r\n"u8);
            if (newline >= 0)
            {
                string line = Encoding.UTF8.GetString(_buffer, _start, newline);
                _start += newline + 2;
                return line;
            }

            if (_length - _start > MaxControlLine)
            {
                throw new IOException($"The NATS server sent a protocol line longer than {MaxControlLine} bytes.");
            }

            await ReceiveAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private ValueTask SendAsync(int length, CancellationToken cancellationToken) => SocketBuffers.SendAllAsync(_socket, _command, length, cancellationToken);

    private static void Append(ref byte[] target, ref int length, ReadOnlySpan<byte> bytes)
    {
        if (length + bytes.Length > target.Length)
        {
            Array.Resize(ref target, Math.Max(length + bytes.Length, target.Length * 2));
        }

        bytes.CopyTo(target.AsSpan(length));
        length += bytes.Length;
    }

    private static void AppendNumber(ref byte[] target, ref int length, long value)
    {
        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(value, digits, out int written);
        Append(ref target, ref length, digits[..written]);
    }
}

/// <summary>One message of a pull reply, as offsets into <see cref="NatsPullReader.Bytes"/>.</summary>
internal readonly record struct NatsPullMessage(
    int SubjectStart, int SubjectLength, int ReplyStart, int ReplyLength, int PayloadStart, int PayloadLength, int Status, string? StatusText)
{
    /// <summary>Gets a value indicating whether this is a status (<c>NATS/1.0 404 No Messages</c>), not a stored message.</summary>
    public bool IsStatus => Status != 0;
}

/// <summary>A pull request ended with a status other than "no messages" or "timed out": the consumer is gone or refused it (409, 503...).</summary>
internal sealed class NatsPullFailedException(int status, string text)
    : IOException(string.Create(CultureInfo.InvariantCulture, $"The pull request ended with '{text}' (status {status}): the consumer is gone or refused it."))
{
    public int Status { get; } = status;
}
