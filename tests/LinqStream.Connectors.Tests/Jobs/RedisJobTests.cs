using System.Text.Json;
using LinqStream.Connectors.Tests.Redis;
using LinqStream.Connectors.Tests.Servers;
using LinqStream.Testing.Io;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Connectors.Tests.Jobs;

[Trait("Category", "Slow")] // Slow (fast suite skips it): needs real redis-server / nats-server processes
public sealed class RedisJobTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("linqstream-redis-job-").FullName;

    [Fact]
    public async Task Job_FromStreamToStream_WritesWhatTheInMemoryQueryGives()
    {
        var (input, output) = (SharedServers.UniqueName("bids"), SharedServers.UniqueName("counts"));
        var bids = RedisTestData.Bids(8000);
        await using var connection = await RedisTestData.ConnectAsync(SharedServers.Redis);
        await RedisTestData.AppendAsync(connection.GetDatabase(), input, bids);

        await using (var job = WindowQuery.Over(QStream.From(Source(input), b => b.DateTime)).ToJob(Sink(output)))
        {
            var result = await job.RunAsync();
            Assert.Equal(DeliveryGuarantee.ExactlyOnce, job.Guarantee);
            Assert.Equal(result.Results, (await ReadOutputAsync(output)).Count);
        }

        var expected = await WindowQuery.ReferenceAsync(bids);
        Assert.True(expected.Count > 100);
        Assert.Equal(expected, (await ReadOutputAsync(output)).Select(o => o.Result));
    }

    [Fact]
    public async Task Job_StoppedMidStreamAndRestored_WritesEveryResultOnce()
    {
        var (input, output) = (SharedServers.UniqueName("bids"), SharedServers.UniqueName("counts"));
        var bids = RedisTestData.Bids(12_000);
        await using var connection = await RedisTestData.ConnectAsync(SharedServers.Redis);
        await RedisTestData.AppendAsync(connection.GetDatabase(), input, bids);
        var store = new DirectoryCheckpointStore(Path.Combine(_directory, "checkpoints"));

        var restoredFrom = new List<long?>();
        foreach (int stopAfter in new[] { 60, 250, -1 })
        {
            using var stop = new CancellationTokenSource();
            var sink = new StoppingSink<WindowCount>(Sink(output), stopAfter, stop);
            await using var job = WindowQuery.Over(QStream.From(Source(input), b => b.DateTime, name: "bids")).ToJob(sink, new JobOptions { Checkpoints = store, CheckpointEveryEvents = 1500 });
            try
            {
                var result = await job.RunAsync(stop.Token);
                restoredFrom.Add(result.RestoredFrom);
                Assert.Equal(-1, stopAfter);
            }
            catch (OperationCanceledException) when (stopAfter >= 0)
            {
            }
        }

        var expected = await WindowQuery.ReferenceAsync(bids);
        var written = await ReadOutputAsync(output);
        Assert.NotNull(Assert.Single(restoredFrom));
        Assert.Equal(expected, written.Select(o => o.Result));
        Assert.Equal(Enumerable.Range(1, expected.Count).Select(i => $"0-{i}"), written.Select(o => o.Id));
    }

    [Fact]
    public async Task Job_MalformedEntries_GoToADeadLetterStreamWithIdAndReason()
    {
        var (input, output, dead) = (SharedServers.UniqueName("bids"), SharedServers.UniqueName("counts"), SharedServers.UniqueName("dead"));
        var bids = RedisTestData.Bids(3000);
        await using var connection = await RedisTestData.ConnectAsync(SharedServers.Redis);
        var database = connection.GetDatabase();
        await RedisTestData.AppendAsync(database, input, bids[..1500]);
        var bad = await database.StreamAddAsync(input, "data", "{\"auction\": 1, \"dateTime\": \"not a date\"}");
        await RedisTestData.AppendAsync(database, input, bids[1500..]);

        var options = new JobOptions { DeadLetters = new RedisStreamSink<DeadLetter>(SharedServers.Redis, dead, DeadLetterJson) };
        await using (var job = WindowQuery.Over(QStream.From(Source(input), b => b.DateTime)).ToJob(Sink(output), options))
        {
            var result = await job.RunAsync();
            Assert.Equal(1, result.DeadLetters);
        }

        Assert.Equal(await WindowQuery.ReferenceAsync(bids), (await ReadOutputAsync(output)).Select(o => o.Result));
        var letter = Assert.Single(await database.StreamRangeAsync(dead));
        var deadLetter = JsonSerializer.Deserialize<DeadLetter>((byte[])letter["data"]!, JsonSerializerOptions.Web)!;
        Assert.Equal($"redis://{SharedServers.Redis}/{input}", deadLetter.Source);
        Assert.Equal($"entry {bad}", deadLetter.Position);
        Assert.Contains("DateTime", deadLetter.Reason, StringComparison.OrdinalIgnoreCase);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

#pragma warning disable IL2026, IL3050 // Tests run untrimmed, with the JIT.
    private static EventSerializer<DeadLetter> DeadLetterJson { get; } = EventSerializer<DeadLetter>.Json();
#pragma warning restore IL2026, IL3050

    private static RedisStreamSource<Bid> Source(string stream) =>
        new(SharedServers.Redis, stream, RedisTestData.BidJson, new() { StopAtEnd = true });

    private static RedisStreamSink<WindowCount> Sink(string stream) =>
        new(SharedServers.Redis, stream, WindowQuery.Json, new() { ChunkSize = 64 });

    private static async Task<List<(string Id, WindowCount Result)>> ReadOutputAsync(string stream)
    {
        await using var connection = await RedisTestData.ConnectAsync(SharedServers.Redis);
        var entries = await connection.GetDatabase().StreamRangeAsync(stream);
        return [.. entries.Select(e => ((string)e.Id!, WindowQuery.Json.Deserialize((byte[])e["data"]!)))];
    }
}
