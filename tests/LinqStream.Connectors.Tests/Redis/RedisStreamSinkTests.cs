using LinqStream.Connectors.Tests.Servers;
using LinqStream.Testing.Nexmark;
using StackExchange.Redis;

namespace LinqStream.Connectors.Tests.Redis;

[Trait("Category", "Slow")] // Slow (fast suite skips it): needs real redis-server / nats-server processes
public sealed class RedisStreamSinkTests
{
    private static readonly string[] s_deadLetterFields = ["source", "position", "reason", "record"];

    [Fact]
    public async Task WriteAsync_Results_AppendsEntriesWithSequenceIds()
    {
        var stream = SharedServers.UniqueName("out");
        var bids = RedisTestData.Bids(2500);
        await using (var sink = new RedisStreamSink<Bid>(SharedServers.Redis, stream, RedisTestData.BidJson, new() { ChunkSize = 1000 }))
        {
            await sink.OpenAsync(null, CancellationToken.None);
            await sink.WriteAsync(bids, CancellationToken.None);
            await sink.CompleteAsync(CancellationToken.None);
        }

        await using var connection = await RedisTestData.ConnectAsync(SharedServers.Redis);
        var written = await RedisTestData.ReadAllAsync(connection.GetDatabase(), stream);
        Assert.Equal(bids, written.Select(w => w.Bid));
        Assert.Equal(Enumerable.Range(1, 2500).Select(i => $"0-{i}"), written.Select(w => w.Id));
    }

    [Fact]
    public async Task OpenAsync_RestoredAfterACrash_SkipsWhatTheCrashedRunWrote_AndLosesNothing()
    {
        var stream = SharedServers.UniqueName("out");
        var bids = RedisTestData.Bids(200);
        byte[] committed;
        await using (var crashed = new RedisStreamSink<Bid>(SharedServers.Redis, stream, RedisTestData.BidJson, new() { ChunkSize = 7 }))
        {
            await crashed.OpenAsync(null, CancellationToken.None);
            await crashed.WriteAsync(bids.AsMemory(0, 60), CancellationToken.None);
            committed = await crashed.PrepareCommitAsync(1, CancellationToken.None);
            await crashed.WriteAsync(bids.AsMemory(60, 90), CancellationToken.None); // 150 written, 60 committed; then the process dies
            await crashed.PrepareCommitAsync(2, CancellationToken.None);             // flushed, but checkpoint 2 never became durable
        }

        await using (var restored = new RedisStreamSink<Bid>(SharedServers.Redis, stream, RedisTestData.BidJson, new() { ChunkSize = 7 }))
        {
            await restored.OpenAsync(committed, CancellationToken.None);
            await restored.WriteAsync(bids.AsMemory(60), CancellationToken.None); // the replay produces results 61.. again
            await restored.CompleteAsync(CancellationToken.None);
            Assert.Equal(200, restored.Sequence);
        }

        await using var connection = await RedisTestData.ConnectAsync(SharedServers.Redis);
        var written = await RedisTestData.ReadAllAsync(connection.GetDatabase(), stream);
        Assert.Equal(bids, written.Select(w => w.Bid));
        Assert.Equal(Enumerable.Range(1, 200).Select(i => $"0-{i}"), written.Select(w => w.Id));
    }

    [Fact]
    public async Task OpenAsync_StreamWithForeignEntries_ThrowsNamingTheEntry()
    {
        var stream = SharedServers.UniqueName("out");
        await using var connection = await RedisTestData.ConnectAsync(SharedServers.Redis);
        var id = await connection.GetDatabase().StreamAddAsync(stream, "data", "{}");
        await using var sink = new RedisStreamSink<Bid>(SharedServers.Redis, stream, RedisTestData.BidJson);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await sink.OpenAsync(null, CancellationToken.None));

        Assert.Contains($"holds entry {id}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenAsync_StreamShorterThanTheCheckpoint_ThrowsLostOutput()
    {
        var stream = SharedServers.UniqueName("out");
        byte[] committed;
        await using (var sink = new RedisStreamSink<Bid>(SharedServers.Redis, stream, RedisTestData.BidJson))
        {
            await sink.OpenAsync(null, CancellationToken.None);
            await sink.WriteAsync(RedisTestData.Bids(10), CancellationToken.None);
            committed = await sink.PrepareCommitAsync(1, CancellationToken.None);
        }

        await using var connection = await RedisTestData.ConnectAsync(SharedServers.Redis);
        await connection.GetDatabase().KeyDeleteAsync(stream);
        await using var restored = new RedisStreamSink<Bid>(SharedServers.Redis, stream, RedisTestData.BidJson);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await restored.OpenAsync(committed, CancellationToken.None));

        Assert.Contains("committed 10 entries", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeadLetterSink_Write_AppendsSourcePositionReasonAndRecord()
    {
        var stream = SharedServers.UniqueName("dead");
        using (var sink = new RedisDeadLetterSink(SharedServers.Redis, stream))
        {
            sink.Write(DeadLetter.Create("redis://x/bids", "entry 5-0", "bad JSON", "{oops"));
        }

        await using var connection = await RedisTestData.ConnectAsync(SharedServers.Redis);
        var entries = await connection.GetDatabase().StreamRangeAsync(stream);
        var entry = Assert.Single(entries);
        Assert.Equal(["redis://x/bids", "entry 5-0", "bad JSON", "{oops"], s_deadLetterFields.Select(f => (string)entry[f]!));
    }
}
