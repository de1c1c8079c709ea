using System.Text;
using System.Text.Json;
using LinqStream.Conformance.Tests.Infrastructure;
using LinqStream.Testing.Io;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Conformance.Tests.Checkpoints;

/// <summary>JSON-lines files as a replayable source and a committing sink: a crashed job's output file ends up byte for byte as an uninterrupted run's.</summary>
public sealed class JsonLinesFileTests : IDisposable
{
    private static readonly TimeSpan Disorder = TimeSpan.FromMilliseconds(400);
    private readonly string _directory = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "linqstream-jsonl-" + Guid.NewGuid().ToString("N"))).FullName;

    private static IQStream<WindowCount> Query(EventSource<Bid> bids) =>
        from b in QStream.From(bids, b => b.DateTime, IngressPolicy.Reorder(Disorder)).WithOptions(new QueryOptions { BatchSize = 128 }).TumblingWindow(TimeSpan.FromSeconds(1))
        group b by b.Auction into g
        select new WindowCount(g.Window.End, g.Key, g.Count(), g.Max(b => b.Price));

    [Fact]
    public async Task FileSource_ReadsEveryLine_AsTheArrayWould()
    {
        var bids = NexmarkData.Get(5_000, Disorder).Bids;
        string input = WriteLines("bids.jsonl", bids);
        var fromFile = await Query(new JsonLinesFileSource<Bid>(input)).ToListAsync();
        var fromArray = await Query(new ArrayEventSource<Bid>(bids, input)).ToListAsync();
        Assert.NotEmpty(fromFile);
        Assert.Equal(fromArray, fromFile);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public async Task CrashedJob_WithFileSourceAndFileSink_WritesTheSameBytes(int parallelism)
    {
        var bids = NexmarkData.Get(6_000, Disorder).Bids;
        string input = WriteLines("bids.jsonl", bids);
        string reference = Path.Combine(_directory, "reference.jsonl");
        await using (var job = Query(new JsonLinesFileSource<Bid>(input)).ToJob(new JsonLinesFileSink<WindowCount>(reference)))
        {
            await job.RunAsync();
        }

        string output = Path.Combine(_directory, "out.jsonl");
        var store = new DirectoryCheckpointStore(Path.Combine(_directory, "checkpoints"));
        foreach (int stopAfter in new[] { 30, 120, 250, -1 })
        {
            using var cts = new CancellationTokenSource();
            var sink = new StoppingSink<WindowCount>(new JsonLinesFileSink<WindowCount>(output), stopAfter, cts);
            await using var job = Query(new JsonLinesFileSource<Bid>(input)).ToJob(sink, new JobOptions { Checkpoints = store, CheckpointEveryEvents = 700, Parallelism = parallelism });
            Assert.Equal(DeliveryGuarantee.ExactlyOnce, job.Guarantee);
            try
            {
                await job.RunAsync(cts.Token);
                Assert.Equal(-1, stopAfter);
            }
            catch (OperationCanceledException) when (stopAfter >= 0)
            {
            }
        }

        byte[] expected = await File.ReadAllBytesAsync(reference);
        Assert.True(expected.Length > 1000);
        Assert.Equal(expected, await File.ReadAllBytesAsync(output));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string WriteLines<T>(string name, IEnumerable<T> items)
    {
        string path = Path.Combine(_directory, name);
        var text = new StringBuilder();
        foreach (var item in items)
        {
            text.Append(JsonSerializer.Serialize(item)).Append('\n');
        }

        File.WriteAllText(path, text.ToString());
        return path;
    }

    public sealed record WindowCount(DateTimeOffset End, long Auction, int Bids, long MaxPrice);
}
