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
}
