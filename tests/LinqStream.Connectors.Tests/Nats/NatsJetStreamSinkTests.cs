using System.Text;
using LinqStream.Connectors.Tests.Redis;
using LinqStream.Connectors.Tests.Servers;
using LinqStream.Testing.Nexmark;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace LinqStream.Connectors.Tests.Nats;

[Trait("Category", "Slow")] // Slow (fast suite skips it): needs real redis-server / nats-server processes
public sealed class NatsJetStreamSinkTests
{
    [Fact]
    public async Task WriteAsync_Results_PublishesMessagesWithSequenceIds()
    {
        var subject = SharedServers.UniqueName("out");
        var bids = RedisTestData.Bids(1200);
        await using (var sink = new NatsJetStreamSink<Bid>(SharedServers.Nats, subject, RedisTestData.BidJson, new() { ChunkSize = 500 }))
        {
            await sink.OpenAsync(null, CancellationToken.None);
            await sink.WriteAsync(bids, CancellationToken.None);
            await sink.CompleteAsync(CancellationToken.None);
        }

        var written = await NatsTestData.ReadAllAsync(SharedServers.Nats, subject);
        Assert.Equal(bids, written.Select(w => w.Bid));
        Assert.Equal(Enumerable.Range(1, 1200).Select(i => $"{subject}-{i}"), written.Select(w => w.Id));
    }

    [Fact]
    public async Task OpenAsync_RestoredAfterACrash_SkipsWhatTheCrashedRunWrote_AndLosesNothing()
    {
        var subject = SharedServers.UniqueName("out");
        var bids = RedisTestData.Bids(200);
        byte[] committed;
        await using (var crashed = new NatsJetStreamSink<Bid>(SharedServers.Nats, subject, RedisTestData.BidJson, new() { ChunkSize = 7 }))
        {
            await crashed.OpenAsync(null, CancellationToken.None);
            await crashed.WriteAsync(bids.AsMemory(0, 60), CancellationToken.None);
            committed = await crashed.PrepareCommitAsync(1, CancellationToken.None);
            await crashed.WriteAsync(bids.AsMemory(60, 90), CancellationToken.None);
            await crashed.PrepareCommitAsync(2, CancellationToken.None);
        }

        await using (var restored = new NatsJetStreamSink<Bid>(SharedServers.Nats, subject, RedisTestData.BidJson, new() { ChunkSize = 7 }))
        {
            await restored.OpenAsync(committed, CancellationToken.None);
            await restored.WriteAsync(bids.AsMemory(60), CancellationToken.None);
            await restored.CompleteAsync(CancellationToken.None);
        }

        var written = await NatsTestData.ReadAllAsync(SharedServers.Nats, subject);
        Assert.Equal(bids, written.Select(w => w.Bid));
        Assert.Equal(Enumerable.Range(1, 200).Select(i => $"{subject}-{i}"), written.Select(w => w.Id));
    }

    [Fact]
    public async Task OpenAsync_SubjectWithForeignMessages_ThrowsNamingTheMessage()
    {
        var subject = SharedServers.UniqueName("out");
        await NatsTestData.PublishAsync(SharedServers.Nats, subject, [NatsTestData.Utf8("{}")]);
        await using var sink = new NatsJetStreamSink<Bid>(SharedServers.Nats, subject, RedisTestData.BidJson);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await sink.OpenAsync(null, CancellationToken.None));

        Assert.Contains("holds message 1 with id ''", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeadLetterSink_Write_PublishesTheRecordWithSourcePositionAndReasonHeaders()
    {
        var subject = SharedServers.UniqueName("dead");
        await using (var sink = new NatsDeadLetterSink(SharedServers.Nats, subject))
        {
            sink.Write(DeadLetter.Create("nats://x/bids", "sequence 5", "bad\nJSON", "{oops"));
        }

        await using var connection = NatsTestData.Connect(SharedServers.Nats);
        var js = new NatsJSContext(connection);
        var stream = await js.GetStreamAsync(subject);
        var message = (await stream.GetAsync(new StreamMsgGetRequest { Seq = 1 })).Message;
        var headers = Encoding.UTF8.GetString(Convert.FromBase64String(message.Hdrs!));
        Assert.Equal("{oops", Encoding.UTF8.GetString(message.Data.Span));
        Assert.Contains("LinqStream-Source: nats://x/bids\r\n", headers, StringComparison.Ordinal);
        Assert.Contains("LinqStream-Position: sequence 5\r\n", headers, StringComparison.Ordinal);
        Assert.Contains("LinqStream-Reason: bad JSON\r\n", headers, StringComparison.Ordinal);
    }
}
