using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using LinqStream.Testing.Io;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Orleans.Tests.Tasks;

/// <summary>A result of <see cref="ProjectedJob"/>'s queries: per auction and 10 s window.</summary>
public sealed record AuctionStats(long Start, long Auction, int Bids, long MaxPrice, long ChannelChars);

/// <summary>
/// The job of the projection tests (issue #17, the projection below the exchange): random bids (gaps longer than a window, so empty
/// windows; runs of equal times; neighbours swapped within the reorder bound; huge auction ids) in 0 (one stream) or more partitions,
/// and one of two queries over 10 s windows per auction: <c>members</c> reads the auction, the price and the channel (so only those
/// cross silos), <c>whole</c> hands each bid to a method (so whole bids cross). Both give the same numbers, which LINQ to objects
/// computes over the whole input (<see cref="Reference"/>).
/// </summary>
public static class ProjectedJob
{
    public const string Name = "projected-spread";

    [SuppressMessage("Trimming", "IL2026", Justification = "Tests run untrimmed.")]
    [SuppressMessage("AOT", "IL3050", Justification = "Tests run with the JIT.")]
    public static EventSerializer<AuctionStats> Json { get; } = EventSerializer<AuctionStats>.Json();

    public static JobSubmission Submission(string output, string query, int count, int seed, int partitions, int parallelism, bool project = true) => new()
    {
        Definition = Name,
        Parameters = new()
        {
            ["output"] = output,
            ["query"] = query,
            ["count"] = count.ToString(CultureInfo.InvariantCulture),
            ["seed"] = seed.ToString(CultureInfo.InvariantCulture),
            ["partitions"] = partitions.ToString(CultureInfo.InvariantCulture),
        },
        CheckpointEveryEvents = 2_000,
        CheckpointInterval = TimeSpan.FromMilliseconds(250),
        Parallelism = parallelism,
        ProjectExchange = project,
    };

    public static ClusterJobRun Create(ClusterJobContext context)
    {
        var bids = Bids(int.Parse(context.Parameter("count"), CultureInfo.InvariantCulture), int.Parse(context.Parameter("seed"), CultureInfo.InvariantCulture));
        var query = Query(bids, int.Parse(context.Parameter("partitions"), CultureInfo.InvariantCulture), context.Parameter("query"));
        return context.Run(query, new RedisStreamSink<AuctionStats>(context.Redis, context.Parameter("output"), Json, new RedisStreamSinkOptions { Fence = context.Fence, ChunkSize = 64 }));
    }

    /// <summary>Counts, the maximum price and the channels' characters per auction in 10 s windows, over one stream or <paramref name="partitions"/>.</summary>
    public static IQStream<AuctionStats> Query(Bid[] bids, int partitions, string query)
    {
        var ingress = IngressPolicy.Reorder(TimeSpan.FromSeconds(1));
        EventSource<Bid>[] sources = partitions <= 0
            ? [new ArrayEventSource<Bid>(bids, "memory://projected-bids")]
            : [.. Enumerable.Range(0, partitions).Select(k => new ArrayEventSource<Bid>([.. bids.Where((_, i) => i % partitions == k)], $"memory://projected-bids-{k}"))];
        var input = partitions <= 0 ? QStream.From(sources[0], b => b.DateTime, ingress) : QStream.From(sources, b => b.DateTime, ingress);
        var windows = input.TumblingWindow(TimeSpan.FromSeconds(10));
        return query == "whole"
            ? from b in windows
              group b by b.Auction into g
              select new AuctionStats(g.Window.StartTicks, g.Key, g.Count(b => Keep(b)), g.Max(b => b.Price), g.Sum(b => (long)b.Channel.Length))
            : from b in windows
              group b by b.Auction into g
              select new AuctionStats(g.Window.StartTicks, g.Key, g.Count(), g.Max(b => b.Price), g.Sum(b => (long)b.Channel.Length));
    }

    /// <summary>True for every bid with a URL (all of them), but a method the analysis cannot see into: whole bids cross.</summary>
    public static bool Keep(Bid bid) => bid.Url.Length > 0;

    /// <summary>What LINQ to objects computes over the whole input, ordered by window and auction.</summary>
    public static List<AuctionStats> Reference(Bid[] bids)
    {
        long size = TimeSpan.FromSeconds(10).Ticks;
        return [.. bids
            .GroupBy(b => (Start: b.DateTime.Ticks - (b.DateTime.Ticks % size), b.Auction))
            .Select(g => new AuctionStats(g.Key.Start, g.Key.Auction, g.Count(), g.Max(b => b.Price), g.Sum(b => (long)b.Channel.Length)))
            .OrderBy(s => s.Start).ThenBy(s => s.Auction)];
    }

    /// <summary>Results in <see cref="Reference"/>'s order (by window, then auction).</summary>
    public static List<AuctionStats> Ordered(IEnumerable<AuctionStats> results) => [.. results.OrderBy(s => s.Start).ThenBy(s => s.Auction)];

    /// <summary>Serializes results as the sink writes them.</summary>
    public static List<string> Serialize(IEnumerable<AuctionStats> results)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        var lines = new List<string>();
        foreach (var result in results)
        {
            buffer.ResetWrittenCount();
            Json.Serialize(result, buffer);
            lines.Add(System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan));
        }

        return lines;
    }

    /// <summary>
    /// Bids at random times with gaps of more than a window (empty windows), runs of equal times (ties), neighbours swapped within half
    /// the reorder bound (out of order, none late), auctions from a small set and huge ones (long.MaxValue, long.MinValue, ...).
    /// </summary>
    public static Bid[] Bids(int count, int seed)
    {
        var random = new Random(seed);
        long[] huge = [long.MaxValue, long.MinValue, long.MaxValue - 1, long.MinValue + 1, 1L << 62];
        var time = new DateTime(2026, 12, 5, 0, 0, 0, DateTimeKind.Utc);
        var bids = new Bid[count];
        for (int i = 0; i < count; i++)
        {
            int step = random.Next(200);
            time = time.AddMilliseconds(step < 2 ? 25_000 : step < 60 ? 0 : random.Next(1, 40));
            bids[i] = new Bid
            {
                Auction = random.Next(10) == 0 ? huge[random.Next(huge.Length)] : random.Next(1_000, 1_060),
                Bidder = random.Next(500),
                Price = random.Next(100, 1_000_000),
                Channel = random.Next(3) == 0 ? "channel-" + random.Next(100) : "Google",
                Url = "https://example.com/item/" + random.Next(1_000),
                DateTime = time,
            };
        }

        for (int i = 1; i < count; i++)
        {
            if (random.Next(4) == 0 && (bids[i].DateTime - bids[i - 1].DateTime) < TimeSpan.FromMilliseconds(500))
            {
                (bids[i - 1], bids[i]) = (bids[i], bids[i - 1]);
            }
        }

        return bids;
    }
}
