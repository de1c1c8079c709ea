using System.Text.Json;
using LinqStream.Connectors.Tests.Redis;
using LinqStream.Connectors.Tests.Servers;

namespace LinqStream.Connectors.Tests.Cli;

/// <summary><c>linqstream produce</c> and <c>linqstream run --source</c> against live servers, as processes.</summary>
[Trait("Category", "Slow")] // Slow (fast suite skips it): needs real redis-server / nats-server processes
public sealed class CliSourceTests : IDisposable
{
    private const string HotItems = """
        from b in input.TumblingWindow(TimeSpan.FromSeconds(1))
        group b by b.Long("auction") into g
        select new { Auction = g.Key, Bids = g.Count(), g.Window.End }
        """;

    private readonly string _directory = Directory.CreateTempSubdirectory("linqstream-cli-").FullName;

    [Fact]
    public async Task ProduceThenRun_Redis_CountsEveryBidOnce()
    {
        string stream = SharedServers.UniqueName("bids");
        var produced = await CliProcess.RunAsync("produce", "--target", $"redis://{SharedServers.Redis}/{stream}", "--events", "20k", "--rate", "10000");
        Assert.True(produced.ExitCode == 0, produced.ToString());
        Assert.Contains("20,000 bids written", produced.Output, StringComparison.Ordinal);

        var results = await RunAsync($"redis://{SharedServers.Redis}/{stream}");

        Assert.Equal(20_000, results.Sum(r => r.GetProperty("Bids").GetInt32()));
    }

    [Fact]
    public async Task Produce_ThreePartitions_SplitTheBidsWithoutLossOrDuplicate()
    {
        string whole = SharedServers.UniqueName("bids");
        var all = await CliProcess.RunAsync("produce", "--target", $"redis://{SharedServers.Redis}/{whole}", "--events", "1000", "--quiet");
        Assert.True(all.ExitCode == 0, all.ToString());
        var parts = new List<string>();
        for (int k = 0; k < 3; k++)
        {
            string stream = SharedServers.UniqueName("bids");
            var produced = await CliProcess.RunAsync("produce", "--target", $"redis://{SharedServers.Redis}/{stream}", "--events", "1000", "--partition", $"{k}/3");
            Assert.True(produced.ExitCode == 0, produced.ToString());
            Assert.Contains($"{(k == 0 ? "334" : "333")} bids (partition {k}/3 of 1,000) written", produced.Output, StringComparison.Ordinal);
            parts.Add(stream);
        }

        await using var connection = await RedisTestData.ConnectAsync(SharedServers.Redis);
        var db = connection.GetDatabase();
        var expected = (await db.StreamRangeAsync(whole)).Select(e => e["data"].ToString()).ToList();
        var read = new List<string>[3];
        for (int k = 0; k < 3; k++)
        {
            read[k] = [.. (await db.StreamRangeAsync(parts[k])).Select(e => e["data"].ToString())];
        }

        // Record i of the whole load is in partition i mod 3, in order.
        var interleaved = Enumerable.Range(0, expected.Count).Select(i => read[i % 3][i / 3]).ToList();
        Assert.Equal(expected, interleaved);
        Assert.Equal(expected.Count, read.Sum(r => r.Count));
    }

    [Fact]
    public async Task Produce_PartitionOutOfRange_IsAUsageError()
    {
        var produced = await CliProcess.RunAsync("produce", "--target", $"redis://{SharedServers.Redis}/{SharedServers.UniqueName("bids")}", "--events", "10", "--partition", "3/3");
        Assert.Equal(2, produced.ExitCode);
        Assert.Contains("--partition must be K/N with 0 <= K < N", produced.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProduceThenRun_NatsWithTwoPartitions_CountsEveryBidOnce()
    {
        string first = SharedServers.UniqueName("bids"), second = SharedServers.UniqueName("bids");
        foreach (var subject in new[] { first, second })
        {
            var produced = await CliProcess.RunAsync("produce", "--target", $"{SharedServers.Nats}/{subject}", "--events", "5k", "--quiet");
            Assert.True(produced.ExitCode == 0, produced.ToString());
        }

        var results = await RunAsync($"{SharedServers.Nats}/{first}", $"{SharedServers.Nats}/{second}");

        Assert.Equal(10_000, results.Sum(r => r.GetProperty("Bids").GetInt32()));
    }

    [Fact]
    public async Task Run_MalformedMessage_IsReportedWithItsIdAndKeptInTheDeadLetterFile()
    {
        string stream = SharedServers.UniqueName("bids");
        await using var connection = await RedisTestData.ConnectAsync(SharedServers.Redis);
        await RedisTestData.AppendAsync(connection.GetDatabase(), stream, RedisTestData.Bids(100));
        var id = await connection.GetDatabase().StreamAddAsync(stream, "data", "{oops");
        await RedisTestData.AppendAsync(connection.GetDatabase(), stream, RedisTestData.Bids(100, 100));
        string dead = Path.Combine(_directory, "dead.jsonl");

        var result = await CliProcess.RunAsync("run", Script(), "--source", $"redis://{SharedServers.Redis}/{stream}", "--time", "dateTime", "--out", Path.Combine(_directory, "out.jsonl"), "--dead-letter", dead);
        var strict = await CliProcess.RunAsync("run", Script(), "--source", $"redis://{SharedServers.Redis}/{stream}", "--time", "dateTime", "--strict", "--quiet", "--out", Path.Combine(_directory, "out2.jsonl"));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"redis://{SharedServers.Redis}/{stream} entry {id}: invalid JSON", result.Error, StringComparison.Ordinal);
        var letter = JsonDocument.Parse(Assert.Single(File.ReadAllLines(dead))).RootElement;
        Assert.Equal($"entry {id}", letter.GetProperty("position").GetString());
        Assert.Equal("{oops", letter.GetProperty("text").GetString());
        Assert.Equal(4, strict.ExitCode);
        Assert.Contains("Stopped at the first malformed", strict.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://127.0.0.1/bids")]
    [InlineData("redis://127.0.0.1:6379")]
    public async Task Run_SourceThatIsNotAStreamUri_IsAUsageError(string uri)
    {
        var result = await CliProcess.RunAsync("run", Script(), "--source", uri);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--source: ", result.Error + result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_BothInputAndSource_IsAUsageError()
    {
        string input = Path.Combine(_directory, "in.jsonl");
        await File.WriteAllTextAsync(input, "{\"time\":\"2026-01-01T00:00:00Z\"}\n");

        var result = await CliProcess.RunAsync("run", Script(), "--input", input, "--source", "redis://127.0.0.1:6379/bids");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--input FILE or --source URI", result.Error + result.Output, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Script()
    {
        string path = Path.Combine(_directory, "hot.csx");
        File.WriteAllText(path, HotItems);
        return path;
    }

    private async Task<JsonElement[]> RunAsync(params string[] sources)
    {
        string output = Path.Combine(_directory, Guid.NewGuid().ToString("N") + ".jsonl");
        var args = new List<string> { "run", Script(), "--time", "dateTime", "--out", output, "--quiet" };
        foreach (var source in sources)
        {
            args.Add("--source");
            args.Add(source);
        }

        var result = await CliProcess.RunAsync([.. args]);
        Assert.True(result.ExitCode == 0, result.ToString());
        return [.. File.ReadAllLines(output).Select(l => JsonDocument.Parse(l).RootElement)];
    }
}
