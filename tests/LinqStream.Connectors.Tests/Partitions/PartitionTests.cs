using LinqStream.Connectors.Tests.Jobs;
using LinqStream.Connectors.Tests.Redis;
using LinqStream.Connectors.Tests.Servers;
using LinqStream.Testing.Io;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Connectors.Tests.Partitions;

/// <summary>Several Redis streams as the partitions of one query: watermarks combined as the minimum, and idle partitions.</summary>
[Trait("Category", "Slow")] // Slow (fast suite skips it): needs real redis-server / nats-server processes
public sealed class PartitionTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("linqstream-partitions-").FullName;

    [Fact]
    public async Task From_PartitionsWithSkewedEventTime_GivesTheWindowsOfAllTheirEvents()
    {
        // Partition 2 starts where partition 1 ends, and 1 where 0 ends: read side by side, 2 runs far ahead in event time,
        // and only the minimum watermark keeps its windows from closing before 0's and 1's events arrived.
        var bids = RedisTestData.Bids(9000);
        var streams = await FillAsync(bids[..3000], bids[3000..6000], bids[6000..]);

        var results = await WindowQuery.Over(QStream.From(Sources(streams, stopAtEnd: true), b => b.DateTime)).ToListAsync();

        Assert.Equal(await WindowQuery.ReferenceAsync(bids), results);
    }

    [Fact]
    public async Task Job_OverPartitions_StoppedAndRestored_WritesEveryResultOnce()
    {
        var bids = RedisTestData.Bids(9000);
        var streams = await FillAsync(bids.Where((_, i) => i % 3 == 0).ToArray(), bids.Where((_, i) => i % 3 == 1).ToArray(), bids.Where((_, i) => i % 3 == 2).ToArray());
        var output = SharedServers.UniqueName("counts");
        var store = new DirectoryCheckpointStore(Path.Combine(_directory, "checkpoints"));

        long? restoredFrom = null;
        foreach (int stopAfter in new[] { 50, 200, -1 })
        {
            using var stop = new CancellationTokenSource();
            var sink = new StoppingSink<WindowCount>(new RedisStreamSink<WindowCount>(SharedServers.Redis, output, WindowQuery.Json), stopAfter, stop);
            var query = WindowQuery.Over(QStream.From(Sources(streams, stopAtEnd: true), b => b.DateTime, idleTimeout: TimeSpan.FromSeconds(5), name: "bids"));
            await using var job = query.ToJob(sink, new JobOptions { Checkpoints = store, CheckpointEveryEvents = 1000 });
            try
            {
                restoredFrom = (await job.RunAsync(stop.Token)).RestoredFrom;
                Assert.Equal(-1, stopAfter);
            }
            catch (OperationCanceledException) when (stopAfter >= 0)
            {
            }
        }

        await using var connection = await RedisTestData.ConnectAsync(SharedServers.Redis);
        var written = await connection.GetDatabase().StreamRangeAsync(output);
        Assert.NotNull(restoredFrom);
        Assert.Equal(await WindowQuery.ReferenceAsync(bids), written.Select(e => WindowQuery.Json.Deserialize((byte[])e["data"]!)));
    }

    [Fact]
    public async Task From_IdlePartitionWithTimeout_StopsHoldingTheWatermarkBack()
    {
        var (bids, quietUntil) = SlowBids();
        var streams = await FillAsync(bids[10..], bids[..10]);   // partition 1 has ten early bids, then nothing

        var results = await CollectAsync(QStream.From(Sources(streams, stopAtEnd: false), b => b.DateTime, idleTimeout: TimeSpan.FromMilliseconds(200)), TimeSpan.FromSeconds(10), r => r.End > quietUntil.AddMilliseconds(100));

        var reference = await WindowQuery.ReferenceAsync(bids);
        Assert.Contains(results, r => r.End > quietUntil.AddMilliseconds(100));
        Assert.All(results, r => Assert.Contains(r, reference));
    }

    [Fact]
    public async Task From_IdlePartitionWithoutTimeout_HoldsTheWatermarkBack()
    {
        var (bids, quietUntil) = SlowBids();
        var streams = await FillAsync(bids[10..], bids[..10]);

        var results = await CollectAsync(QStream.From(Sources(streams, stopAtEnd: false), b => b.DateTime), TimeSpan.FromSeconds(1.5), _ => false);

        Assert.All(results, r => Assert.True(r.End <= quietUntil.AddMilliseconds(2), $"window {r.End:O} closed although partition 1 is at {quietUntil:O}"));
    }

    [Fact]
    public void From_NoPartitions_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() => QStream.From(Array.Empty<EventSource<Bid>>(), b => b.DateTime));

        Assert.Equal("partitions", error.ParamName);
    }

    [Fact]
    public void From_IdleTimeoutNotPositive_Throws()
    {
        var source = new RedisStreamSource<Bid>(SharedServers.Redis, "x", RedisTestData.BidJson);

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => QStream.From([source], b => b.DateTime, idleTimeout: TimeSpan.Zero));

        Assert.Equal("idleTimeout", error.ParamName);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>Bids 100 µs apart (10,000 events a second), so 1 ms windows each hold a handful.</summary>
    private static (Bid[] Bids, DateTimeOffset QuietUntil) SlowBids()
    {
        var bids = new NexmarkGenerator(new NexmarkConfig { FirstEventRate = 10_000 }).Bids(3000);
        return (bids, new DateTimeOffset(bids[9].DateTime, TimeSpan.Zero));
    }

    private static async Task<string[]> FillAsync(params Bid[][] partitions)
    {
        await using var connection = await RedisTestData.ConnectAsync(SharedServers.Redis);
        var names = new string[partitions.Length];
        for (int i = 0; i < partitions.Length; i++)
        {
            names[i] = SharedServers.UniqueName("bids-" + i);
            await RedisTestData.AppendAsync(connection.GetDatabase(), names[i], partitions[i]);
        }

        return names;
    }

    private static RedisStreamSource<Bid>[] Sources(string[] streams, bool stopAtEnd) =>
        [.. streams.Select(s => new RedisStreamSource<Bid>(SharedServers.Redis, s, RedisTestData.BidJson, new() { StopAtEnd = stopAtEnd, BlockTime = TimeSpan.FromMilliseconds(10) }))];

    /// <summary>Runs the window query over a live input until <paramref name="enough"/> holds for a result or the time is up.</summary>
    private static async Task<List<WindowCount>> CollectAsync(IQStream<Bid> input, TimeSpan limit, Func<WindowCount, bool> enough)
    {
        using var stop = new CancellationTokenSource(limit);
        var results = new List<WindowCount>();
        try
        {
            await foreach (var result in WindowQuery.Over(input).ToAsyncEnumerable(stop.Token))
            {
                results.Add(result);
                if (enough(result))
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The time is up: the query is live and never ends by itself.
        }

        return results;
    }
}
