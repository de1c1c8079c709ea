using System.Buffers.Text;
using System.Diagnostics;
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
/// message (what NATS.Net's fetch costs). The next pull request may be sent while one is open (<see cref="SendPull"/>).
/// </summary>
/// <remarks>
/// <para>Plain TCP to one server without authentication (the server's <c>INFO</c> must not require TLS or credentials; otherwise
/// <see cref="ConnectAsync"/> throws <see cref="NotSupportedException"/> and the source reads through NATS.Net). Management —
/// streams, consumers, stream checks — stays on the source's NATS.Net connection.</para>
/// <para><b>No asynchronous socket operation</b> (session 16): the socket is connected, written and read on the reading thread
/// (<see cref="SocketBuffers"/>), so the runtime's socket engine never watches it and no arrival of bytes wakes a thread-pool
/// worker. A server silent for longer than the short wait in the kernel is waited for on timers (<see cref="ReceiveAsync(long, CancellationToken)"/>).</para>
/// <para>Every wait is bounded by the caller's token and deadline. A server <c>PING</c> is answered (<see cref="PongDue"/>); <c>-ERR</c> is an
/// <see cref="IOException"/> (the source reconnects). Not thread-safe: one source's reads use it one at a time.</para>
/// </remarks>
internal sealed class NatsPullReader : IDisposable
{
    /// <summary>The longest protocol line (a control line of a message) read before the reader gives up on the framing.</summary>
    private const int MaxControlLine = 64 * 1024;

    /// <summary>The receive buffer's first size: about 1,500 NEXMark bids per receive (it grows to the largest message).</summary>
    private const int InitialBufferSize = 512 * 1024;

    /// <summary>
    /// How long one receive may hold its thread in the kernel's <c>poll</c> (in slices of <see cref="SocketBuffers.PollMicroseconds"/>,
    /// the token and the deadline checked between them) before it waits on timers instead: a server that is only slow (descheduled on a
    /// busy machine) is met at once when its bytes come, and a server that is stalled does not hold a pool thread.
    /// </summary>
    private const int BlockingWaitMilliseconds = 20;

    /// <summary>The timer's step while the server stays silent beyond <see cref="BlockingWaitMilliseconds"/>: the most a byte then waits to be seen.</summary>
    private const int TimedWaitMilliseconds = 5;

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

    /// <summary>Gets a value indicating whether the server sent a <c>PING</c> that <see cref="SendPong"/> has not answered yet.</summary>
    public bool PongDue => _pongsDue > 0;

    /// <summary>Gets how many socket receives brought bytes (a diagnostic: messages per receive say what the per-receive costs weigh).</summary>
    public long Receives { get; private set; }

    /// <summary>Gets how many of <see cref="Receives"/> waited longer than the first short wait in the kernel (the server was silent for more than 2 ms).</summary>
    public long SlowReceives { get; private set; }

    /// <summary>Gets how many timer waits the receives made (the server silent beyond <see cref="BlockingWaitMilliseconds"/>): each is a thread-pool work item.</summary>
    public long TimedWaits { get; private set; }

    /// <summary>Gets whether the runtime's socket engine watches this reader's socket (a diagnostic: <see cref="SocketBuffers.IsWatchedByEpoll"/>).</summary>
    internal bool? SocketWatchedByEpoll => SocketBuffers.IsWatchedByEpoll(_socket);

