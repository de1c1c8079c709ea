using System.Diagnostics;
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
/// the request ends exactly at its status or its last message. Since session 16 the reader never uses an asynchronous socket
/// operation: the runtime's socket engine must never watch its socket (Linux: no <c>epoll</c> of the process lists it), whatever
/// the server's pace, and its waits for a silent server end at the token, the deadline or the server's bytes.
/// </summary>
public sealed class NatsPullReaderTests
{
    private const string Info = "INFO {\"server_id\":\"fake\",\"version\":\"2.9.10\",\"headers\":true,\"max_payload\":1048576,\"jetstream\":true}";
    private static readonly byte[] s_next = Encoding.ASCII.GetBytes("$JS.API.CONSUMER.MSG.NEXT.s.c");

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(3, false)]
    [InlineData(4, false)]
    [InlineData(5, true)]
    [InlineData(6, true)]
    public async Task TryTakeMessage_RepliesInRandomPieces_ReturnsEveryMessageOnceAndEndsAtTheStatusOrTheLastMessage(int seed, bool pauses)
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
        // With pauses, a quarter of the pieces come after 1-40 ms: the reader's waits in the kernel, and past 20 ms on timers.
        var pace = new Random(seed + 2_000);
        await using var server = FakeNatsServer.Start(
            Info,
            (inbox, request) => Reply(layout, inbox, expected[request], filled[request]),
            seed,
            pauses ? async (_, _) =>
            {
                if (pace.Next(4) == 0)
                {
                    await Task.Delay(pace.Next(1, 41));
                }

                return true;
            }
            : null);
        using var reader = await NatsPullReader.ConnectAsync(server.EndPoint, TimeSpan.FromSeconds(10), CancellationToken.None);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        for (int request = 0; request < expected.Count; request++)
        {
            int asked = filled[request] ? expected[request].Count : expected[request].Count + 1 + random.Next(5);
            reader.SendPull(s_next, asked);
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
                    reader.SendPong();
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
        Assert.NotEqual(true, reader.SocketWatchedByEpoll);
    }

    [Fact]
    public async Task ReceiveAsync_ServerSilentPastTheBlockingWait_WaitsOnTimersAndTakesTheBytesWhenTheyCome()
    {
        // The reply is held back until the receive has waited for a while (well past the 20 ms it may block in the kernel).
        var send = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var payload = Encoding.ASCII.GetBytes("{\"auction\":1}");
        await using var server = FakeNatsServer.Start(
            Info,
            (_, _) => [.. Encoding.ASCII.GetBytes($"MSG bids 1 $JS.ACK.s.c.1.1.1.1.0 {payload.Length}\r\n"), .. payload, .. "\r\n"u8.ToArray()],
            1,
            async (_, _) =>
            {
                await send.Task;
                return true;
            });
        using var reader = await NatsPullReader.ConnectAsync(server.EndPoint, TimeSpan.FromSeconds(10), CancellationToken.None);
        reader.SendPull(s_next, 1);
        var (slowBefore, receivesBefore, timedBefore) = (reader.SlowReceives, reader.Receives, reader.TimedWaits); // the hand-shake's

        var receive = reader.ReceiveAsync(Stopwatch.GetTimestamp() + (60 * Stopwatch.Frequency), CancellationToken.None).AsTask();
        await Task.Delay(100);
        bool waitedBeforeTheBytes = !receive.IsCompleted; // nothing was sent yet, so nothing can have been received
        send.SetResult();
        await receive.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(waitedBeforeTheBytes);
        Assert.True(reader.TryTakeMessage(out var message));
        Assert.True(payload.AsSpan().SequenceEqual(reader.Bytes.Slice(message.PayloadStart, message.PayloadLength)));
        Assert.Equal((1L, 1L), (reader.SlowReceives - slowBefore, reader.Receives - receivesBefore));
        Assert.True(reader.TimedWaits > timedBefore, "the wait went on past the blocking part on timers");
        Assert.False(reader.RequestOpen);
        Assert.NotEqual(true, reader.SocketWatchedByEpoll);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ReceiveAsync_SilentServer_EndsAtTheCancelledTokenOrAtTheDeadline(bool deadline)
    {
        await using var server = FakeNatsServer.Start(Info, (_, _) => [], 1);
        using var reader = await NatsPullReader.ConnectAsync(server.EndPoint, TimeSpan.FromSeconds(10), CancellationToken.None);
        reader.SendPull(s_next, 10);
        long receivesBefore = reader.Receives; // the hand-shake's
        using var cancel = new CancellationTokenSource(deadline ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(100));
        var receive = reader.ReceiveAsync(deadline ? Stopwatch.GetTimestamp() + (Stopwatch.Frequency / 10) : long.MaxValue, cancel.Token).AsTask().WaitAsync(TimeSpan.FromSeconds(30));

        var error = await Assert.ThrowsAnyAsync<Exception>(() => receive);

        if (deadline)
        {
            Assert.IsType<TimeoutException>(error);
            Assert.Contains("silent past the deadline", error.Message, StringComparison.Ordinal);
        }
        else
        {
            Assert.IsAssignableFrom<OperationCanceledException>(error);
        }

        Assert.Equal(receivesBefore, reader.Receives);
    }

    [Fact]
    public async Task ReceiveAsync_ServerClosesMidMessage_ThrowsIOException()
    {
        // Half a message, then the server hangs up: the reader waits for the rest and meets the end of the connection.
        await using var server = FakeNatsServer.Start(
            Info,
            (_, _) => Encoding.ASCII.GetBytes("MSG bids 1 $JS.ACK.s.c.1.1.1.1.0 20\r\n{\"auct"),
            1,
            (_, piece) => Task.FromResult(piece == 0));

        using var reader = await NatsPullReader.ConnectAsync(server.EndPoint, TimeSpan.FromSeconds(10), CancellationToken.None);
        var error = await Assert.ThrowsAsync<IOException>(() => TakeAllAsync(reader, 10));

        Assert.Contains("closed the connection", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConnectAsync_NothingListening_ThrowsSocketExceptionRefused()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var endPoint = (IPEndPoint)listener.LocalEndpoint;
        listener.Stop();

        var error = await Assert.ThrowsAsync<SocketException>(() => NatsPullReader.ConnectAsync(endPoint, TimeSpan.FromSeconds(10), CancellationToken.None));

        Assert.Equal(SocketError.ConnectionRefused, error.SocketErrorCode);
    }

    [Fact]
    public async Task SocketWatchedByEpoll_AfterAnAsynchronousReceiveWaited_IsTrueOnLinux()
    {
        // The control case of the checks above: one asynchronous receive that has to wait is enough for the runtime's engine to
        // watch the socket for the rest of its life, and the check sees it.
        await using var server = FakeNatsServer.Start(Info, (_, _) => [], 1);
        using var reader = await NatsPullReader.ConnectAsync(server.EndPoint, TimeSpan.FromSeconds(10), CancellationToken.None);
        bool? before = reader.SocketWatchedByEpoll;
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await reader.Socket.ReceiveAsync(new byte[16], SocketFlags.None, cancel.Token));

        if (OperatingSystem.IsLinux())
        {
            Assert.False(before);
            Assert.True(reader.SocketWatchedByEpoll);
        }
        else
        {
            Assert.Null(reader.SocketWatchedByEpoll);
        }
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

        reader.SendPull(s_next, asked[0]);
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
        reader.SendPull(s_next, asked[1]);
        Assert.Equal((2L, asked[0] - before + asked[1]), (reader.OpenRequests, reader.Outstanding));
        await TakeUntilEndAsync(reader, received, timeout.Token);
        Assert.True(reader.LastRequestFilled);

        for (int request = 2; request < asked.Length; request++)
        {
            reader.SendPull(s_next, asked[request]);
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
        reader.SendPull(s_next, 10);
        reader.SendPull(s_next, 10);

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
                reader.SendPong();
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
        reader.SendPull(s_next, count);
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
                // Mostly the line nats-server sends (the reader's fast path), sometimes with more spaces (its general parser).
                Add(random.Next(4) == 0
                    ? string.Create(CultureInfo.InvariantCulture, $"MSG  bids 1 {reply}  {payload.Length} \r\n")
                    : string.Create(CultureInfo.InvariantCulture, $"MSG bids 1 {reply} {payload.Length}\r\n"));
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
    /// <c>pace(request number, piece number)</c>, when given, is awaited before each piece and after the last one (piece number
    /// <see cref="int.MaxValue"/>): it may wait, and false closes the connection.
    /// </summary>
    private sealed class FakeNatsServer : IAsyncDisposable
    {
        private readonly TcpListener _listener;
        private readonly Task _serving;
        private int _pingsSent;
        private int _pongsReceived;

        private FakeNatsServer(string info, Func<string, int, byte[]> reply, int seed, Func<int, int, Task<bool>>? pace)
        {
            _listener = new TcpListener(IPAddress.Loopback, 0);
            _listener.Start();
            EndPoint = (IPEndPoint)_listener.LocalEndpoint;
            _serving = ServeAsync(info, reply, new Random(seed), pace);
        }

        public IPEndPoint EndPoint { get; }

        public List<string> Requests { get; } = [];

        public static FakeNatsServer Start(string info, Func<string, int, byte[]> reply, int seed, Func<int, int, Task<bool>>? pace = null) => new(info, reply, seed, pace);

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

        private async Task ServeAsync(string info, Func<string, int, byte[]> reply, Random random, Func<int, int, Task<bool>>? pace)
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
                        if (!await WriteInPiecesAsync(stream, bytes, random, Requests.Count - 1, pace))
                        {
                            return; // the connection closes
                        }

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

        private static async Task<bool> WriteInPiecesAsync(NetworkStream stream, byte[] bytes, Random random, int request, Func<int, int, Task<bool>>? pace)
        {
            for (int sent = 0, piece = 0; sent < bytes.Length; piece++)
            {
                if (pace is not null && !await pace(request, piece))
                {
                    return false;
                }

                int n = Math.Min(bytes.Length - sent, random.Next(1, 70_000));
                await stream.WriteAsync(bytes.AsMemory(sent, n));
                sent += n;
            }

            await stream.FlushAsync();
            return pace is null || await pace(request, int.MaxValue); // after the last piece: false closes the connection too
        }
    }
}
