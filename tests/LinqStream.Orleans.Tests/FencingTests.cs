using LinqStream.Connectors.Tests.Servers;
using StackExchange.Redis;

namespace LinqStream.Orleans.Tests;

[Trait("Category", "Slow")] // Slow (fast suite skips it): needs a real redis-server.
public sealed class FencingTests
{
    private static readonly string s_redis = SharedServers.Redis;

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Trimming", "IL2026", Justification = "Tests run untrimmed.")]
    [System.Diagnostics.CodeAnalysis.SuppressMessage("AOT", "IL3050", Justification = "Tests run with the JIT.")]
    private static EventSerializer<string> Text { get; } = EventSerializer<string>.Json();

    [Fact]
    public async Task RedisStreamSink_OlderEpochAfterTakeOver_RefusesTheChunkAndTheStreamKeepsTheNewerWrites()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(s_redis);
        var db = redis.GetDatabase();
        var fenceKey = SharedServers.UniqueName("fence");
        var stream = SharedServers.UniqueName("fenced-out");
        var old = await RedisFence.TakeAsync(db, fenceKey);
        await using var zombie = new RedisStreamSink<string>(s_redis, stream, Text, new RedisStreamSinkOptions { Fence = old });
        await zombie.OpenAsync(null, default);
        await zombie.WriteAsync(Strings("a", "b"), default);

        var current = await RedisFence.TakeAsync(db, fenceKey);
        await using var successor = new RedisStreamSink<string>(s_redis, stream, Text, new RedisStreamSinkOptions { Fence = current });
        await successor.OpenAsync(await zombie.PrepareCommitAsync(1, default), default);
        await successor.WriteAsync(Strings("c"), default);

        var refused = await Assert.ThrowsAsync<FencedWriteException>(() => zombie.WriteAsync(Strings("z"), default).AsTask());
        Assert.Equal(old.Epoch, refused.Epoch);
        Assert.Equal(current.Epoch, refused.CurrentEpoch);
        Assert.Contains(fenceKey, refused.Message, StringComparison.Ordinal);
        var entries = await db.StreamRangeAsync(stream);
        Assert.Equal(["\"a\"", "\"b\"", "\"c\""], entries.Select(e => e["data"].ToString()));
    }

    [Fact]
    public async Task RedisCheckpointStore_OlderEpochAfterTakeOver_RefusesTheCheckpoint()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(s_redis);
        var db = redis.GetDatabase();
        var fenceKey = SharedServers.UniqueName("fence");
        var prefix = SharedServers.UniqueName("fenced-store");
        var old = await RedisFence.TakeAsync(db, fenceKey);
        using var zombie = new RedisCheckpointStore(s_redis, prefix, old);
        await zombie.SaveAsync(1, new byte[] { 1 }, default);

        var current = await RedisFence.TakeAsync(db, fenceKey);
        using var successor = new RedisCheckpointStore(s_redis, prefix, current);
        await successor.SaveAsync(2, new byte[] { 2 }, default);

        var refused = await Assert.ThrowsAsync<FencedWriteException>(() => zombie.SaveAsync(3, new byte[] { 3 }, default));
        Assert.Equal(old.Epoch, refused.Epoch);
        Assert.Equal(current.Epoch, refused.CurrentEpoch);
        Assert.Equal([2L, 1L], successor.List());
        Assert.Equal([2], await successor.LoadAsync(2, default));
    }

    [Fact]
    public async Task RedisCheckpointStore_MoreThanRetain_KeepsTheNewestAndDeletesTheOlderKeys()
    {
        var prefix = SharedServers.UniqueName("store-retain");
        using var store = new RedisCheckpointStore(s_redis, prefix) { Retain = 2 };
        for (long id = 1; id <= 5; id++)
        {
            await store.SaveAsync(id, new[] { (byte)id }, default);
        }

        Assert.Equal([5L, 4L], store.List());
        Assert.Equal([4], await store.LoadAsync(4, default));
        await Assert.ThrowsAsync<FileNotFoundException>(() => store.LoadAsync(3, default));
    }

    private static ReadOnlyMemory<string> Strings(params string[] values) => values;
}