    /// <summary>Gets the socket (for the tests' control case: an asynchronous receive on it makes the engine watch it).</summary>
    internal Socket Socket => _socket;

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
    /// <remarks>The connect is a blocking one bounded by <paramref name="timeout"/> (<see cref="SocketBuffers.ConnectAsync"/>); the whole hand-shake ends within it too.</remarks>
    /// <exception cref="NotSupportedException">The server requires TLS or authentication, or does not speak headers.</exception>
    /// <exception cref="TimeoutException">The server did not accept or answer within <paramref name="timeout"/>.</exception>
    public static async Task<NatsPullReader> ConnectAsync(EndPoint endPoint, TimeSpan timeout, CancellationToken cancellationToken)
    {
        long deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        var socket = await SocketBuffers.ConnectAsync(endPoint, timeout, cancellationToken).ConfigureAwait(false);
        var reader = new NatsPullReader(socket);
        try
        {
            await reader.HandshakeAsync(deadline, cancellationToken).ConfigureAwait(false);
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
    /// <remarks>A synchronous send on the calling thread (a few hundred bytes: the kernel takes them at once; its send timeout bounds it).</remarks>
    /// <param name="nextSubject">The consumer's next-message subject, <c>$JS.API.CONSUMER.MSG.NEXT.stream.consumer</c>, in UTF-8.</param>
    /// <param name="count">The most messages to deliver.</param>
    public void SendPull(byte[] nextSubject, int count)
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
        Send(length);
        LastRequestFilled = false;
        Outstanding += count;
    }

    /// <summary>Answers each <c>PING</c> the server sent since the last answer (a synchronous send on the calling thread).</summary>
    public void SendPong()
    {
        int length = 0;
        for (int i = 0; i < _pongsDue; i++)
        {
            Append(ref _command, ref length, "PONG\r\n"u8);
        }

        Send(length);
        _pongsDue = 0;
    }

    /// <summary>
    /// Receives more bytes into the buffer (what was not parsed yet stays, moved to the front when the buffer runs out of room).
    /// Throws <see cref="IOException"/> when the server closed the connection, <see cref="TimeoutException"/> when nothing came
    /// before <paramref name="deadline"/>.
    /// </summary>
    /// <remarks>
    /// Bytes already in the socket, or arriving within a short wait in the kernel (2 ms), are taken with a synchronous receive on the
    /// calling thread: one <c>recv</c>, no asynchronous operation, no completion handed to another thread. A server silent for
    /// longer is waited for in the kernel in 2 ms slices up to 20 ms in all, then on 5 ms timers (the thread is free meanwhile),
    /// with <paramref name="cancellationToken"/> and <paramref name="deadline"/> checked between any two waits: never an
    /// asynchronous receive, which would make the runtime's socket engine watch this socket for good (<see cref="SocketBuffers"/>).
    /// </remarks>
    /// <param name="deadline">The <see cref="Stopwatch"/> timestamp after which a silent server fails the receive.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    public ValueTask ReceiveAsync(long deadline, CancellationToken cancellationToken)
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
        if (SocketBuffers.TryReceiveSoon(_socket, _buffer.AsSpan(_length)) is var received and >= 0)
        {
            Received(received);
            return ValueTask.CompletedTask;
        }

        return WaitThenReceiveAsync(deadline, cancellationToken);
    }

    /// <summary>Receives more bytes, with no deadline but the token's (<see cref="ReceiveAsync(long, CancellationToken)"/>).</summary>
    public ValueTask ReceiveAsync(CancellationToken cancellationToken) => ReceiveAsync(long.MaxValue, cancellationToken);

