using System.Buffers.Text;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using StackExchange.Redis;

namespace LinqStream.Connectors.Redis;

/// <summary>
/// A source's own connection for <c>XREAD</c>: it writes the command's RESP bytes to the socket and keeps the reply as bytes,
/// so the source decodes every entry's value straight from the receive buffer (no object per entry, field or value, which is
/// what StackExchange.Redis's <c>RedisResult</c> costs). One request may be in flight while the previous reply is decoded.
/// </summary>
/// <remarks>
/// Plain TCP only (with <c>AUTH</c> and <c>SELECT</c> from the configuration); a TLS configuration reads through
/// StackExchange.Redis instead. Every wait is bounded: a reply that does not come within the request's block time plus
/// <see cref="ReplyTimeout"/> fails the read with a <see cref="TimeoutException"/> (a transient error: the source reconnects).
/// Not thread-safe: one source's reads use it one at a time.
/// </remarks>
internal sealed class RespStreamReader : IDisposable
{
    /// <summary>How long a reply may take beyond the server-side block time before the connection is given up.</summary>
    public static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(5);

    private readonly Socket _socket;
    private readonly RespScanner _scanner = new();
    private byte[] _buffer = new byte[64 * 1024];
    private byte[] _command = new byte[256];
    private int _start;
    private int _length;
    private int _replyEnd;
    private TimeSpan _pendingBlock;

    private RespStreamReader(Socket socket) => _socket = socket;

    /// <summary>Gets a value indicating whether a request was sent whose reply has not been received yet.</summary>
    public bool HasPending { get; private set; }

    /// <summary>Gets the most entries the pending request asked for.</summary>
    public int PendingCount { get; private set; }

    /// <summary>Gets the entry id after which the pending request reads.</summary>
    public RedisEntryId PendingAfter { get; private set; }

    /// <summary>Gets how many socket receives brought bytes (a diagnostic: entries per receive say what the per-receive costs weigh).</summary>
    public long Receives { get; private set; }

    /// <summary>Gets how many of <see cref="Receives"/> were asynchronous (nothing arrived within the short wait in the kernel).</summary>
    public long AsynchronousReceives { get; private set; }

    /// <summary>Gets whether the runtime's socket engine watches this reader's socket (a diagnostic: <see cref="SocketBuffers.IsWatchedByEpoll"/>).</summary>
    internal bool? SocketWatchedByEpoll => SocketBuffers.IsWatchedByEpoll(_socket);

    /// <summary>Whether <paramref name="options"/> can be served by this reader (plain TCP to one endpoint).</summary>
    public static bool Supports(ConfigurationOptions options) => !options.Ssl && options.EndPoints.Count == 1;

    /// <summary>Connects (and sends <c>AUTH</c> and <c>SELECT</c> when the configuration has them).</summary>
    /// <remarks>
    /// The socket is connected and written synchronously, bounded by the configuration's connect timeout (<see cref="SocketBuffers.ConnectAsync"/>),
    /// so the runtime's socket engine does not watch it while replies come within the short wait in the kernel: no thread-pool work
    /// item per arrival of bytes. Only an asynchronous receive (a server silent for longer, as a blocking <c>XREAD</c> on an idle
    /// stream is) makes the engine watch it from then on.
    /// </remarks>
    public static async Task<RespStreamReader> ConnectAsync(ConfigurationOptions options, CancellationToken cancellationToken)
    {
        var socket = await SocketBuffers.ConnectAsync(options.EndPoints[0], TimeSpan.FromMilliseconds(Math.Max(1, options.ConnectTimeout)), cancellationToken).ConfigureAwait(false);
        var reader = new RespStreamReader(socket);
        try
        {
            if (options.Password is { Length: > 0 } password)
            {
                await reader.ExpectOkAsync(options.User is { Length: > 0 } user ? ["AUTH", user, password] : ["AUTH", password], cancellationToken).ConfigureAwait(false);
            }

            if (options.DefaultDatabase is int database and not 0)
            {
                await reader.ExpectOkAsync(["SELECT", database.ToString(CultureInfo.InvariantCulture)], cancellationToken).ConfigureAwait(false);
            }

            return reader;
        }
        catch
        {
            reader.Dispose();
            throw;
        }
    }

