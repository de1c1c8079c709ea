using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace LinqStream.Connectors;

/// <summary>
/// The socket work that the connectors' own protocol readers (Redis' <c>RespStreamReader</c>, NATS' <c>NatsPullReader</c>) share as
/// a linked source file: connecting and receiving on the reading thread, and the receive buffer's bookkeeping (the unread bytes are
/// <c>[start, length)</c>).
/// </summary>
/// <remarks>
/// Why synchronous: the first asynchronous operation that has to wait (a connect, a receive with nothing there yet) registers the
/// socket with the runtime's asynchronous socket engine (its <c>epoll</c>) for the rest of the socket's life, and from then on
/// every arrival of bytes wakes the engine's thread, which hands the event to a thread-pool worker (whose idle siblings then spin
/// for work) even when no asynchronous operation waits and the reader takes the bytes with a synchronous <c>recv</c>: about one
/// pool work item per receive (issue #19, session 16: ~2,000 per million NATS messages).
/// </remarks>
internal static class SocketBuffers
{
    /// <summary>
    /// How long a receive waits in the kernel (<c>poll</c>) for bytes that are not there yet before the reader waits otherwise: a
    /// server mid-reply sends more within microseconds, and sleeping in the kernel costs no CPU and wakes at once when bytes come.
    /// </summary>
    public const int PollMicroseconds = 2_000;

    /// <summary>
    /// Connects a new TCP socket (no delay) to <paramref name="endPoint"/> without the runtime's asynchronous socket engine: a host
    /// name is resolved asynchronously, then each of its addresses is tried with a blocking <c>connect</c> bounded by
    /// <paramref name="timeout"/> (the kernel's send timeout, <c>SO_SNDTIMEO</c>, which then also bounds every send). The socket stays
    /// in blocking mode and unknown to the engine, so bytes arriving later wake nothing (see the class remarks).
    /// </summary>
    /// <remarks>
    /// <paramref name="cancellationToken"/> is seen before each attempt, not during one: an attempt ends within
    /// <paramref name="timeout"/> (a server that is there accepts at once, a closed port refuses at once).
    /// </remarks>
    /// <exception cref="TimeoutException">The name was not resolved, or no address accepted, within the timeout.</exception>
    /// <exception cref="SocketException">The connection was refused or the network is unreachable.</exception>
    public static async ValueTask<Socket> ConnectAsync(EndPoint endPoint, TimeSpan timeout, CancellationToken cancellationToken)
    {
        IPAddress[] addresses;
        int port;
        if (endPoint is IPEndPoint ip)
        {
            addresses = [ip.Address];
            port = ip.Port;
        }
        else if (endPoint is DnsEndPoint dns)
        {
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bounded.CancelAfter(timeout);
            try
            {
                addresses = await Dns.GetHostAddressesAsync(dns.Host, bounded.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"Resolving '{dns.Host}' took longer than {timeout.TotalSeconds:0.###} s.");
            }

            port = dns.Port;
        }
        else
        {
            throw new NotSupportedException($"Cannot connect to '{endPoint}': an IP address or a host name, with a port, is needed.");
        }

        if (addresses.Length == 0)
        {
            throw new SocketException((int)SocketError.HostNotFound);
        }

        int milliseconds = (int)Math.Clamp(Math.Ceiling(timeout.TotalMilliseconds), 1, int.MaxValue);
        Exception? last = null;
        foreach (var address in addresses)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, SendTimeout = milliseconds };
            try
            {
                socket.Connect(new IPEndPoint(address, port));
                return socket;
            }
            catch (SocketException ex)
            {
                socket.Dispose();
                last = ex.SocketErrorCode == SocketError.TimedOut
                    ? new TimeoutException($"Connecting to {address}:{port} took longer than {timeout.TotalSeconds:0.###} s.", ex)
                    : ex;
            }
        }

        throw last!;
    }

    /// <summary>
    /// Receives the bytes already in the socket, or arriving within <paramref name="microseconds"/> (0: only those already there),
    /// with one synchronous <c>recv</c> on the calling thread (no asynchronous operation, no completion handed to another thread).
    /// </summary>
    /// <returns>The bytes received (0: the server closed the connection), or -1 when none came in time.</returns>
    public static int TryReceiveWithin(Socket socket, Span<byte> buffer, int microseconds) =>
        socket.Available > 0 || socket.Poll(microseconds, SelectMode.SelectRead)
            ? socket.Receive(buffer, SocketFlags.None) // readable: bytes, the end of the connection (0), or an error (thrown)
            : -1;

    /// <summary>Receives the bytes already in the socket or arriving within <see cref="PollMicroseconds"/> (<see cref="TryReceiveWithin"/>).</summary>
    /// <returns>The bytes received (0: the server closed the connection), or -1 when none came in time.</returns>
    public static int TryReceiveSoon(Socket socket, Span<byte> buffer) => TryReceiveWithin(socket, buffer, PollMicroseconds);

    /// <summary>
    /// Makes room after the unread bytes of a buffer that is full up to its end: moves them to the front when some were read
    /// (offsets relative to <paramref name="start"/> stay valid), or doubles the buffer when they fill all of it.
    /// </summary>
    public static void MakeRoom(ref byte[] buffer, ref int start, ref int length)
    {
        if (length < buffer.Length)
        {
            return;
        }

        if (start > 0)
        {
            Buffer.BlockCopy(buffer, start, buffer, 0, length - start);
            length -= start;
            start = 0;
        }
        else
        {
            Array.Resize(ref buffer, buffer.Length * 2);
        }
    }

    /// <summary>
    /// Sends all of <paramref name="bytes"/> with synchronous sends on the calling thread (a socket of <see cref="ConnectAsync"/>
    /// gives up after its send timeout with a <see cref="SocketException"/>, <see cref="SocketError.TimedOut"/>).
    /// </summary>
    public static void SendAll(Socket socket, ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            bytes = bytes[socket.Send(bytes, SocketFlags.None)..];
        }
    }

    /// <summary>
    /// Whether an <c>epoll</c> instance of this process watches <paramref name="socket"/> (Linux: the <c>tfd</c> lines of
    /// <c>/proc/self/fdinfo</c> of each eventpoll descriptor), that is, whether the runtime's asynchronous socket engine hands its
    /// arrivals of bytes to the thread pool; <see langword="null"/> where <c>/proc</c> does not say. A diagnostic for the tests and
    /// the benchmark (it reads a file per descriptor of the process), never called while reading.
    /// </summary>
    public static bool? IsWatchedByEpoll(Socket socket)
    {
        const string Descriptors = "/proc/self/fd";
        if (!Directory.Exists(Descriptors))
        {
            return null;
        }

        string descriptor = ((long)socket.SafeHandle.DangerousGetHandle()).ToString(CultureInfo.InvariantCulture);
        foreach (var entry in Directory.EnumerateFileSystemEntries(Descriptors))
        {
            try
            {
                if (new FileInfo(entry).LinkTarget != "anon_inode:[eventpoll]")
                {
                    continue;
                }

                // tfd:       12 events:       19 data:  ...   — one line per descriptor the epoll instance watches.
                foreach (var line in File.ReadLines("/proc/self/fdinfo/" + Path.GetFileName(entry)))
                {
                    var fields = line.Split((char[]?)null, 3, StringSplitOptions.RemoveEmptyEntries);
                    if (fields is ["tfd:", var watched, ..] && watched == descriptor)
                    {
                        return true;
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The descriptor was closed meanwhile.
            }
        }

        return false;
    }
}
