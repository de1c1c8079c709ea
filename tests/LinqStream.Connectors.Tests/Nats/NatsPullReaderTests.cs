using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using LinqStream.Connectors.Nats;

namespace LinqStream.Connectors.Tests.Nats;

/// <summary>
/// The JetStream source's own connection against a fake NATS server on loopback that answers each pull request with a reply cut
/// into random pieces: messages with and without headers, empty and large (past the first buffer) payloads, PINGs, INFO and +OK
/// lines, heartbeats and statuses of other requests between them. Every message comes out once, in order, byte for byte, and
/// the request ends exactly at its status or its last message.
/// </summary>
public sealed class NatsPullReaderTests
{
    private const string Info = "INFO {\"server_id\":\"fake\",\"version\":\"2.9.10\",\"headers\":true,\"max_payload\":1048576,\"jetstream\":true}";
    private static readonly byte[] s_next = Encoding.ASCII.GetBytes("$JS.API.CONSUMER.MSG.NEXT.s.c");

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public async Task TryTakeMessage_RepliesInRandomPieces_ReturnsEveryMessageOnceAndEndsAtTheStatusOrTheLastMessage(int seed)
    {
        var random = new Random(seed);
        var expected = new List<List<(string Reply, byte[] Payload)>>();
        var filled = new List<bool>();
        for (int request = 0; request < 6; request++)
        {
            int asked = random.Next(1, 60);
            bool fill = random.Next(3) == 0;
            int count = fill ? asked : random.Next(0, asked);
            var messages = new List<(string, byte[])>();
            for (int i = 0; i < count; i++)
            {
                int size = random.Next(10) switch { 0 => 0, 1 => random.Next(150_000, 300_000), _ => random.Next(1, 400) };
                var payload = new byte[size];
                random.NextBytes(payload);
                messages.Add(($"$JS.ACK.s.c.1.{(request * 100) + i + 1}.{(request * 100) + i + 1}.1696023331771188000.0", payload));
            }

            expected.Add(messages);
            filled.Add(fill);
        }

        var layout = new Random(seed + 1_000); // the server's own: it answers on another thread
        await using var server = FakeNatsServer.Start(Info, (inbox, request) => Reply(layout, inbox, expected[request], filled[request]), seed);
        using var reader = await NatsPullReader.ConnectAsync(server.EndPoint, TimeSpan.FromSeconds(10), CancellationToken.None);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        for (int request = 0; request < expected.Count; request++)
        {
            int asked = filled[request] ? expected[request].Count : expected[request].Count + 1 + random.Next(5);
            await reader.SendPullAsync(s_next, asked, timeout.Token);
            var received = new List<(string, byte[])>();
            while (true)
            {
                while (reader.TryTakeMessage(out var message))
                {
                    received.Add((Encoding.ASCII.GetString(reader.Bytes.Slice(message.ReplyStart, message.ReplyLength)), reader.Bytes.Slice(message.PayloadStart, message.PayloadLength).ToArray()));
                    Assert.Equal("bids", Encoding.ASCII.GetString(reader.Bytes.Slice(message.SubjectStart, message.SubjectLength)));
                }

                if (reader.PongDue)
                {
                    await reader.SendPongAsync(timeout.Token);
                }

                if (!reader.RequestOpen)
                {
                    break;
                }

                await reader.ReceiveAsync(timeout.Token);
            }

            Assert.Equal(expected[request].Count, received.Count);
            for (int i = 0; i < received.Count; i++)
            {
                Assert.Equal(expected[request][i].Reply, received[i].Item1);
                Assert.True(expected[request][i].Payload.AsSpan().SequenceEqual(received[i].Item2), $"request {request}, message {i}: the payload differs");
            }

            Assert.Equal(filled[request], reader.LastRequestFilled);
            Assert.Equal(0, reader.Outstanding);
        }

        Assert.Equal(expected.Count, server.Requests.Count);
        Assert.All(server.Requests, body => Assert.Contains("\"no_wait\":true", body, StringComparison.Ordinal));
        Assert.True(reader.BufferSize > 128 * 1024 || expected.SelectMany(m => m).All(m => m.Payload.Length < 128 * 1024));
        await server.WaitForPongsAsync(timeout.Token);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task TryTakeMessage_NextRequestSentWhileOneIsOpen_CountsBothTogetherAndEndsWhenBothAreFilled(int seed)
    {
        // The source sends the next request while the last messages of the open one arrive, when the stream holds enough to fill
        // both: every message comes out once and in order, the two end together when all their messages came, and the connection
        // goes on with single requests (one filled, one ended by its status) after them.
        var random = new Random(seed);
        int[] asked = [random.Next(2, 3000), random.Next(1, 3000), random.Next(1, 500), random.Next(1, 500)];
        int[] counts = [asked[0], asked[1], asked[2], random.Next(0, asked[3])];
        var expected = new List<List<(string Reply, byte[] Payload)>>();
        int sequence = 0;
        foreach (int count in counts)
        {
            var messages = new List<(string, byte[])>();
            for (int i = 0; i < count; i++)
            {
                var payload = new byte[random.Next(10) == 0 ? random.Next(150_000, 300_000) : random.Next(1, 400)];
                random.NextBytes(payload);
                sequence++;
                messages.Add(($"$JS.ACK.s.c.1.{sequence}.{sequence}.1696023331771188000.0", payload));
            }

            expected.Add(messages);
        }

        var layout = new Random(seed + 1_000);
        await using var server = FakeNatsServer.Start(Info, (inbox, request) => Reply(layout, inbox, expected[request], counts[request] == asked[request]), seed);
        using var reader = await NatsPullReader.ConnectAsync(server.EndPoint, TimeSpan.FromSeconds(10), CancellationToken.None);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var received = new List<(string Reply, byte[] Payload)>();

        await reader.SendPullAsync(s_next, asked[0], timeout.Token);
        int before = random.Next(0, asked[0] / 2 + 1); // messages of the first request taken before the second is sent
        while (received.Count < before)
        {
            if (!reader.TryTakeMessage(out var message))
            {
                await reader.ReceiveAsync(timeout.Token);
                continue;
            }

            received.Add(Copy(reader, message));
        }

        Assert.Equal(asked[0] - before, reader.Outstanding);
        await reader.SendPullAsync(s_next, asked[1], timeout.Token);
        Assert.Equal((2L, asked[0] - before + asked[1]), (reader.OpenRequests, reader.Outstanding));
        await TakeUntilEndAsync(reader, received, timeout.Token);
        Assert.True(reader.LastRequestFilled);

        for (int request = 2; request < asked.Length; request++)
        {
            await reader.SendPullAsync(s_next, asked[request], timeout.Token);
            await TakeUntilEndAsync(reader, received, timeout.Token);
            Assert.Equal(counts[request] == asked[request], reader.LastRequestFilled);
        }

        var all = expected.SelectMany(m => m).ToList();
        Assert.Equal(all.Count, received.Count);
        for (int i = 0; i < all.Count; i++)
        {
            Assert.Equal(all[i].Reply, received[i].Reply);
            Assert.True(all[i].Payload.AsSpan().SequenceEqual(received[i].Payload), $"message {i}: the payload differs");
        }

        Assert.Equal((0L, 0), (reader.OpenRequests, reader.Outstanding));
        Assert.Equal(asked.Length, server.Requests.Count);
        await server.WaitForPongsAsync(timeout.Token);
    }

    [Theory]
    [InlineData("404 No Messages")]
    [InlineData("408 Request Timeout")]
    public async Task TryTakeMessage_OneOfTwoOpenRequestsEndedEarly_ThrowsIOException(string status)
    {
        // The messages of two open requests cannot be told apart, so neither can the other's end: the connection starts again.
        await using var server = FakeNatsServer.Start(Info, (inbox, request) => request == 0
            ? [.. Encoding.ASCII.GetBytes("MSG bids 1 $JS.ACK.s.c.1.1.1.1.0 2\r\n{}\r\n"), .. Encoding.ASCII.GetBytes(Status(inbox, status))]
            : [], 1);
        using var reader = await NatsPullReader.ConnectAsync(server.EndPoint, TimeSpan.FromSeconds(10), CancellationToken.None);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await reader.SendPullAsync(s_next, 10, timeout.Token);
        await reader.SendPullAsync(s_next, 10, timeout.Token);

        var error = await Assert.ThrowsAsync<IOException>(() => TakeUntilEndAsync(reader, [], timeout.Token));

        Assert.Contains("cannot be told apart", error.Message, StringComparison.Ordinal);
        Assert.False(reader.RequestOpen);
    }

    [Fact]
    public async Task TryTakeMessage_ConsumerGone_ThrowsNamingTheStatus()
    {
        await using var server = FakeNatsServer.Start(Info, (inbox, _) => Encoding.ASCII.GetBytes(Status(inbox, "503")), 1);
        using var reader = await NatsPullReader.ConnectAsync(server.EndPoint, TimeSpan.FromSeconds(10), CancellationToken.None);

        var error = await Assert.ThrowsAsync<NatsPullFailedException>(() => TakeAllAsync(reader, 10));

        Assert.Equal(503, error.Status);
        Assert.Contains("NATS/1.0 503", error.Message, StringComparison.Ordinal);
        Assert.False(reader.RequestOpen);
    }

    [Theory]
    [InlineData("-ERR 'Stale Connection'\r\n", "-ERR 'Stale Connection'")]
    [InlineData("MSG bids 1 $JS.ACK.s.c.1.1.1.1.0 x\r\n{}\r\n", "not a number")]
    [InlineData("MSG bids 1 $JS.ACK.s.c.1.1.1.1.0 2\r\n{}XX", "CRLF")]
    [InlineData("HMSG bids 1 $JS.ACK.s.c.1.1.1.1.0 9 2\r\nNATS/1.0\r\n\r\n", "headers are longer")]
    [InlineData("MSG bids\r\n", "cannot read")]
    [InlineData("WHAT\r\n", "does not know")]
    public async Task TryTakeMessage_ErrorOrBrokenFraming_ThrowsIOException(string reply, string reason)
    {
        await using var server = FakeNatsServer.Start(Info, (_, _) => Encoding.ASCII.GetBytes(reply), 1);
        using var reader = await NatsPullReader.ConnectAsync(server.EndPoint, TimeSpan.FromSeconds(10), CancellationToken.None);

        var error = await Assert.ThrowsAsync<IOException>(() => TakeAllAsync(reader, 10));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("INFO {\"server_id\":\"fake\",\"headers\":true,\"auth_required\":true}")]
    [InlineData("INFO {\"server_id\":\"fake\",\"headers\":true,\"tls_required\":true}")]
    [InlineData("INFO {\"server_id\":\"fake\"}")]
    public async Task ConnectAsync_ServerWantingCredentialsTlsOrWithoutHeaders_IsNotSupported(string info)
    {
        await using var server = FakeNatsServer.Start(info, (_, _) => [], 1);

        await Assert.ThrowsAsync<NotSupportedException>(() => NatsPullReader.ConnectAsync(server.EndPoint, TimeSpan.FromSeconds(10), CancellationToken.None));
    }

    [Theory]
    [InlineData("nats://127.0.0.1:4333", "127.0.0.1:4333")]
    [InlineData("127.0.0.1:4333", "127.0.0.1:4333")]
    [InlineData("nats://127.0.0.1", "127.0.0.1:4222")]
    [InlineData("nats://localhost:5000/", "localhost:5000")]
    [InlineData("tls://127.0.0.1:4222", null)]
    [InlineData("nats://user:secret@127.0.0.1:4222", null)]
    [InlineData("nats://127.0.0.1:4222,nats://127.0.0.1:4223", null)]
    [InlineData("ws://127.0.0.1:8080", null)]
    public void EndPointOf_PlainSingleServerUrls_OnlyThose(string url, string? expected)
    {
        var endPoint = NatsPullReader.EndPointOf(url);

        Assert.Equal(expected, endPoint switch
        {
            IPEndPoint ip => $"{ip.Address}:{ip.Port}",
            DnsEndPoint dns => $"{dns.Host}:{dns.Port}",
            _ => null,
        });
    }

    /// <summary>Takes messages, answering PINGs, until no request is open (or throws).</summary>
    private static async Task TakeUntilEndAsync(NatsPullReader reader, List<(string Reply, byte[] Payload)> received, CancellationToken cancellationToken)
    {
        while (true)
        {
            while (reader.TryTakeMessage(out var message))
            {
                received.Add(Copy(reader, message));
            }

            if (reader.PongDue)
            {
                await reader.SendPongAsync(cancellationToken);
            }

            if (!reader.RequestOpen)
            {
                return;
            }

            await reader.ReceiveAsync(cancellationToken);
        }
    }

    private static (string Reply, byte[] Payload) Copy(NatsPullReader reader, NatsPullMessage message) =>
        (Encoding.ASCII.GetString(reader.Bytes.Slice(message.ReplyStart, message.ReplyLength)), reader.Bytes.Slice(message.PayloadStart, message.PayloadLength).ToArray());

    /// <summary>Takes messages until the request ends (or throws).</summary>
    private static async Task TakeAllAsync(NatsPullReader reader, int count)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await reader.SendPullAsync(s_next, count, timeout.Token);
        while (true)
        {
            while (reader.TryTakeMessage(out _))
            {
            }

            if (!reader.RequestOpen)
            {
                return;
            }

            await reader.ReceiveAsync(timeout.Token);
        }
    }

