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
    /// Reproduction of the session-9 failure (kept until the fix): the old test's steps with the own reader, every read's
    /// events kept, so that a failure says where the events went.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public async Task Repro_OwnReader_KilledAndRestarted(int run)
    {
        _ = run;
        using var server = ServerProcess.StartNats();
        var url = $"nats://127.0.0.1:{server.Port}";
        var bids = RedisTestData.Bids(600);
        await NatsTestData.PublishAsync(url, "bids", bids[..400]);

        await using var source = new NatsJetStreamSource<Bid>(url, "bids", RedisTestData.BidJson, new() { Reconnect = s_fast, PollInterval = TimeSpan.FromMilliseconds(5) }) { ReadThroughClient = false };
        var statuses = new List<ConnectionStatus>();
        source.StatusChanged += (_, status) => statuses.Add(status);
        await source.OpenAsync(SourceDriving.Context(), null, CancellationToken.None);
        var (before, _) = await SourceDriving.ReadAsync(source, 250, bufferSize: 250);

        server.Kill();
        var buffer = new Bid[100];
        var whileDown = await source.ReadAsync(buffer, CancellationToken.None);
        ulong positionWhileDown = source.LastSequence;
        server.Start();
        await NatsTestData.PublishAsync(url, "bids", bids[400..]);
        var after = new List<Bid>();
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
        {
            try
            {
                while (after.Count < 350)
                {
                    var read = await source.ReadAsync(buffer, cts.Token);
                    after.AddRange(buffer.AsSpan(0, read.Count));
                }
            }
            catch (OperationCanceledException)
            {
                // reported below
            }
        }

        Assert.True(
            whileDown == SourceRead.Idle && bids.SequenceEqual(before.Concat(after)),
            $"before {before.Count}, while down {whileDown.Count} (position {positionWhileDown}), after {after.Count} (first is bid {(after.Count > 0 ? Array.IndexOf(bids, after[0]) : -1)}), position {source.LastSequence}; statuses: {string.Join(" | ", statuses.Select(s => $"{s.State} {s.Position}"))}");
    }

    [Fact]
    public async Task ReadAsync_ServerKilledAndRestarted_ReportsTheErrorThenResumesWithNoLossOrDuplicate()
    {
        using var server = ServerProcess.StartNats();
        var url = $"nats://127.0.0.1:{server.Port}";
        var bids = RedisTestData.Bids(600);
        await NatsTestData.PublishAsync(url, "bids", bids[..400]);

        await using var source = new NatsJetStreamSource<Bid>(url, "bids", RedisTestData.BidJson, new() { Reconnect = s_fast, PollInterval = TimeSpan.FromMilliseconds(5) });
        var statuses = new List<ConnectionStatus>();
        source.StatusChanged += (_, status) => statuses.Add(status);
        await source.OpenAsync(SourceDriving.Context(), null, CancellationToken.None);
        var (before, _) = await SourceDriving.ReadAsync(source, 250, bufferSize: 250);

        server.Kill();
        var buffer = new Bid[100];
        var whileDown = await source.ReadAsync(buffer, CancellationToken.None);
        server.Start();
        await NatsTestData.PublishAsync(url, "bids", bids[400..]);
        var (after, _) = await SourceDriving.ReadAsync(source, 350, bufferSize: 100);

        Assert.Equal(SourceRead.Idle, whileDown);
        Assert.Equal(bids, before.Concat(after));
        Assert.Contains(statuses, s => s.State == ConnectionState.Reconnecting && s.Error is not null && s.Position == "sequence 250");
        Assert.Equal(ConnectionState.Connected, statuses[^1].State);
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
