using LinqStream.Connectors.Tests.Redis;
using LinqStream.Connectors.Tests.Servers;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Connectors.Tests.Docs;

/// <summary>
/// The C# of docs/connectors.md and of the README's connector section, compiled and run against a live Redis
/// (tests/LinqStream.Cli.Tests/Docs/DocsCodeBlocksTests checks that every line of those blocks appears here).
/// </summary>
[Trait("Category", "Slow")] // Slow (fast suite skips it): needs real redis-server / nats-server processes
[Collection(nameof(ConnectorsDocExamples))]
public sealed class ConnectorsDocExamples : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("linqstream-docs-").FullName;
    private readonly string _previous = Environment.CurrentDirectory;

    public ConnectorsDocExamples()
    {
        // The examples keep checkpoints in "checkpoints", relative to the current directory.
        Environment.CurrentDirectory = _directory;
    }

    public sealed record AuctionCount(DateTimeOffset End, long Auction, int Bids);

    public sealed record Result(DateTimeOffset End, long Auction, int Bids);

    [Fact]
    public void ConnectorsPage_GapTolerantOptions_SkipInsteadOfTheDefaultFail()
    {
        var gapTolerant = new RedisStreamSourceOptions { OnGap = InputGapPolicy.Skip, StopAtEnd = true };

        // The behaviour itself is tested in Redis/RedisFaultTests (trimmed, deleted, recreated, skipped with a count).
        Assert.Equal(InputGapPolicy.Fail, RedisStreamSourceOptions.Default.OnGap);
        Assert.Equal(InputGapPolicy.Skip, gapTolerant.OnGap);
    }

    [Fact]
    public async Task ConnectorsPage_JobFromRedisToRedis_WritesWindowCounts_AndReportsStatus()
    {
        string redis = SharedServers.Redis;
        await FillBidsAsync(redis);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        var cancellationToken = stop.Token;
        var errors = new StringWriter();
        var console = Console.Error;
        Console.SetError(errors);
#pragma warning disable IL2026, IL3050 // The page shows the reflection-based serializer; tests run untrimmed.
        var json = EventSerializer<Bid>.Json(NexmarkJsonContext.Default.Bid);
        var bids = new RedisStreamSource<Bid>(redis, "bids", json);
        bids.StatusChanged += (_, status) => Console.Error.WriteLine(status);

        var counts =
            from b in QStream.From(bids, b => b.DateTime, IngressPolicy.Reorder(TimeSpan.FromSeconds(2)))
                             .TumblingWindow(TimeSpan.FromSeconds(10))
            group b by b.Auction into g
            select new AuctionCount(g.Window.End, g.Key, g.Count());

        await using var job = counts.ToJob(
            new RedisStreamSink<AuctionCount>(redis, "bid-counts", EventSerializer<AuctionCount>.Json()),
            new JobOptions
            {
                Checkpoints = new DirectoryCheckpointStore("checkpoints") { Retain = 3 },
                CheckpointInterval = TimeSpan.FromSeconds(10),
                DeadLetters = new RedisStreamSink<DeadLetter>(redis, "bids-dead", EventSerializer<DeadLetter>.Json()),
            });
#pragma warning restore IL2026, IL3050
        try
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            {
                await job.RunAsync(cancellationToken);   // restores from the newest valid checkpoint, if any
            });
        }
        finally
        {
            Console.SetError(console);
        }

        // A live source never ends, so only the windows the watermark passed (all but the last) were written.
        await using var connection = await RedisTestData.ConnectAsync(redis);
        var written = await connection.GetDatabase().StreamRangeAsync("bid-counts");
        Assert.NotEmpty(written);
        Assert.StartsWith($"redis://{redis}/bids: Connected at ", errors.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Readme_ConnectorSection_RunsAJobFromRedisToRedis()
    {
        string redis = SharedServers.Redis;
        await FillBidsAsync(redis);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        var cancellationToken = stop.Token;

#pragma warning disable IL2026, IL3050 // The README shows the reflection-based serializer; tests run untrimmed.
        var bids = new RedisStreamSource<Bid>(redis, "bids", EventSerializer<Bid>.Json(NexmarkJsonContext.Default.Bid));
        await using var job = Query(QStream.From(bids, b => b.DateTime))
            .ToJob(new RedisStreamSink<Result>(redis, "results", EventSerializer<Result>.Json()),
                   new JobOptions { Checkpoints = new DirectoryCheckpointStore("checkpoints") });
#pragma warning restore IL2026, IL3050
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await job.RunAsync(cancellationToken);
        });

        await using var connection = await RedisTestData.ConnectAsync(redis);
        Assert.NotEqual(0, await connection.GetDatabase().StreamLengthAsync("results"));
    }

    [Fact]
    public async Task ConnectorsPage_Partitions_WithIdleTimeout_GiveWindows()
    {
        string redis = SharedServers.Redis;
        var json = EventSerializer<Bid>.Json(NexmarkJsonContext.Default.Bid);
        var bids = new NexmarkGenerator(new NexmarkConfig { FirstEventRate = 10_000 }).Bids(4000);
        await using (var connection = await RedisTestData.ConnectAsync(redis))
        {
            for (int i = 0; i < 4; i++)
            {
                await connection.GetDatabase().KeyDeleteAsync($"bids-{i}");
                await RedisTestData.AppendAsync(connection.GetDatabase(), $"bids-{i}", bids.Where((_, n) => n % 4 == i));
            }
        }

        var partitions = Enumerable.Range(0, 4)
            .Select(i => new RedisStreamSource<Bid>(redis, $"bids-{i}", json))
            .ToArray();
        var all = QStream.From(partitions, b => b.DateTime, IngressPolicy.Drop, idleTimeout: TimeSpan.FromSeconds(5));

        // The partitions follow their streams for ever: take what the watermark closed within a few seconds.
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        var windows = new List<Result>();
        try
        {
            await foreach (var window in Query(all).ToAsyncEnumerable(stop.Token))
            {
                windows.Add(window);
            }
        }
        catch (OperationCanceledException)
        {
        }

        Assert.True(windows.Sum(w => w.Bids) > 3000, $"{windows.Sum(w => w.Bids)} bids in closed windows");
    }

    public void Dispose()
    {
        Environment.CurrentDirectory = _previous;
        Directory.Delete(_directory, recursive: true);
    }

    private static IQStream<Result> Query(IQStream<Bid> bids) =>
        from b in bids.TumblingWindow(TimeSpan.FromMilliseconds(10))
        group b by b.Auction into g
        select new Result(g.Window.End, g.Key, g.Count());

    /// <summary>Both examples read the stream "bids": fill it once per server, with bids over a minute of event time.</summary>
    private static async Task FillBidsAsync(string redis)
    {
        await using var connection = await RedisTestData.ConnectAsync(redis);
        var database = connection.GetDatabase();
        if (await database.KeyExistsAsync("bids"))
        {
            return;
        }

        var bids = new NexmarkGenerator(new NexmarkConfig { FirstEventRate = 100 }).Bids(6000);
        await RedisTestData.AppendAsync(database, "bids", bids);
    }
}