    /// <summary>
    /// The reply to one pull request: its messages (some with headers), with protocol lines, a heartbeat and an earlier request's
    /// status between them, and the request's own 404 or 408 at the end unless it was filled.
    /// </summary>
    private static byte[] Reply(Random random, string inbox, List<(string Reply, byte[] Payload)> messages, bool filled)
    {
        var bytes = new List<byte>();
        void Add(string text) => bytes.AddRange(Encoding.ASCII.GetBytes(text));
        var earlier = inbox[..(inbox.LastIndexOf('.') + 1)] + "0";
        foreach (var (reply, payload) in messages)
        {
            switch (random.Next(12))
            {
                case 0:
                    Add("PING\r\n");
                    break;
                case 1:
                    Add("+OK\r\n");
                    break;
                case 2:
                    Add("INFO {\"server_id\":\"fake\",\"headers\":true}\r\n");
                    break;
                case 3:
                    Add(Status(inbox, "100 Idle Heartbeat"));
                    break;
                case 4:
                    Add(Status(earlier, "408 Request Timeout"));
                    break;
            }

            if (random.Next(2) == 0)
            {
                Add(string.Create(CultureInfo.InvariantCulture, $"MSG bids 1 {reply} {payload.Length}\r\n"));
            }
            else
            {
                const string Headers = "NATS/1.0\r\nNats-Msg-Id: bids-1\r\n\r\n";
                Add(string.Create(CultureInfo.InvariantCulture, $"HMSG bids 1 {reply} {Headers.Length} {Headers.Length + payload.Length}\r\n{Headers}"));
            }

            bytes.AddRange(payload);
            Add("\r\n");
        }

        if (!filled)
        {
            Add(Status(inbox, random.Next(2) == 0 ? "404 No Messages" : "408 Request Timeout"));
        }

        return [.. bytes];
    }

