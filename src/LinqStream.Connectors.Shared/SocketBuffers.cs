using System.Net.Sockets;

namespace LinqStream.Connectors;

/// <summary>
/// The receive and send bookkeeping that the connectors' own protocol readers (Redis' <c>RespStreamReader</c>, NATS'
/// <c>NatsPullReader</c>) share as a linked source file: the unread bytes of a receive buffer are <c>[start, length)</c>.
/// </summary>
internal static class SocketBuffers
{
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
