using System.Diagnostics.CodeAnalysis;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Orleans.Tests;

public sealed record HotItem(long Auction, int Bids, DateTimeOffset WindowStart, DateTimeOffset WindowEnd);

/// <summary>NEXMark q5's shape (bids per auction in a 10 s window every 2 s) over deterministic, partly out-of-order bids.</summary>
public static class HotItems
{
    [SuppressMessage("Trimming", "IL2026", Justification = "Tests run untrimmed.")]
    [SuppressMessage("AOT", "IL3050", Justification = "Tests run with the JIT.")]
    public static EventSerializer<HotItem> Json { get; } = EventSerializer<HotItem>.Json();

    public static IQStream<HotItem> Over(IQStream<Bid> bids) =>
        from b in bids.HoppingWindow(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(2))
        group b by b.Auction into g
        select new HotItem(g.Key, g.Count(), g.Window.Start, g.Window.End);

    public static IngressPolicy Ingress { get; } = IngressPolicy.Reorder(TimeSpan.FromSeconds(1));

    /// <summary>The generator's bids with neighbours swapped at random (seeded), so the input is out of order within the reorder bound.</summary>
    public static Bid[] Bids(int count, int seed)
    {
        var bids = new NexmarkGenerator().Bids(count);
        var random = new Random(seed);
        for (int i = 1; i < bids.Length; i++)
        {
            if (random.Next(4) == 0)
            {
                (bids[i - 1], bids[i]) = (bids[i], bids[i - 1]);
            }
        }

        return bids;
    }

    /// <summary>What one process computes over the whole input, serialized as the sink writes it.</summary>
    public static Task<List<string>> ReferenceAsync(Bid[] bids) => SerializeAsync(Over(QStream.From(bids, b => b.DateTime, Ingress)));

    /// <summary>Runs <paramref name="query"/> in this process and serializes its results as the sink writes them.</summary>
    public static async Task<List<string>> SerializeAsync(IQStream<HotItem> query)
    {
        var results = await query.ToListAsync();
        var lines = new List<string>(results.Count);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        foreach (var result in results)
        {
            buffer.ResetWrittenCount();
            Json.Serialize(result, buffer);
            lines.Add(System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan));
        }

        return lines;
    }
}
