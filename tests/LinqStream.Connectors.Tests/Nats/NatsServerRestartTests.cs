using LinqStream.Connectors.Tests.Redis;
using LinqStream.Connectors.Tests.Servers;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Connectors.Tests.Nats;

/// <summary>These tests own their server, so they can kill it and start it again on the same data.</summary>
[Trait("Category", "Slow")] // Slow (fast suite skips it): needs real redis-server / nats-server processes
public sealed class NatsServerRestartTests
{
    private static readonly ReconnectPolicy s_fast = new() { InitialDelay = TimeSpan.FromMilliseconds(20), MaxDelay = TimeSpan.FromMilliseconds(200) };

    /// <summary>
    /// SIGKILL mid-read, restart on the same data, more messages: every message once, in order, and the outage reported. The reads
    /// while the server is down may still hand over messages: the own reader sends the next pull request before a read returns, so
    /// the server's answer (here the rest of the first 400) can already sit in the socket's receive buffer when the server dies,
    /// and is read from there before the closed connection is noticed. Those events count like any others (the position covers
    /// them); the first read that meets the outage is <see cref="SourceRead.Idle"/> and names the position reached.
    /// </summary>
    [Theory]
    [InlineData(false, 1)]
    [InlineData(false, 2)]
    [InlineData(false, 3)]
    [InlineData(true, 1)]
    public async Task ReadAsync_ServerKilledAndRestarted_ReportsTheErrorThenResumesWithNoLossOrDuplicate(bool throughClient, int run)
    {
        _ = run; // the kill races the answer to the pull request sent ahead: several runs of the own reader
        using var server = ServerProcess.StartNats();
        var url = $"nats://127.0.0.1:{server.Port}";
        var bids = RedisTestData.Bids(600);
        await NatsTestData.PublishAsync(url, "bids", bids[..400]);

        await using var source = new NatsJetStreamSource<Bid>(url, "bids", RedisTestData.BidJson, new() { Reconnect = s_fast, PollInterval = TimeSpan.FromMilliseconds(5) }) { ReadThroughClient = throughClient };
        var statuses = new List<ConnectionStatus>();
        source.StatusChanged += (_, status) => statuses.Add(status);
        await source.OpenAsync(SourceDriving.Context(), null, CancellationToken.None);
        var (before, _) = await SourceDriving.ReadAsync(source, 250, bufferSize: 250);

        server.Kill();
        var buffer = new Bid[100];
        var whileDown = new List<Bid>();
        SourceRead read;
        int reads = 0;
        while ((read = await source.ReadAsync(buffer, CancellationToken.None)).Count > 0 && ++reads < 10)
        {
            whileDown.AddRange(buffer.AsSpan(0, read.Count));
        }

        int reachedBeforeRestart = before.Count + whileDown.Count;
        server.Start();
        await NatsTestData.PublishAsync(url, "bids", bids[400..]);
        var (after, _) = await SourceDriving.ReadAsync(source, bids.Length - reachedBeforeRestart, bufferSize: 100);

        Assert.Equal(SourceRead.Idle, read);
        Assert.InRange(whileDown.Count, 0, 150); // at most what the server had sent before it died
        Assert.Equal(bids, before.Concat(whileDown).Concat(after));
        Assert.Contains(statuses, s => s.State == ConnectionState.Reconnecting && s.Error is not null && s.Position == "sequence " + reachedBeforeRestart);
        Assert.Equal(ConnectionState.Connected, statuses[^1].State);
        Assert.Equal((ulong)bids.Length, source.LastSequence);
    }

    [Fact]
    public async Task Sink_ServerRestartedBetweenChunks_RetriesAndWritesEveryResultOnce()
    {
        using var server = ServerProcess.StartNats();
        var url = $"nats://127.0.0.1:{server.Port}";
        var bids = RedisTestData.Bids(300);
        await using var sink = new NatsJetStreamSink<Bid>(url, "out", RedisTestData.BidJson, new() { ChunkSize = 50, Reconnect = s_fast });
        var statuses = new List<ConnectionStatus>();
        sink.StatusChanged += (_, status) => statuses.Add(status);
        await sink.OpenAsync(null, CancellationToken.None);
        await sink.WriteAsync(bids.AsMemory(0, 100), CancellationToken.None);

        server.Terminate();
        var restart = Task.Run(async () =>
        {
            await Task.Delay(300);
            server.Start();
        });
        await sink.WriteAsync(bids.AsMemory(100), CancellationToken.None);
        await sink.CompleteAsync(CancellationToken.None);
        await restart;

        var written = await NatsTestData.ReadAllAsync(url, "out");
        Assert.Equal(bids, written.Select(w => w.Bid));

        // Whether the sink sees the outage at all is a race: a publish the client took while it already knew the connection
        // was gone waits in its buffer and is acknowledged after the reconnect (CI saw only "Connected" once, 2026-12-04). What
        // must hold either way: every result exactly once (above), and a reconnect the sink reports names its error.
        Assert.All(statuses.Where(s => s.State == ConnectionState.Reconnecting), s => Assert.NotNull(s.Error));
        Assert.Equal(ConnectionState.Connected, statuses[0].State);
    }
}
