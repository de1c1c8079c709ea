using System.Net.Sockets;

namespace LinqStream.Connectors;

/// <summary>
/// The receive and send bookkeeping that the connectors' own protocol readers (Redis' <c>RespStreamReader</c>, NATS'
/// <c>NatsPullReader</c>) share as a linked source file: the unread bytes of a receive buffer are <c>[start, length)</c>.
/// </summary>
internal static class SocketBuffers
{
    /// <summary>
    /// How long a receive waits in the kernel (<c>poll</c>) for bytes that are not there yet before it falls back to an asynchronous
    /// receive: a server mid-reply sends more within microseconds, and sleeping here costs no CPU, where an asynchronous receive
    /// hands its completion to a thread-pool worker (whose idle siblings spin for work) and costs an <c>epoll</c> registration.
    /// </summary>
    public const int PollMicroseconds = 2_000;

    /// <summary>
    /// Receives the bytes already in the socket, or arriving within <see cref="PollMicroseconds"/>, with one synchronous <c>recv</c>
    /// on the calling thread (no asynchronous operation, no completion handed to another thread).
    /// </summary>
    /// <returns>The bytes received (0: the server closed the connection), or -1 when none came in time (receive asynchronously then).</returns>
    public static int TryReceiveSoon(Socket socket, Span<byte> buffer) =>
        socket.Available > 0 || socket.Poll(PollMicroseconds, SelectMode.SelectRead)
            ? socket.Receive(buffer, SocketFlags.None) // readable: bytes, the end of the connection (0), or an error (thrown)
            : -1;

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

    /// <summary>Sends the first <paramref name="length"/> bytes of <paramref name="bytes"/>, however many calls the socket takes.</summary>
    public static async ValueTask SendAllAsync(Socket socket, byte[] bytes, int length, CancellationToken cancellationToken)
    {
        int sent = 0;
        while (sent < length)
        {
            sent += await socket.SendAsync(bytes.AsMemory(sent, length - sent), SocketFlags.None, cancellationToken).ConfigureAwait(false);
        }
    }
}