    /// <summary>Sends <c>XREAD COUNT count [BLOCK ms] STREAMS key after</c> without waiting for its reply.</summary>
    /// <remarks>A synchronous send on the calling thread (the command is a few dozen bytes; the socket's send timeout bounds it): the returned task is complete.</remarks>
    public ValueTask SendXReadAsync(int count, TimeSpan? block, byte[] key, RedisEntryId after, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (HasPending)
        {
            throw new InvalidOperationException("A read is already in flight on this connection.");
        }

        int argumentCount = block is null ? 6 : 8;
        int length = 0;
        Header(ref length, '*', argumentCount);
        Argument(ref length, "XREAD"u8);
        Argument(ref length, "COUNT"u8);
        Argument(ref length, count);
        if (block is { } wait)
        {
            Argument(ref length, "BLOCK"u8);
            Argument(ref length, (long)wait.TotalMilliseconds);
        }

        Argument(ref length, "STREAMS"u8);
        Argument(ref length, key);
        Span<byte> id = stackalloc byte[41];
        Argument(ref length, id[..FormatId(after, id)]);
        Send(length);
        HasPending = true;
        PendingAfter = after;
        PendingCount = count;
        _pendingBlock = block ?? TimeSpan.Zero;
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Waits for the pending request's whole reply and returns it as bytes, valid until the next call. Throws a
    /// <see cref="RedisServerException"/> for an error reply, <see cref="IOException"/> when the server closed the connection and
    /// <see cref="TimeoutException"/> when the reply took too long.
    /// </summary>
    public async ValueTask<ReadOnlyMemory<byte>> ReceiveAsync(CancellationToken cancellationToken)
    {
        if (!HasPending)
        {
            throw new InvalidOperationException("No read is in flight on this connection.");
        }

        // The next reply starts where the previous one ended: whatever came after it (the reply to a read sent ahead) stays in
        // place, and is moved to the front only when the buffer runs out of room (not once per reply).
        _start = _replyEnd;
        _replyEnd = 0;
        if (_start == _length)
        {
            _start = 0;
            _length = 0;
        }

        _scanner.Reset();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_pendingBlock + ReplyTimeout);
        int end;
        while (!_scanner.TryComplete(_buffer.AsSpan(_start, _length - _start), out end))
        {
            // The scanner's positions are relative to the reply's start, so moving the reply keeps them valid.
            SocketBuffers.MakeRoom(ref _buffer, ref _start, ref _length);

            // Bytes already there or arriving within a short wait in the kernel: a synchronous receive on this thread. Only a server
            // silent for longer (a blocking XREAD on an idle stream) gets an asynchronous receive, which honours the timeout.
            cancellationToken.ThrowIfCancellationRequested();
            int received = SocketBuffers.TryReceiveSoon(_socket, _buffer.AsSpan(_length));
            if (received < 0)
            {
                AsynchronousReceives++;
                try
                {
                    received = await _socket.ReceiveAsync(_buffer.AsMemory(_length), SocketFlags.None, timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new TimeoutException($"The Redis server did not answer XREAD within {(_pendingBlock + ReplyTimeout).TotalSeconds:0.#} s.");
                }
            }

            if (received == 0)
            {
                throw new IOException("The Redis server closed the connection.");
            }

            Receives++;
            _length += received;
        }

        HasPending = false;
        _replyEnd = _start + end;
        if (_buffer[_start] == (byte)'-')
        {
            // The same exception StackExchange.Redis raises for an error reply, so the source's handling (LOADING is transient) holds.
#pragma warning disable CS0618 // the newer overloads want StackExchange.Redis's internal error kinds
            throw new RedisServerException(Encoding.UTF8.GetString(_buffer, _start + 1, end - 3));
#pragma warning restore CS0618
        }

        return _buffer.AsMemory(_start, end);
    }

    /// <summary>Gets the size of the receive buffer (it grows to the largest reply).</summary>
    public int BufferSize => _buffer.Length;

    public void Dispose() => _socket.Dispose();

    /// <summary>Writes <paramref name="id"/> as <c>ms-seq</c>; returns the length.</summary>
    public static int FormatId(RedisEntryId id, Span<byte> destination)
    {
        Utf8Formatter.TryFormat(id.Milliseconds, destination, out int ms);
        destination[ms] = (byte)'-';
        Utf8Formatter.TryFormat(id.Sequence, destination[(ms + 1)..], out int sequence);
        return ms + 1 + sequence;
    }

    /// <summary>Parses an entry id (<c>ms-seq</c>) from a reply.</summary>
    public static RedisEntryId ParseId(ReadOnlySpan<byte> text)
    {
        // The milliseconds end at the dash: the digits stop there, so no search for it first.
        int dash = AsciiNumber.ReadDigits(text, out ulong ms);
        if (dash <= 0 || dash >= text.Length - 1 || text[dash] != (byte)'-' || !AsciiNumber.TryParse(text[(dash + 1)..], out ulong sequence))
        {
            throw new FormatException($"'{Encoding.UTF8.GetString(text)}' is not a Redis stream entry id.");
        }

        return new RedisEntryId(ms, sequence);
    }

    private async Task ExpectOkAsync(string[] arguments, CancellationToken cancellationToken)
    {
        int length = 0;
        Header(ref length, '*', arguments.Length);
        foreach (var argument in arguments)
        {
            Argument(ref length, Encoding.UTF8.GetBytes(argument));
        }

        Send(length);
        HasPending = true;
        _pendingBlock = TimeSpan.Zero;
        var reply = await ReceiveAsync(cancellationToken).ConfigureAwait(false);
        if (!reply.Span.StartsWith("+OK"u8))
        {
#pragma warning disable CS0618 // the newer overload wants the command's flags, which a raw connection does not have
            throw new RedisConnectionException(ConnectionFailureType.AuthenticationFailure, $"The Redis server answered {arguments[0]} with '{Encoding.UTF8.GetString(reply.Span).TrimEnd()}'.");
#pragma warning restore CS0618
        }
    }

    private void Send(int length) => SocketBuffers.SendAll(_socket, _command.AsSpan(0, length));

    private void Header(ref int length, char type, long value)
    {
        Ensure(length + 24);
        _command[length++] = (byte)type;
        Utf8Formatter.TryFormat(value, _command.AsSpan(length), out int written);
        length += written;
        _command[length++] = (byte)'\r';
        _command[length++] = (byte)'\n';
    }

    private void Argument(ref int length, ReadOnlySpan<byte> value)
    {
        Header(ref length, '$', value.Length);
        Ensure(length + value.Length + 2);
        value.CopyTo(_command.AsSpan(length));
        length += value.Length;
        _command[length++] = (byte)'\r';
        _command[length++] = (byte)'\n';
    }

    private void Argument(ref int length, long value)
    {
        Span<byte> text = stackalloc byte[20];
        Utf8Formatter.TryFormat(value, text, out int written);
        Argument(ref length, text[..written]);
    }

    private void Ensure(int size)
    {
        if (size > _command.Length)
        {
            Array.Resize(ref _command, Math.Max(size, _command.Length * 2));
        }
    }
}

/// <summary>
/// Finds where one complete RESP2 value ends in bytes that arrive in pieces: it resumes where it stopped, so a reply received in
/// many reads is scanned once. It checks the framing only (headers, lengths, CRLFs); <see cref="RespCursor"/> reads the content.
/// </summary>
internal sealed class RespScanner
{
    private int[] _remaining = new int[8];
    private int _depth;
    private int _position;

