using LinqStream.Connectors.Tests.Servers;
using LinqStream.Testing.Nexmark;
using StackExchange.Redis;

namespace LinqStream.Connectors.Tests.Redis;

/// <summary>
/// The faults of issue #23 on Redis: input trimmed or deleted while the job was down, a stream deleted mid-run (which used to
/// hang with the status still Connected), and a server that came back empty under the sink (which used to write on after a
/// hole). Each test uses its own stream or its own server, and has a bound.
/// </summary>
[Trait("Category", "Slow")] // Slow (fast suite skips it): needs real redis-server / nats-server processes
public sealed class RedisFaultTests
{
    private static readonly ReconnectPolicy s_fast = new() { InitialDelay = TimeSpan.FromMilliseconds(20), MaxDelay = TimeSpan.FromMilliseconds(200) };

    [Fact]
    public async Task OpenAsync_StreamTrimmedPastTheSavedPosition_FailsNamingTheGapAndItsSize()
    {
        var (stream, position, _) = await ReadThenChangeAsync(100, 50, (db, key) => db.StreamTrimAsync(key, 20));
        await using var source = new RedisStreamSource<Bid>(SharedServers.Redis, stream, RedisTestData.BidJson, new() { StopAtEnd = true });
        await source.OpenAsync(SourceDriving.Context(), position, CancellationToken.None);

        var error = await Assert.ThrowsAsync<InputGapException>(() => SourceDriving.ReadAsync(source, int.MaxValue, timeout: TimeSpan.FromSeconds(30)));

        Assert.Equal(30, error.Gap.Skipped);
        Assert.Contains("trimmed", error.Message, StringComparison.Ordinal);
        Assert.Contains("InputGapPolicy.Skip", error.Message, StringComparison.Ordinal);
        Assert.Equal(ConnectionState.Failed, source.Status.State);
    }

    [Fact]
    public async Task OpenAsync_StreamTrimmedWithSkipPolicy_GoesOnFromTheFirstEntryLeftAndCountsTheSkipped()
    {
        var (stream, position, bids) = await ReadThenChangeAsync(100, 50, (db, key) => db.StreamTrimAsync(key, 20));
        await using var source = new RedisStreamSource<Bid>(SharedServers.Redis, stream, RedisTestData.BidJson, new() { StopAtEnd = true, OnGap = InputGapPolicy.Skip });
        var gaps = new List<InputGap>();
        source.GapSkipped += (_, gap) => gaps.Add(gap);
        await source.OpenAsync(SourceDriving.Context(), position, CancellationToken.None);

        var (events, _) = await SourceDriving.ReadAsync(source, int.MaxValue, timeout: TimeSpan.FromSeconds(30));

        Assert.Equal(bids[80..], events);
        Assert.Equal(30, Assert.Single(gaps).Skipped);
        Assert.Equal(30, source.SkippedEntries);
    }

    [Fact]
    public async Task OpenAsync_StreamTrimmedOnlyBehindThePosition_ReadsOnWithNoGap()
    {
        var (stream, position, bids) = await ReadThenChangeAsync(100, 50, (db, key) => db.StreamTrimAsync(key, 60));
        await using var source = new RedisStreamSource<Bid>(SharedServers.Redis, stream, RedisTestData.BidJson, new() { StopAtEnd = true });
        await source.OpenAsync(SourceDriving.Context(), position, CancellationToken.None);

        var (events, _) = await SourceDriving.ReadAsync(source, int.MaxValue, timeout: TimeSpan.FromSeconds(30));

        Assert.Equal(bids[50..], events);
    }

