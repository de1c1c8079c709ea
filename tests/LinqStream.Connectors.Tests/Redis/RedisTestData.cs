using System.Text.Json;
using LinqStream.Testing.Nexmark;
using StackExchange.Redis;

namespace LinqStream.Connectors.Tests.Redis;

internal static class RedisTestData
{
    public static EventSerializer<Bid> BidJson { get; } = EventSerializer<Bid>.Json(NexmarkJsonContext.Default.Bid);

    public static Bid[] Bids(int count, long first = 0) => new NexmarkGenerator(new NexmarkConfig()).Bids(count, first);

    public static async Task<ConnectionMultiplexer> ConnectAsync(string configuration) => await ConnectionMultiplexer.ConnectAsync(configuration);

    /// <summary>Appends bids as JSON in the <c>data</c> field, with server-chosen ids, in one pipelined batch.</summary>
    public static async Task AppendAsync(IDatabase database, string stream, IEnumerable<Bid> bids)
    {
        var tasks = new List<Task>();
        foreach (var bid in bids)
        {
            tasks.Add(database.StreamAddAsync(stream, "data", JsonSerializer.SerializeToUtf8Bytes(bid, NexmarkJsonContext.Default.Bid)));
        }

        await Task.WhenAll(tasks);
    }

    public static async Task<List<(string Id, Bid Bid)>> ReadAllAsync(IDatabase database, string stream)
    {
        var entries = await database.StreamRangeAsync(stream);
        return [.. entries.Select(e => ((string)e.Id!, JsonSerializer.Deserialize((byte[])e["data"]!, NexmarkJsonContext.Default.Bid)!))];
    }
}