    public void Reset()
    {
        _remaining[0] = 1;
        _depth = 1;
        _position = 0;
    }

    /// <summary>Scans on; returns true with the end of the value once it is complete in <paramref name="data"/>.</summary>
    public bool TryComplete(ReadOnlySpan<byte> data, out int end)
    {
        end = 0;
        while (_depth > 0)
        {
            if (_position >= data.Length)
            {
                return false;
            }

            byte type = data[_position];
            if (type is (byte)'$' or (byte)'*')
            {
                // A bulk string's or an array's header: its number is read digit by digit up to the CRLF (no search for the line's end).
                if (!RespNumber.TryRead(data, _position + 1, out long size, out int next))
                {
                    return false;
                }

                if (type == (byte)'$')
                {
                    if (size >= 0)
                    {
                        if (next + size + 2 > data.Length)
                        {
                            return false;
                        }

                        if (data[(int)(next + size)] != '\r' || data[(int)(next + size + 1)] != '\n')
                        {
                            throw new InvalidDataException("A Redis bulk string does not end with CRLF.");
                        }

                        next += (int)size + 2;
                    }

                    _position = next;
                    Consumed();
                    continue;
                }

                _position = next;
                Consumed();
                if (size > 0)
                {
                    if (_depth == _remaining.Length)
                    {
                        Array.Resize(ref _remaining, _depth * 2);
                    }

                    _remaining[_depth++] = checked((int)size);
                }

                continue;
            }

            if (type is not ((byte)'+' or (byte)'-' or (byte)':'))
            {
                throw new InvalidDataException($"Unexpected RESP type '{(char)type}' in a Redis reply.");
            }

            int newline = data[_position..].IndexOf("\r\n"u8);
            if (newline < 0)
            {
                return false;
            }

            _position += newline + 2;
            Consumed();
        }

        end = _position;
        return true;
    }

