using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using LinqStream.Connectors.Redis;
using StackExchange.Redis;

namespace LinqStream.Connectors.Tests.Redis;

/// <summary>
/// The Redis source's own connection against a fake server on loopback that sends every reply at once, cut into random pieces:
/// replies that arrive ahead of their request stay where they are, small and large (past the first buffer) alike, and an error
/// reply in the middle neither loses nor shifts the ones after it.
/// </summary>
public sealed class RespStreamReaderTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task ReceiveAsync_RepliesArrivingAheadInRandomPieces_ReturnsEachReplyExactly(int seed)
    {
        var random = new Random(seed);
        var replies = new List<byte[]>();
        for (int i = 0; i < 60; i++)
        {
            replies.Add(i % 17 == 5 ? Encoding.ASCII.GetBytes($"-ERR reply {i}\r\n") : Reply(random, random.Next(10) == 0 ? 40_000 : 40));
        }

        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var server = ServeAsync(listener, [.. replies.SelectMany(r => r)], seed);

        var options = ConfigurationOptions.Parse($"127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}");
        using (var reader = await RespStreamReader.ConnectAsync(options, CancellationToken.None))
        {
            // Connected without an asynchronous operation (session 16): the runtime's socket engine does not watch the socket.
            Assert.NotEqual(true, reader.SocketWatchedByEpoll);
            for (int i = 0; i < replies.Count; i++)
            {
                await reader.SendXReadAsync(10, null, "k"u8.ToArray(), new RedisEntryId((ulong)i, 0), CancellationToken.None);
                if (replies[i][0] == (byte)'-')
                {
                    var error = await Assert.ThrowsAsync<RedisServerException>(async () => await reader.ReceiveAsync(CancellationToken.None));
                    Assert.Equal($"ERR reply {i}", error.Message);
                    continue;
                }

                var reply = await reader.ReceiveAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(20));
                Assert.True(replies[i].AsSpan().SequenceEqual(reply.Span), $"reply {i} ({replies[i].Length} bytes) came back as {reply.Length} bytes");
            }
        }

        // The server ends when the client has closed its connection.
        await server.WaitAsync(TimeSpan.FromSeconds(20));
    }

    /// <summary>An XREAD-shaped reply of about <paramref name="size"/> bytes per entry's value.</summary>
    private static byte[] Reply(Random random, int size)
    {
        var text = new StringBuilder();
        int entries = random.Next(0, 40);
        text.Append(CultureInfo.InvariantCulture, $"*1\r\n*2\r\n$1\r\nk\r\n*{entries}\r\n");
        for (int e = 0; e < entries; e++)
        {
            var value = new string((char)('a' + random.Next(26)), random.Next(size));
            text.Append(CultureInfo.InvariantCulture, $"*2\r\n$3\r\n{e % 10}-0\r\n*2\r\n$4\r\ndata\r\n${value.Length}\r\n{value}\r\n");
        }

        return Encoding.ASCII.GetBytes(text.ToString());
    }

    /// <summary>Accepts one connection, drains what the client sends until it closes, and writes <paramref name="bytes"/> in random pieces.</summary>
    private static async Task ServeAsync(TcpListener listener, byte[] bytes, int seed)
    {
        using var client = await listener.AcceptTcpClientAsync();
        var stream = client.GetStream();
        var drain = Task.Run(async () =>
        {
            var sink = new byte[4096];
            try
            {
                while (await stream.ReadAsync(sink) > 0)
                {
                }
            }
            catch (IOException)
            {
                // The client closed the connection.
            }
        });
        var random = new Random(seed);
        for (int sent = 0; sent < bytes.Length;)
        {
            int n = Math.Min(bytes.Length - sent, random.Next(1, 90_000));
            await stream.WriteAsync(bytes.AsMemory(sent, n));
            sent += n;
        }

        await stream.FlushAsync();
        await drain;
    }
}
