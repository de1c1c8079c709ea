using LinqStream.Connectors.Tests.Servers;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Connectors.Tests.Redis;

/// <summary>These tests own their server, so they can kill it and start it again on the same data.</summary>
[Trait("Category", "Slow")] // Slow (fast suite skips it): needs real redis-server / nats-server processes
public sealed class RedisServerRestartTests
{
    [Fact]
    public async Task ReadAsync_ServerKilledAndRestarted_ReportsTheErrorThenResumesWithNoLossOrDuplicate()
    {
        using var server = ServerProcess.StartRedis();
        var configuration = $"127.0.0.1:{server.Port}";
        var bids = RedisTestData.Bids(600);
        await using (var connection = await RedisTestData.ConnectAsync(configuration))
        {
            await RedisTestData.AppendAsync(connection.GetDatabase(), "bids", bids[..400]);
        }

        var reconnect = new ReconnectPolicy { InitialDelay = TimeSpan.FromMilliseconds(20), MaxDelay = TimeSpan.FromMilliseconds(200) };
        await using var source = new RedisStreamSource<Bid>(configuration, "bids", RedisTestData.BidJson, new() { Reconnect = reconnect, BlockTime = TimeSpan.FromMilliseconds(10) });
        var statuses = new List<ConnectionStatus>();
        source.StatusChanged += (_, status) => statuses.Add(status);
        await source.OpenAsync(SourceDriving.Context(), null, CancellationToken.None);
        var (before, _) = await SourceDriving.ReadAsync(source, 250, bufferSize: 250);
        string positionAtKill = source.LastId;

        server.Kill();
        var buffer = new Bid[100];
        var whileDown = await source.ReadAsync(buffer, CancellationToken.None);
        server.Start();
        await using (var connection = await RedisTestData.ConnectAsync(configuration))
        {
            await RedisTestData.AppendAsync(connection.GetDatabase(), "bids", bids[400..]);
        }

        var (after, _) = await SourceDriving.ReadAsync(source, 350, bufferSize: 100);

        Assert.Equal(SourceRead.Idle, whileDown);
        Assert.Equal(bids, before.Concat(after));
        // A loaded machine may see the reconnect fail more than once; each failure is reported with its error.
        Assert.Contains(statuses, s => s.State == ConnectionState.Reconnecting && s.Attempt == 1 && s.Error is not null && s.Position == positionAtKill);
        Assert.Equal(ConnectionState.Connected, statuses[^1].State);
    }

    [Fact]
    public async Task ReadAsync_ServerGoneLongerThanGiveUpAfter_FailsWithTheErrorAndPosition()
    {
        using var server = ServerProcess.StartRedis();
        var configuration = $"127.0.0.1:{server.Port}";
        var reconnect = new ReconnectPolicy { InitialDelay = TimeSpan.FromMilliseconds(10), MaxDelay = TimeSpan.FromMilliseconds(20), GiveUpAfter = TimeSpan.FromMilliseconds(200) };
        await using var source = new RedisStreamSource<Bid>(configuration, "bids", RedisTestData.BidJson, new() { Reconnect = reconnect });
        await source.OpenAsync(SourceDriving.Context(), null, CancellationToken.None);
        server.Kill();

        var error = await Assert.ThrowsAsync<IOException>(async () =>
        {
            var buffer = new Bid[10];
            while (true)
            {
                await source.ReadAsync(buffer, CancellationToken.None);
            }
        });

        Assert.Contains($"redis://{configuration}/bids could not reach its server", error.Message, StringComparison.Ordinal);
        Assert.Contains("at 0-0", error.Message, StringComparison.Ordinal);
        Assert.Equal(ConnectionState.Failed, source.Status.State);
    }

    [Fact]
    public async Task Sink_ServerKilledBetweenChunks_RetriesAndWritesEveryResultOnce()
    {
        using var server = ServerProcess.StartRedis();
        var configuration = $"127.0.0.1:{server.Port}";
        var bids = RedisTestData.Bids(300);
        var reconnect = new ReconnectPolicy { InitialDelay = TimeSpan.FromMilliseconds(20), MaxDelay = TimeSpan.FromMilliseconds(200) };
        await using var sink = new RedisStreamSink<Bid>(configuration, "out", RedisTestData.BidJson, new() { ChunkSize = 50, Reconnect = reconnect });
        var statuses = new List<ConnectionStatus>();
        sink.StatusChanged += (_, status) => statuses.Add(status);
        await sink.OpenAsync(null, CancellationToken.None);
        await sink.WriteAsync(bids.AsMemory(0, 100), CancellationToken.None);

        server.Kill();
        var restart = Task.Run(async () =>
        {
            await Task.Delay(150);
            server.Start();
        });
        await sink.WriteAsync(bids.AsMemory(100), CancellationToken.None);
        await sink.CompleteAsync(CancellationToken.None);
        await restart;

        await using var connection = await RedisTestData.ConnectAsync(configuration);
        var written = await RedisTestData.ReadAllAsync(connection.GetDatabase(), "out");
        Assert.Equal(bids, written.Select(w => w.Bid));
        Assert.Contains(statuses, s => s.State == ConnectionState.Reconnecting && s.Error is not null);
    }
}
