using LinqStream.Connectors.Tests.Servers;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Connectors.Tests.Redis;

[Trait("Category", "Slow")] // Slow (fast suite skips it): needs real redis-server / nats-server processes
public sealed class RedisStreamSourceTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ReadAsync_StreamWithEntries_ReturnsEveryEventInOrderInBatches(bool throughClient)
    {
        var stream = SharedServers.UniqueName("bids");
        await using var connection = await RedisTestData.ConnectAsync(SharedServers.Redis);
        var bids = RedisTestData.Bids(5000);
        await RedisTestData.AppendAsync(connection.GetDatabase(), stream, bids);

        await using var source = new RedisStreamSource<Bid>(SharedServers.Redis, stream, RedisTestData.BidJson, new() { StopAtEnd = true }) { ReadThroughClient = throughClient };
        await source.OpenAsync(SourceDriving.Context(), null, CancellationToken.None);
        var (events, reads) = await SourceDriving.ReadAsync(source, int.MaxValue, bufferSize: 1000);

        Assert.Equal(bids, events);
        Assert.Equal(5, reads);
        Assert.Equal(ConnectionState.Closed, source.Status.State);
    }

    [Fact]
    public async Task OpenAsync_AtPosition_ResumesJustAfterTheLastEntryRead()
    {
        var stream = SharedServers.UniqueName("bids");
        await using var connection = await RedisTestData.ConnectAsync(SharedServers.Redis);
        var bids = RedisTestData.Bids(300);
        await RedisTestData.AppendAsync(connection.GetDatabase(), stream, bids);

        byte[] position;
        await using (var first = new RedisStreamSource<Bid>(SharedServers.Redis, stream, RedisTestData.BidJson))
        {
            await first.OpenAsync(SourceDriving.Context(), null, CancellationToken.None);
            var (firstEvents, _) = await SourceDriving.ReadAsync(first, 120, bufferSize: 120);
            Assert.Equal(bids[..120], firstEvents);
            position = first.GetPosition();
        }

        await using var second = new RedisStreamSource<Bid>(SharedServers.Redis, stream, RedisTestData.BidJson, new() { StopAtEnd = true });
        await second.OpenAsync(SourceDriving.Context(), position, CancellationToken.None);
        var (rest, _) = await SourceDriving.ReadAsync(second, int.MaxValue);

        Assert.Equal(bids[120..], rest);
    }

    [Fact]
    public async Task ReadAsync_NothingNew_ReturnsIdleAfterBlockTime_ThenSeesNewEntries()
    {
        var stream = SharedServers.UniqueName("bids");
        await using var connection = await RedisTestData.ConnectAsync(SharedServers.Redis);
        await using var source = new RedisStreamSource<Bid>(SharedServers.Redis, stream, RedisTestData.BidJson, new() { BlockTime = TimeSpan.FromMilliseconds(20) });
        await source.OpenAsync(SourceDriving.Context(), null, CancellationToken.None);
        var buffer = new Bid[16];

        var idle = await source.ReadAsync(buffer, CancellationToken.None);
        await RedisTestData.AppendAsync(connection.GetDatabase(), stream, RedisTestData.Bids(3));
        var (events, _) = await SourceDriving.ReadAsync(source, 3);

        Assert.Equal(SourceRead.Idle, idle);
        Assert.Equal(RedisTestData.Bids(3), events);
        Assert.Equal(ConnectionState.Connected, source.Status.State);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ReadAsync_MalformedEntries_GoToDeadLettersWithStreamIdAndReason(bool throughClient)
    {
        var stream = SharedServers.UniqueName("bids");
        await using var connection = await RedisTestData.ConnectAsync(SharedServers.Redis);
        var database = connection.GetDatabase();
        var bids = RedisTestData.Bids(4);
        await RedisTestData.AppendAsync(database, stream, bids[..2]);
        var badJson = await database.StreamAddAsync(stream, "data", "{\"auction\": 12, \"price\": ");
        var wrongType = await database.StreamAddAsync(stream, "data", "{\"auction\": \"twelve\"}");
        var noField = await database.StreamAddAsync(stream, "other", "{}");
        var jsonNull = await database.StreamAddAsync(stream, "data", "null");
        await RedisTestData.AppendAsync(database, stream, bids[2..]);
        var deadLetters = new RecordingDeadLetters();

        await using var source = new RedisStreamSource<Bid>(SharedServers.Redis, stream, RedisTestData.BidJson, new() { StopAtEnd = true }) { ReadThroughClient = throughClient };
        await source.OpenAsync(SourceDriving.Context(deadLetters), null, CancellationToken.None);
        var (events, _) = await SourceDriving.ReadAsync(source, int.MaxValue);

        Assert.Equal(bids, events);
        var letters = deadLetters.Letters;
        Assert.Equal([$"entry {badJson}", $"entry {wrongType}", $"entry {noField}", $"entry {jsonNull}"], letters.Select(l => l.Position));
        Assert.All(letters, l => Assert.Equal($"redis://{SharedServers.Redis}/{stream}", l.Source));
        Assert.Equal("{\"auction\": 12, \"price\": ", letters[0].Record);
        Assert.Contains("Auction", letters[1].Reason, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("the entry has no field 'data'", letters[2].Reason);
        Assert.Contains("null", letters[3].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_BuffersOfChangingSizeAfterReadsAhead_LoseAndRepeatNothing()
    {
        // A full reply sends the next XREAD before it is decoded (for as many entries as that read had room for); a later read
        // with a smaller buffer must not take that reply whole (entries beyond its buffer would be lost).
        var stream = SharedServers.UniqueName("bids");
        await using var connection = await RedisTestData.ConnectAsync(SharedServers.Redis);
        var bids = RedisTestData.Bids(3000);
        await RedisTestData.AppendAsync(connection.GetDatabase(), stream, bids);
        var deadLetters = new RecordingDeadLetters();
        await using var source = new RedisStreamSource<Bid>(SharedServers.Redis, stream, RedisTestData.BidJson, new() { StopAtEnd = true, BatchSize = 500 });
        await source.OpenAsync(SourceDriving.Context(deadLetters), null, CancellationToken.None);

        var events = new List<Bid>();
        int[] sizes = [250, 100, 37, 1000, 1, 499, 2048];
        for (int i = 0; ; i++)
        {
            var buffer = new Bid[sizes[i % sizes.Length]];
            var read = await source.ReadAsync(buffer, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(20));
            Assert.True(read.Count <= Math.Min(buffer.Length, 500), $"read {i}: {read.Count} events into a buffer of {buffer.Length}");
            events.AddRange(buffer.AsSpan(0, read.Count));
            if (read.IsCompleted)
            {
                break;
            }
        }

        Assert.Equal(bids, events);
        Assert.Empty(deadLetters.Letters);
    }

    [Fact]
    public async Task OpenAsync_PositionOfAnotherKind_ThrowsNamingTheSource()
    {
        await using var source = new RedisStreamSource<Bid>(SharedServers.Redis, "s", RedisTestData.BidJson);

        var error = await Assert.ThrowsAsync<ArgumentException>(async () => await source.OpenAsync(SourceDriving.Context(), [1, 2, 3], CancellationToken.None));

        Assert.Contains("redis://", error.Message, StringComparison.Ordinal);
        Assert.Equal("position", error.ParamName);
    }
}