    private async ValueTask WaitThenReceiveAsync(long deadline, CancellationToken cancellationToken)
    {
        SlowReceives++;
        long blockUntil = Stopwatch.GetTimestamp() + (BlockingWaitMilliseconds * Stopwatch.Frequency / 1000);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long now = Stopwatch.GetTimestamp();
            if (now >= deadline)
            {
                throw new TimeoutException($"The NATS server at {_socket.RemoteEndPoint} was silent past the deadline (of the read, or of the connection's hand-shake).");
            }

            int received;
            if (now < blockUntil)
            {
                received = SocketBuffers.TryReceiveSoon(_socket, _buffer.AsSpan(_length));
            }
            else
            {
                TimedWaits++;
                await Task.Delay(TimedWaitMilliseconds, cancellationToken).ConfigureAwait(false);
                received = SocketBuffers.TryReceiveWithin(_socket, _buffer.AsSpan(_length), 0);
            }

            if (received >= 0)
            {
                Received(received);
                return;
            }
        }
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
    /// <param name="message">The data message; its spans index <see cref="Bytes"/>, valid until the next <see cref="ReceiveAsync(long, CancellationToken)"/>.</param>
    /// <returns>True for a data message; false when more bytes are needed, or the request has ended.</returns>
    /// <exception cref="IOException">The server sent <c>-ERR</c>, or framing this reader cannot follow.</exception>
    /// <exception cref="NatsPullFailedException">The request ended with another status (the consumer is gone: <c>409</c>, <c>503</c>).</exception>
    public bool TryTakeMessage(out NatsPullMessage message)
    {
        message = default;
        while (RequestOpen)
        {
            var data = _buffer.AsSpan(_start, _length - _start);
            if (TryFrameFast(data, _start, out message, out int fastUsed))
            {
                // The common line (MSG subject sid reply size, single spaces, the whole message received): no status, no search for CRLF.
                _start += fastUsed;
                if (--Outstanding == 0)
                {
                    _firstOpen = _requestNumber + 1;
                    LastRequestFilled = true;
                }

                return true;
            }

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
                if (!TryFrame(data, newline, _start, out message, out int used))
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
    /// Reads the common message whole: <c>MSG subject sid reply size</c> with single spaces, its payload and the CRLF after it all
    /// received. Anything else — <c>HMSG</c>, no reply subject, several spaces or tabs between the fields, a size that is not a number
    /// or does not fit an <see cref="int"/>, a line or payload not all received yet, a payload not followed by CRLF — is not taken
    /// here (false, nothing consumed) and goes to the general parser (<see cref="TryFrame"/>), which reads it, waits for more bytes or
    /// fails as it always did. When this returns true, <see cref="TryFrame"/> would have returned the same message and length.
    /// </summary>
    /// <param name="data">The bytes received and not parsed yet, from the start of a protocol line.</param>
    /// <param name="offset">Where <paramref name="data"/> starts in the receive buffer (the message's offsets index the buffer).</param>
    /// <param name="message">The message, when true.</param>
    /// <param name="used">The bytes the message takes, its CRLF included, when true.</param>
    internal static bool TryFrameFast(ReadOnlySpan<byte> data, int offset, out NatsPullMessage message, out int used)
    {
        message = default;
        used = 0;
        if (!data.StartsWith("MSG "u8))
        {
            return false;
        }

        // Three fields, each ended by one space; a CR before the space means the line has fewer fields (the general parser's case).
        int subjectStart = 4;
        int subjectLength = data[subjectStart..].IndexOfAny((byte)' ', (byte)'\r');
        int sidStart = subjectStart + subjectLength + 1;
        if (subjectLength <= 0 || data[sidStart - 1] != (byte)' ' || sidStart >= data.Length)
        {
            return false;
        }

        int sidLength = data[sidStart..].IndexOfAny((byte)' ', (byte)'\r');
        int replyStart = sidStart + sidLength + 1;
        if (sidLength <= 0 || data[replyStart - 1] != (byte)' ' || replyStart >= data.Length)
        {
            return false;
        }

        int replyLength = data[replyStart..].IndexOfAny((byte)' ', (byte)'\r');
        int sizeStart = replyStart + replyLength + 1;
        if (replyLength <= 0 || data[sizeStart - 1] != (byte)' ')
        {
            return false;
        }

        // The size: digits up to the CRLF that ends the line.
        int digits = AsciiNumber.ReadDigits(data[sizeStart..], out ulong size);
        int cr = sizeStart + digits;
        if (digits <= 0 || size > int.MaxValue || cr + 1 >= data.Length || data[cr] != (byte)'\r' || data[cr + 1] != (byte)'\n')
        {
            return false;
        }

        int payloadStart = cr + 2;
        int total = (int)size;
        if ((long)payloadStart + total + 2 > data.Length || data[payloadStart + total] != (byte)'\r' || data[payloadStart + total + 1] != (byte)'\n')
        {
            return false;
        }

        message = new NatsPullMessage(offset + subjectStart, subjectLength, offset + replyStart, replyLength, offset + payloadStart, total, 0, null);
        used = payloadStart + total + 2;
        return true;
    }

    /// <summary>
    /// Reads one <c>MSG subject sid [reply] size</c> or <c>HMSG subject sid [reply] header-size total-size</c> frame whose control line
    /// ends at <paramref name="newline"/>; false while its payload has not all arrived. Fields may be apart by several spaces.
    /// </summary>
    /// <param name="data">The bytes received and not parsed yet, from the start of the control line.</param>
    /// <param name="newline">Where the control line's CRLF starts in <paramref name="data"/>.</param>
    /// <param name="offset">Where <paramref name="data"/> starts in the receive buffer (the message's offsets index the buffer).</param>
    /// <param name="message">The message, when true.</param>
    /// <param name="used">The bytes the message takes, its CRLF included, when true.</param>
    /// <exception cref="IOException">The line cannot be read: too few or too many fields, a size that is not a number, headers longer than the message, no CRLF after the payload.</exception>
    internal static bool TryFrame(ReadOnlySpan<byte> data, int newline, int offset, out NatsPullMessage message, out int used)
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
            offset + starts[0], lengths[0],
            hasReply ? offset + starts[2] : 0, hasReply ? lengths[2] : 0,
            offset + payloadStart + headerSize, total - headerSize,
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

    private async Task HandshakeAsync(long deadline, CancellationToken cancellationToken)
    {
        // INFO {...}: the server's first line.
        string info = await ReadLineAsync(deadline, cancellationToken).ConfigureAwait(false);
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
        Send(length);
        while (true)
        {
            string line = await ReadLineAsync(deadline, cancellationToken).ConfigureAwait(false);
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
    private async Task<string> ReadLineAsync(long deadline, CancellationToken cancellationToken)
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

            await ReceiveAsync(deadline, cancellationToken).ConfigureAwait(false);
        }
    }

    private void Send(int length) => SocketBuffers.SendAll(_socket, _command.AsSpan(0, length));

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