    private static string Status(string inbox, string status)
    {
        string headers = $"NATS/1.0 {status}\r\n\r\n";
        return string.Create(CultureInfo.InvariantCulture, $"HMSG {inbox} 1 {headers.Length} {headers.Length}\r\n{headers}\r\n");
    }

    /// <summary>
    /// A NATS server of one connection: sends <c>INFO</c>, answers the client's <c>PING</c>, and answers each <c>PUB</c> (a pull
    /// request) with the bytes <c>reply(inbox, request number)</c> gives, written in random pieces; it counts the PONGs it gets.
    /// </summary>
    private sealed class FakeNatsServer : IAsyncDisposable
    {
        private readonly TcpListener _listener;
        private readonly Task _serving;
        private int _pingsSent;
        private int _pongsReceived;

        private FakeNatsServer(string info, Func<string, int, byte[]> reply, int seed)
        {
            _listener = new TcpListener(IPAddress.Loopback, 0);
            _listener.Start();
            EndPoint = (IPEndPoint)_listener.LocalEndpoint;
            _serving = ServeAsync(info, reply, new Random(seed));
        }

        public IPEndPoint EndPoint { get; }

        public List<string> Requests { get; } = [];

        public static FakeNatsServer Start(string info, Func<string, int, byte[]> reply, int seed) => new(info, reply, seed);