    private void Consumed()
    {
        _remaining[_depth - 1]--;
        while (_depth > 0 && _remaining[_depth - 1] == 0)
        {
            _depth--;
        }
    }
}

/// <summary>Reads a complete RESP2 reply (checked by <see cref="RespScanner"/>) front to back, without copying.</summary>
internal ref struct RespCursor(ReadOnlySpan<byte> data)
{
    private readonly ReadOnlySpan<byte> _data = data;
    private int _position;

    /// <summary>Reads an array header: its count, or -1 for a null array (a null bulk string reads as -1 too).</summary>
    public int ReadArray()
    {
        byte type = _data[_position];
        long count = Line(out _);
        return type is (byte)'*' or (byte)'$' ? (int)count : throw new InvalidDataException($"Expected a RESP array, found '{(char)type}'.");
    }

    /// <summary>Reads a bulk string; a null one reads as empty with <paramref name="isNull"/> set.</summary>
    public ReadOnlySpan<byte> ReadBulk(out bool isNull)
    {
        byte type = _data[_position];
        long size = Line(out int start);
        if (type == (byte)'+')
        {
            isNull = false;
            return _data.Slice(start, _position - start - 2);
        }

        if (type != (byte)'$')
        {
            throw new InvalidDataException($"Expected a RESP bulk string, found '{(char)type}'.");
        }

        isNull = size < 0;
        if (isNull)
        {
            return default;
        }

        var value = _data.Slice(_position, (int)size);
        _position += (int)size + 2;
        return value;
    }

    /// <summary>Gets the offset of the next value in the reply.</summary>
    public readonly int Position => _position;

    /// <summary>Reads a bulk string and returns where its bytes start in the reply (-1 for a null one) and their length.</summary>
    public int ReadBulkBounds(out int length)
    {
        var value = ReadBulk(out bool isNull);
        length = value.Length;
        return isNull ? -1 : _position - length - 2;
    }

    /// <summary>Skips one value, with everything nested in it.</summary>
    public void Skip()
    {
        byte type = _data[_position];
        long size = Line(out _);
        if (type == (byte)'$' && size >= 0)
        {
            _position += (int)size + 2;
        }
        else if (type == (byte)'*')
        {
            for (long i = 0; i < size; i++)
            {
                Skip();
            }
        }
    }

    /// <summary>Reads a header line (type byte, number, CRLF) and returns its number (0 for a simple string).</summary>
    private long Line(out int start)
    {
        start = _position + 1;
        if (_data[start - 1] == (byte)'+')
        {
            int newline = _data[start..].IndexOf((byte)'\r');
            _position = start + newline + 2;
            return 0;
        }

        // The scanner checked the framing: the reply is complete.
        if (!RespNumber.TryRead(_data, start, out long value, out _position))
        {
            throw new InvalidDataException("A RESP header has no number.");
        }

        return value;
    }
}

/// <summary>Reads the number of a RESP header (<c>$12</c>, <c>*-1</c>, <c>:42</c>) digit by digit, with its CRLF.</summary>
internal static class RespNumber
{
    /// <summary>The most digits read: 18 fit a <see cref="long"/> whatever they are.</summary>
    private const int MaxDigits = 18;

    /// <summary>
    /// Reads an optional minus sign and decimal digits from <paramref name="start"/> up to CRLF; false when the line has not all
    /// arrived yet. Throws <see cref="InvalidDataException"/> when the line is not a number.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> data, int start, out long value, out int next)
    {
        value = 0;
        next = 0;
        int i = start;
        bool negative = i < data.Length && data[i] == (byte)'-';
        if (negative)
        {
            i++;
        }

        int first = i;
        uint digit;
        while (i < data.Length && (digit = (uint)(data[i] - '0')) <= 9)
        {
            value = (value * 10) + digit;
            i++;
        }

        if (i + 1 >= data.Length)
        {
            if (i - first > MaxDigits || (i < data.Length && data[i] != (byte)'\r'))
            {
                throw NotANumber(data, start);
            }

            return false;
        }

        if (i == first || i - first > MaxDigits || data[i] != (byte)'\r' || data[i + 1] != (byte)'\n')
        {
            throw NotANumber(data, start);
        }

        value = negative ? -value : value;
        next = i + 2;
        return true;
    }

    private static InvalidDataException NotANumber(ReadOnlySpan<byte> data, int start)
    {
        var line = data[start..];
        int end = line.IndexOf((byte)'\r');
        return new InvalidDataException($"'{Encoding.UTF8.GetString(line[..(end < 0 ? Math.Min(line.Length, 40) : Math.Min(end, 40))])}' is not a RESP length.");
    }
}
