using System.Text.Json;
using LinqStream.Connectors.Nats;
using LinqStream.Connectors.Tests.Redis;
using LinqStream.Connectors.Tests.Servers;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Connectors.Tests.Nats;

[Trait("Category", "Slow")] // Slow (fast suite skips it): needs real redis-server / nats-server processes
public sealed class NatsJetStreamSourceTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ReadAsync_SubjectWithMessages_ReturnsEveryEventInOrderInBatches(bool throughClient)
    {
        var subject = SharedServers.UniqueName("bids");
        var bids = RedisTestData.Bids(3000);
        await NatsTestData.PublishAsync(SharedServers.Nats, subject, bids);

        await using var source = new NatsJetStreamSource<Bid>(SharedServers.Nats, subject, RedisTestData.BidJson, new() { StopAtEnd = true }) { ReadThroughClient = throughClient };
        await source.OpenAsync(SourceDriving.Context(), null, CancellationToken.None);
        var (events, reads) = await SourceDriving.ReadAsync(source, int.MaxValue, bufferSize: 1000);

        Assert.Equal(bids, events);
        Assert.Equal(3, reads);
        Assert.Equal(3000UL, source.LastSequence);
    }

    [Fact]
    public async Task ReadAsync_OwnReader_EveryEventInOrder_AndTheRuntimesSocketEngineNeverWatchesItsSocket()
    {
        // Session 16: the own reader connects, sends and receives on the reading thread, so no arrival of the server's bytes wakes a
        // thread-pool worker. The source's tally (the connector benchmark's diagnostic) looks at each reader's socket as it drops it.
        var subject = SharedServers.UniqueName("bids");
        var bids = RedisTestData.Bids(20_000);
        await NatsTestData.PublishAsync(SharedServers.Nats, subject, bids);
        var tally = new NatsWorkItemTally();
        List<Bid> events;
        await using (var source = new NatsJetStreamSource<Bid>(SharedServers.Nats, subject, RedisTestData.BidJson, new() { StopAtEnd = true, BatchSize = 1000 }) { WorkItems = tally })
        {
            await source.OpenAsync(SourceDriving.Context(), null, CancellationToken.None);
            (events, _) = await SourceDriving.ReadAsync(source, int.MaxValue, bufferSize: 700);
            Assert.True(source.OwnReaderReceives > 0);
            Assert.Equal(20_000UL, source.LastSequence);
        }

        Assert.Equal(bids, events);
        Assert.True(tally.Readers >= 1, "the source dropped its reader when it closed");
        Assert.Equal(0, tally.ReadersWatched);
    }

    [Fact]
    public async Task OpenAsync_AtPosition_ResumesJustAfterTheLastSequenceRead()
    {
        var subject = SharedServers.UniqueName("bids");
        var bids = RedisTestData.Bids(300);
        await NatsTestData.PublishAsync(SharedServers.Nats, subject, bids);

        byte[] position;
        await using (var first = new NatsJetStreamSource<Bid>(SharedServers.Nats, subject, RedisTestData.BidJson))
        {
            await first.OpenAsync(SourceDriving.Context(), null, CancellationToken.None);
            var (firstEvents, _) = await SourceDriving.ReadAsync(first, 120, bufferSize: 120);
            Assert.Equal(bids[..120], firstEvents);
            position = first.GetPosition();
        }

        await using var second = new NatsJetStreamSource<Bid>(SharedServers.Nats, subject, RedisTestData.BidJson, new() { StopAtEnd = true });
        await second.OpenAsync(SourceDriving.Context(), position, CancellationToken.None);
        var (rest, _) = await SourceDriving.ReadAsync(second, int.MaxValue);

        Assert.Equal(bids[120..], rest);
    }

    [Fact]
    public async Task ReadAsync_NothingNew_ReturnsIdle_ThenSeesNewMessages()
    {
        var subject = SharedServers.UniqueName("bids");
        await using var source = new NatsJetStreamSource<Bid>(SharedServers.Nats, subject, RedisTestData.BidJson, new() { PollInterval = TimeSpan.FromMilliseconds(5) });
        await source.OpenAsync(SourceDriving.Context(), null, CancellationToken.None);
        var buffer = new Bid[16];

        var idle = await source.ReadAsync(buffer, CancellationToken.None);
        await NatsTestData.PublishAsync(SharedServers.Nats, subject, RedisTestData.Bids(3));
        var (events, _) = await SourceDriving.ReadAsync(source, 3);

        Assert.Equal(SourceRead.Idle, idle);
        Assert.Equal(RedisTestData.Bids(3), events);
        Assert.Equal(ConnectionState.Connected, source.Status.State);
    }

    [Fact]
    public async Task ReadAsync_BuffersSmallerThanTheRequestSentAhead_EveryEventOnceInOrder()
    {
        // The own reader sends the next pull request (for a batch of 1,000) before a read returns; reads with 700 and 300 free
        // places take the reply in parts, leaving the rest in the receive buffer: no message dropped, so no new consumer either.
        var subject = SharedServers.UniqueName("bids");
        var bids = RedisTestData.Bids(5000);
        await NatsTestData.PublishAsync(SharedServers.Nats, subject, bids);
        await using var source = new NatsJetStreamSource<Bid>(SharedServers.Nats, subject, RedisTestData.BidJson, new() { StopAtEnd = true, BatchSize = 1000 }) { ReadThroughClient = false };
        await source.OpenAsync(SourceDriving.Context(), null, CancellationToken.None);
        var statuses = new List<ConnectionStatus>();
        source.StatusChanged += (_, status) => statuses.Add(status);

        var events = new List<Bid>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        for (int read = 0; ; read++)
        {
            var buffer = new Bid[read % 2 == 0 ? 1000 : 300];
            var result = await source.ReadAsync(buffer, timeout.Token);
            events.AddRange(buffer.AsSpan(0, result.Count));
            if (result.IsCompleted)
            {
                break;
            }
        }

        Assert.Equal(bids, events);
        Assert.Equal(5000UL, source.LastSequence);
        Assert.DoesNotContain(statuses, s => s.State == ConnectionState.Reconnecting);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ReadAsync_MalformedMessages_GoToDeadLettersWithSubjectSequenceAndReason(bool throughClient)
    {
        var subject = SharedServers.UniqueName("bids");
        var bids = RedisTestData.Bids(2);
        var sequences = await NatsTestData.PublishAsync(SharedServers.Nats, subject, [
            NatsTestData.Utf8("{\"auction\": 1, \"price\": "),
            NatsTestData.Utf8("[1, 2]"),
        ]);
        sequences.AddRange(await NatsTestData.PublishAsync(SharedServers.Nats, subject, bids));
        var deadLetters = new RecordingDeadLetters();

        await using var source = new NatsJetStreamSource<Bid>(SharedServers.Nats, subject, RedisTestData.BidJson, new() { StopAtEnd = true }) { ReadThroughClient = throughClient };
        await source.OpenAsync(SourceDriving.Context(deadLetters), null, CancellationToken.None);
        var (events, _) = await SourceDriving.ReadAsync(source, int.MaxValue);

        Assert.Equal(bids, events);
        var letters = deadLetters.Letters;
        Assert.Equal([$"sequence {sequences[0]}", $"sequence {sequences[1]}"], letters.Select(l => l.Position));
        Assert.All(letters, l => Assert.Equal($"{SharedServers.Nats}/{subject}", l.Source));
        Assert.Equal("[1, 2]", letters[1].Record);
        Assert.False(string.IsNullOrWhiteSpace(letters[0].Reason));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task ReadAsync_OwnReaderRandomBatchesBuffersAndBadMessages_EventsLettersAndPositionsAsPublished_AcrossRestores(int seed)
    {
        // Pull requests larger and smaller than the read's buffer, empty and malformed messages at random places, and the source
        // made again at its position after a few reads: every bid once and in order, every bad message once as a dead letter naming
        // its sequence, and after each read the position is the sequence of the last message handed over (event or dead letter).
        var random = new Random(seed);
        var subject = SharedServers.UniqueName("bids");
        var bids = RedisTestData.Bids(1500);
        var payloads = new List<byte[]>();
        var bad = new List<int>();
        for (int next = 0; next < bids.Length;)
        {
            switch (random.Next(40))
            {
                case 0:
                    bad.Add(payloads.Count);
                    payloads.Add([]);
                    break;
                case 1:
                    bad.Add(payloads.Count);
                    payloads.Add(NatsTestData.Utf8("{\"auction\": "));
                    break;
                default:
                    payloads.Add(JsonSerializer.SerializeToUtf8Bytes(bids[next++], NexmarkJsonContext.Default.Bid));
                    break;
            }
        }

        var sequences = await NatsTestData.PublishAsync(SharedServers.Nats, subject, payloads);
        var deadLetters = new RecordingDeadLetters();
        var events = new List<Bid>();
        byte[]? position = null;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        for (bool completed = false; !completed;)
        {
            var options = new NatsJetStreamSourceOptions { StopAtEnd = true, BatchSize = random.Next(1, 700) };
            await using var source = new NatsJetStreamSource<Bid>(SharedServers.Nats, subject, RedisTestData.BidJson, options) { ReadThroughClient = false };
            await source.OpenAsync(SourceDriving.Context(deadLetters), position, timeout.Token);
            for (int reads = random.Next(1, 8); reads > 0 && !completed; reads--)
            {
                var buffer = new Bid[random.Next(1, 400)];
                var result = await source.ReadAsync(buffer, timeout.Token);
                events.AddRange(buffer.AsSpan(0, result.Count));
                int handed = events.Count + deadLetters.Letters.Count;
                Assert.Equal(handed == 0 ? 0 : sequences[handed - 1], source.LastSequence);
                completed = result.IsCompleted;
            }

            position = source.GetPosition();
        }

        Assert.Equal(bids, events);
        Assert.Equal(bad.Select(i => $"sequence {sequences[i]}"), deadLetters.Letters.Select(l => l.Position));
    }
}