        /// <summary>Waits until every PING sent was answered.</summary>
        public async Task WaitForPongsAsync(CancellationToken cancellationToken)
        {
            while (Volatile.Read(ref _pongsReceived) < Volatile.Read(ref _pingsSent) && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(10, CancellationToken.None);
            }

            Assert.True(_pongsReceived == _pingsSent, $"{_pingsSent} PINGs sent, {_pongsReceived} PONGs received");
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            try
            {
                await _serving.WaitAsync(TimeSpan.FromSeconds(20));
            }
            catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
            {
                // The client went away first.
            }
        }

        private async Task ServeAsync(string info, Func<string, int, byte[]> reply, Random random)
        {
            using var client = await _listener.AcceptTcpClientAsync();
            var stream = client.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes(info + "\r\n"));
            var pending = new StringBuilder();
            var receive = new byte[4096];
            string? publish = null;
            while (true)
            {
                int n = await stream.ReadAsync(receive);
                if (n == 0)
                {
                    return;
                }

                pending.Append(Encoding.ASCII.GetString(receive, 0, n));
                string text = pending.ToString();
                int newline;
                while ((newline = text.IndexOf("\r\n", StringComparison.Ordinal)) >= 0)
                {
                    string line = text[..newline];
                    text = text[(newline + 2)..];
                    if (publish is not null)
                    {
                        // The body of the pull request sent on the line before.
                        Requests.Add(line);
                        var bytes = reply(publish.Split(' ')[2], Requests.Count - 1);
                        Interlocked.Add(ref _pingsSent, Encoding.ASCII.GetString(bytes).Split("PING\r\n").Length - 1);
                        await WriteInPiecesAsync(stream, bytes, random);
                        publish = null;
                    }
                    else if (line.StartsWith("PUB ", StringComparison.Ordinal))
                    {
                        publish = line;
                    }
                    else if (line == "PING")
                    {
                        await stream.WriteAsync("PONG\r\n"u8.ToArray());
                    }
                    else if (line == "PONG")
                    {
                        Interlocked.Increment(ref _pongsReceived);
                    }
                }

                pending.Clear().Append(text);
            }
        }

        private static async Task WriteInPiecesAsync(NetworkStream stream, byte[] bytes, Random random)
        {
            for (int sent = 0; sent < bytes.Length;)
            {
                int n = Math.Min(bytes.Length - sent, random.Next(1, 70_000));
                await stream.WriteAsync(bytes.AsMemory(sent, n));
                sent += n;
            }

            await stream.FlushAsync();
        }
    }
}