    [Fact]
    public async Task OpenAsync_StreamDeletedWhileTheJobWasDown_Fails()
    {
        var (stream, position, _) = await ReadThenChangeAsync(100, 50, (db, key) => db.KeyDeleteAsync(key));
        await using var source = new RedisStreamSource<Bid>(SharedServers.Redis, stream, RedisTestData.BidJson, new() { StopAtEnd = true });
        await source.OpenAsync(SourceDriving.Context(), position, CancellationToken.None);

        var error = await Assert.ThrowsAsync<InputGapException>(() => SourceDriving.ReadAsync(source, int.MaxValue, timeout: TimeSpan.FromSeconds(30)));

        Assert.Contains("was deleted", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_StreamDeletedMidRun_FailsInsteadOfHangingWithStatusConnected()
    {
        var stream = SharedServers.UniqueName("bids");
        var bids = RedisTestData.Bids(2_000);
        await using var connection = await RedisTestData.ConnectAsync(SharedServers.Redis);
        await RedisTestData.AppendAsync(connection.GetDatabase(), stream, bids);
        await using var source = new RedisStreamSource<Bid>(SharedServers.Redis, stream, RedisTestData.BidJson, new() { StopAtEnd = true, BatchSize = 100 });
        await source.OpenAsync(SourceDriving.Context(), null, CancellationToken.None);
        var (first, _) = await SourceDriving.ReadAsync(source, 300, bufferSize: 100);
        await connection.GetDatabase().KeyDeleteAsync(stream);

        var error = await Assert.ThrowsAsync<InputGapException>(() => SourceDriving.ReadAsync(source, int.MaxValue, bufferSize: 100, timeout: TimeSpan.FromSeconds(30)));

        Assert.Equal(bids[..300], first);
        Assert.Contains("was deleted", error.Message, StringComparison.Ordinal);
        Assert.Equal(ConnectionState.Failed, source.Status.State);
    }

    [Fact]
    public async Task ReadAsync_ServerCameBackEmptyMidRun_FailsInsteadOfWaitingForEver()
    {
        using var server = ServerProcess.StartRedis();
        var configuration = $"127.0.0.1:{server.Port}";
        var bids = RedisTestData.Bids(400);
        await using (var connection = await RedisTestData.ConnectAsync(configuration))
        {
            await RedisTestData.AppendAsync(connection.GetDatabase(), "bids", bids);
        }

        await using var source = new RedisStreamSource<Bid>(configuration, "bids", RedisTestData.BidJson, new() { Reconnect = s_fast, BlockTime = TimeSpan.FromMilliseconds(10) });
        await source.OpenAsync(SourceDriving.Context(), null, CancellationToken.None);
        var (first, _) = await SourceDriving.ReadAsync(source, 400, bufferSize: 100);
        server.KillAndWipe();
        server.Start();

        var error = await Assert.ThrowsAsync<InputGapException>(() => SourceDriving.ReadAsync(source, int.MaxValue, timeout: TimeSpan.FromSeconds(30)));

        Assert.Equal(bids, first);
        Assert.Contains("was deleted (or the server came back without its data)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sink_ServerCameBackEmptyMidRun_FailsInsteadOfWritingOnAfterAHole()
    {
        using var server = ServerProcess.StartRedis();
        var configuration = $"127.0.0.1:{server.Port}";
        var bids = RedisTestData.Bids(600);
        await using var sink = new RedisStreamSink<Bid>(configuration, "out", RedisTestData.BidJson, new() { ChunkSize = 100, Reconnect = s_fast });
        await sink.OpenAsync(null, CancellationToken.None);
        await sink.WriteAsync(bids.AsMemory(0, 300), CancellationToken.None);

        server.KillAndWipe();
        server.Start();
        var error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => sink.WriteAsync(bids.AsMemory(300), CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(60)));

        await using var connection = await RedisTestData.ConnectAsync(configuration);
        Assert.Empty(await RedisTestData.ReadAllAsync(connection.GetDatabase(), "out"));
        Assert.Contains("went backwards", error.Message, StringComparison.Ordinal);
        Assert.Contains("0-300", error.Message, StringComparison.Ordinal);
        Assert.Equal(ConnectionState.Failed, sink.Status.State);
    }

    [Fact]
    public async Task Sink_OutputStreamDeletedMidRun_FailsInsteadOfWritingOnAfterAHole()
    {
        var stream = SharedServers.UniqueName("out");
        var bids = RedisTestData.Bids(200);
        await using var sink = new RedisStreamSink<Bid>(SharedServers.Redis, stream, RedisTestData.BidJson, new() { ChunkSize = 50 });
        await sink.OpenAsync(null, CancellationToken.None);
        await sink.WriteAsync(bids.AsMemory(0, 100), CancellationToken.None);
        await using var connection = await RedisTestData.ConnectAsync(SharedServers.Redis);
        await connection.GetDatabase().KeyDeleteAsync(stream);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => sink.WriteAsync(bids.AsMemory(100), CancellationToken.None).AsTask());

        Assert.Contains("went backwards", error.Message, StringComparison.Ordinal);
        Assert.Empty(await RedisTestData.ReadAllAsync(connection.GetDatabase(), stream));
    }

    /// <summary>Appends <paramref name="count"/> bids to a new stream, reads <paramref name="read"/> of them, then changes the stream.</summary>
    private static async Task<(string Stream, byte[] Position, Bid[] Bids)> ReadThenChangeAsync(int count, int read, Func<IDatabase, string, Task> change)
    {
        var stream = SharedServers.UniqueName("bids");
        var bids = RedisTestData.Bids(count + 10);
        await using var connection = await RedisTestData.ConnectAsync(SharedServers.Redis);
        var database = connection.GetDatabase();
        foreach (var bid in bids[..count])
        {
            await RedisTestData.AppendAsync(database, stream, [bid]);
        }

        byte[] position;
        await using (var first = new RedisStreamSource<Bid>(SharedServers.Redis, stream, RedisTestData.BidJson))
        {
            await first.OpenAsync(SourceDriving.Context(), null, CancellationToken.None);
            var (events, _) = await SourceDriving.ReadAsync(first, read, bufferSize: read);
            Assert.Equal(bids[..read], events);
            position = first.GetPosition();
        }

        await change(database, stream);
        foreach (var bid in bids[count..])
        {
            await RedisTestData.AppendAsync(database, stream, [bid]);
        }

        return (stream, position, bids);
    }
}
