using System.Globalization;
using System.Text;
using LinqStream.Conformance.Tests.Infrastructure;
using LinqStream.Testing.Io;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Conformance.Tests.Checkpoints;

/// <summary>CSV files as a replayable source: binding by column name, malformed rows to dead letters, restore by byte offset after the header.</summary>
public sealed class CsvFileSourceTests : IDisposable
{
    private static readonly TimeSpan Disorder = TimeSpan.FromMilliseconds(400);
    private readonly string _directory = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "linqstream-csv-" + Guid.NewGuid().ToString("N"))).FullName;

    public sealed record Trade(string Symbol, decimal Price, int? Quantity, DateTimeOffset Time);

    private sealed class Letters : IDeadLetterSink
    {
        public List<DeadLetter> Items { get; } = [];

        public void Write(DeadLetter letter) => Items.Add(letter);
    }

    private static IQStream<string> Query(EventSource<Bid> bids) =>
        from b in QStream.From(bids, b => b.DateTime, IngressPolicy.Reorder(Disorder)).WithOptions(new QueryOptions { BatchSize = 100 }).TumblingWindow(TimeSpan.FromSeconds(1))
        group b by b.Auction into g
        select $"{g.Window.End:O} {g.Key} {g.Count()} {g.Max(b => b.Price)}";

    [Fact]
    public async Task Bids_FromCsv_GiveTheSameResultsAsFromTheArray()
    {
        var bids = NexmarkData.Get(5_000, Disorder).Bids;
        string path = WriteBids("bids.csv", bids);
        var fromCsv = await Query(new CsvFileSource<Bid>(path)).ToListAsync();
        Assert.NotEmpty(fromCsv);
        Assert.Equal(await Query(new ArrayEventSource<Bid>(bids, path)).ToListAsync(), fromCsv);
    }

    [Fact]
    public async Task MalformedRows_GoToDeadLetters_WithLineAndReason_AndTheRestIsRead()
    {
        string path = Path.Combine(_directory, "trades.csv");
        var lines = new List<byte[]>
        {
            Line("symbol,price,quantity,time"),
            Line("ABC,10.5,3,2026-01-01T00:00:01Z"),
            Line("\"A,\"\"B\"\"\",11,,2026-01-01T00:00:02Z"),       // quoted comma and quotes, empty nullable
            Line("ABC,not-a-price,1,2026-01-01T00:00:03Z"),        // 4: bad decimal
            Line("ABC,12,1"),                                     // 5: too few fields
            Line("\"ABC,13,1,2026-01-01T00:00:04Z"),              // 6: quote not closed
            Concat(Encoding.UTF8.GetBytes("AB"), [0xFF, 0xFE], Encoding.UTF8.GetBytes(",14,1,2026-01-01T00:00:05Z\n")), // 7: invalid UTF-8
            Line(""),
            Line("XYZ,15,2,2026-01-01T00:00:06Z\r"),
        };
        await File.WriteAllBytesAsync(path, [.. lines.SelectMany(l => l), .. Encoding.UTF8.GetBytes("LAST,16,9,2026-01-01T00:00:07Z")]);
        var letters = new Letters();
        var trades = await QStream.From(new CsvFileSource<Trade>(path), t => t.Time).WithOptions(new QueryOptions { DeadLetters = letters }).ToListAsync();

        Assert.Equal(
            [
                new Trade("ABC", 10.5m, 3, new DateTimeOffset(2026, 1, 1, 0, 0, 1, TimeSpan.Zero)),
                new Trade("A,\"B\"", 11m, null, new DateTimeOffset(2026, 1, 1, 0, 0, 2, TimeSpan.Zero)),
                new Trade("XYZ", 15m, 2, new DateTimeOffset(2026, 1, 1, 0, 0, 6, TimeSpan.Zero)),
                new Trade("LAST", 16m, 9, new DateTimeOffset(2026, 1, 1, 0, 0, 7, TimeSpan.Zero)),
            ],
            trades);
        Assert.Equal(["line 4", "line 5", "line 6", "line 7"], letters.Items.Select(l => l.Position.Split(" (")[0]));
        Assert.Contains("column 'price'", letters.Items[0].Reason, StringComparison.Ordinal);
        Assert.Contains("3 fields", letters.Items[1].Reason, StringComparison.Ordinal);
        Assert.Contains("not closed", letters.Items[2].Reason, StringComparison.Ordinal);
        Assert.Contains("DecoderFallbackException", letters.Items[3].Reason, StringComparison.Ordinal);
        long offsetOfLine4 = lines.Take(3).Sum(l => l.Length);
        Assert.Equal($"line 4 (byte {offsetOfLine4})", letters.Items[0].Position);
        Assert.All(letters.Items, l => Assert.Equal(path, l.Source));
    }

    [Fact]
    public async Task WithoutDeadLetters_TheFirstMalformedRowStopsTheQuery_NamingIt()
    {
        string path = Path.Combine(_directory, "bad.csv");
        await File.WriteAllTextAsync(path, "symbol,price,quantity,time\nABC,1,1,2026-01-01T00:00:01Z\nABC,x,1,2026-01-01T00:00:02Z\n");
        var error = await Assert.ThrowsAsync<QueryExecutionException>(() => QStream.From(new CsvFileSource<Trade>(path), t => t.Time).ToListAsync());
        Assert.Contains("line 3", error.Message, StringComparison.Ordinal);
        Assert.Contains("column 'price'", error.Message, StringComparison.Ordinal);
        Assert.Contains("DeadLetters", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CrashedJob_OverCsv_RestoresAfterTheHeader_AndWritesTheSameOutput()
    {
        var bids = NexmarkData.Get(6_000, Disorder).Bids;
        string path = WriteBids("bids.csv", bids);
        var expected = await Query(new CsvFileSource<Bid>(path)).ToListAsync();
        var store = new DirectoryCheckpointStore(Path.Combine(_directory, "checkpoints"));
        var sink = new MemorySink<string>();
        foreach (int stopAfter in new[] { 25, 100, -1 })
        {
            using var cts = new CancellationTokenSource();
            sink.AfterWrite = n =>
            {
                if (stopAfter >= 0 && n >= stopAfter)
                {
                    cts.Cancel();
                }
            };
            await using var job = Query(new CsvFileSource<Bid>(path)).ToJob(sink, new JobOptions { Checkpoints = store, CheckpointEveryEvents = 600 });
            try
            {
                var result = await job.RunAsync(cts.Token);
                Assert.NotNull(result.RestoredFrom);
            }
            catch (OperationCanceledException) when (stopAfter >= 0)
            {
            }
        }

        Assert.Equal(expected, sink.Items);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];

    private static byte[] Line(string text) => Encoding.UTF8.GetBytes(text + "\n");

    private string WriteBids(string name, IEnumerable<Bid> bids)
    {
        string path = Path.Combine(_directory, name);
        var text = new StringBuilder("auction,bidder,price,channel,url,dateTime,extra\n");
        foreach (var b in bids)
        {
            text.Append(CultureInfo.InvariantCulture, $"{b.Auction},{b.Bidder},{b.Price},\"{b.Channel.Replace("\"", "\"\"", StringComparison.Ordinal)}\",{b.Url},{b.DateTime:O},\"{b.Extra}\"\n");
        }

        File.WriteAllText(path, text.ToString());
        return path;
    }
}
