using LinqStream.Connectors.Tests.Nats;
using LinqStream.Connectors.Tests.Redis;
using LinqStream.Connectors.Tests.Servers;
using LinqStream.Testing.Io;
using LinqStream.Testing.Nexmark;
using NATS.Client.JetStream;

namespace LinqStream.Connectors.Tests.Jobs;

[Trait("Category", "Slow")] // Slow (fast suite skips it): needs real redis-server / nats-server processes
public sealed class NatsJobTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("linqstream-nats-job-").FullName;

    [Fact]
    public async Task Job_StoppedMidStreamAndRestored_WritesEveryResultOnce()
    {
        var (input, output) = (SharedServers.UniqueName("bids"), SharedServers.UniqueName("counts"));
        var bids = RedisTestData.Bids(12_000);
        await NatsTestData.PublishAsync(SharedServers.Nats, input, bids);
        var store = new DirectoryCheckpointStore(Path.Combine(_directory, "checkpoints"));

        long? restoredFrom = null;
        foreach (int stopAfter in new[] { 60, 250, -1 })
        {
            using var stop = new CancellationTokenSource();
            var sink = new StoppingSink<WindowCount>(new NatsJetStreamSink<WindowCount>(SharedServers.Nats, output, WindowQuery.Json, new() { ChunkSize = 64 }), stopAfter, stop);
            var source = new NatsJetStreamSource<Bid>(SharedServers.Nats, input, RedisTestData.BidJson, new() { StopAtEnd = true });
            await using var job = WindowQuery.Over(QStream.From(source, b => b.DateTime, name: "bids")).ToJob(sink, new JobOptions { Checkpoints = store, CheckpointEveryEvents = 1500 });
            Assert.Equal(DeliveryGuarantee.ExactlyOnce, job.Guarantee);
            try
            {
                restoredFrom = (await job.RunAsync(stop.Token)).RestoredFrom;
                Assert.Equal(-1, stopAfter);
            }
            catch (OperationCanceledException) when (stopAfter >= 0)
            {
            }
        }

        var expected = await WindowQuery.ReferenceAsync(bids);
        var written = await ReadOutputAsync(output);
        Assert.True(expected.Count > 100);
        Assert.NotNull(restoredFrom);
        Assert.Equal(expected, written.Select(o => o.Result));
        Assert.Equal(Enumerable.Range(1, expected.Count).Select(i => $"{output}-{i}"), written.Select(o => o.Id));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static async Task<List<(string? Id, WindowCount Result)>> ReadOutputAsync(string subject)
    {
        await using var connection = NatsTestData.Connect(SharedServers.Nats);
        var js = new NatsJSContext(connection);
        var consumer = await js.CreateOrderedConsumerAsync(subject);
        var result = new List<(string?, WindowCount)>();
        await foreach (var message in consumer.FetchNoWaitAsync<byte[]>(new NatsJSFetchOpts { MaxMsgs = 100_000 }))
        {
            string? id = message.Headers is { } headers && headers.TryGetValue("Nats-Msg-Id", out var value) ? value.ToString() : null;
            result.Add((id, WindowQuery.Json.Deserialize(message.Data)));
        }

        return result;
    }
}
