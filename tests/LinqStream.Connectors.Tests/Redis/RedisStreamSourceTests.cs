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

    [Theory]
    [InlineData(false, 1)]
    [InlineData(true, 2)]
    [InlineData(false, 3)]
    [InlineData(false, 4)]
    public async Task ReadAsync_RandomEntriesWithMalformedOnesRestartedAtRandomPositions_EachGoodOneOnceEachBadOneDeadLetteredOnce(bool throughClient, int seed)
    {
        // Random bids, with extra fields around the data field, and malformed entries anywhere (broken JSON, a wrong type, JSON
        // null, no data field); read with random buffer and batch sizes, the source stopped after a random number of reads and a
        // new one opened at its position, as a restored job does. Reference: the good bids in order, and the bad ids in order.
        var random = new Random(seed);
        var stream = SharedServers.UniqueName("bids");
        await using var connection = await RedisTestData.ConnectAsync(SharedServers.Redis);
        var database = connection.GetDatabase();
        var bids = RedisTestData.Bids(2500);
        var good = new List<Bid>();
        var bad = new List<(string Id, string Reason)>();
        var adds = new List<(Task<StackExchange.Redis.RedisValue> Id, Bid? Bid, string? Reason)>();
        string[] malformed = ["{\"auction\": 12, \"price\": ", "{\"auction\": \"twelve\"}", "null", "[1,2]", "{\"price\": 1e999999}"];
        foreach (var bid in bids)
        {
            if (random.Next(10) == 0)
            {
                int kind = random.Next(malformed.Length + 1);
                var entry = kind < malformed.Length
                    ? new StackExchange.Redis.NameValueEntry[] { new("data", malformed[kind]) }
                    : [new("other", "{}")];
                adds.Add((database.StreamAddAsync(stream, entry), null, kind < malformed.Length ? null : "the entry has no field 'data'"));
            }

            var json = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(bid, NexmarkJsonContext.Default.Bid);
            var fields = random.Next(4) switch
            {
                0 => new StackExchange.Redis.NameValueEntry[] { new("data", json) },
                1 => [new("before", "x"), new("data", json)],
                2 => [new("data", json), new("after", "{\"auction\": \"no\"}")],
                _ => [new("a", ""), new("data", json), new("b", "\r\n")],
            };
            adds.Add((database.StreamAddAsync(stream, fields), bid, null));
        }

        foreach (var (id, bid, reason) in adds)
        {
            var added = (string)(await id)!;
            if (bid is not null)
            {
                good.Add(bid);
            }
            else
            {
                bad.Add((added, reason ?? ""));
            }
        }

        var events = new List<Bid>();
        var deadLetters = new RecordingDeadLetters();
        byte[]? position = null;
        int restarts = 0;
        bool completed = false;
        while (!completed)
        {
            var options = new RedisStreamSourceOptions { StopAtEnd = true, BatchSize = random.Next(1, 500) };
            await using var source = new RedisStreamSource<Bid>(SharedServers.Redis, stream, RedisTestData.BidJson, options) { ReadThroughClient = throughClient };
            await source.OpenAsync(SourceDriving.Context(deadLetters), position, CancellationToken.None);
            for (int reads = random.Next(1, 4); reads > 0 && !completed; reads--)
            {
                var buffer = new Bid[random.Next(1, 900)];
                var read = await source.ReadAsync(buffer, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(20));
                events.AddRange(buffer.AsSpan(0, read.Count));
                completed = read.IsCompleted;
            }

            position = source.GetPosition();
            restarts++;
        }

        Assert.True(restarts > 1, $"{restarts} runs");
        Assert.Equal(good, events);
        var letters = deadLetters.Letters;
        Assert.Equal(bad.Select(b => "entry " + b.Id), letters.Select(l => l.Position));
        Assert.All(letters, l => Assert.Equal($"redis://{SharedServers.Redis}/{stream}", l.Source));
        Assert.All(letters.Zip(bad), pair => Assert.True(pair.Second.Reason.Length == 0 || pair.First.Reason == pair.Second.Reason, pair.First.Reason));
        Assert.All(letters, l => Assert.False(string.IsNullOrWhiteSpace(l.Reason)));
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
