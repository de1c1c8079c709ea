using System.Text.Json;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Cli.Tests.Docs;

/// <summary>The example of docs/checkpoints.md, compiled and run twice: the second run restores and writes the same file.</summary>
public sealed class CheckpointsDocExamples : IDisposable
{
    private readonly string _directory = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "linqstream-docs-ckpt-" + Guid.NewGuid().ToString("N"))).FullName;

    public sealed record AuctionCount(long Auction, int Bids, DateTimeOffset End);

    [Fact]
    public async Task CheckpointedJob_RunsAndRestores()
    {
        string inputPath = Path.Combine(_directory, "bids.jsonl");
        string outputPath = Path.Combine(_directory, "counts.jsonl");
        string deadLetterPath = Path.Combine(_directory, "dead.jsonl");
        string checkpointDirectory = Path.Combine(_directory, "checkpoints");
        var bids = new NexmarkGenerator(new NexmarkConfig { FirstEventRate = 1_000 }).Bids(20_000);
        await File.WriteAllLinesAsync(inputPath, bids.Select(b => JsonSerializer.Serialize(b)).Append("{ not json"));

        var outputs = new List<byte[]>();
        for (int run = 0; run < 2; run++)
        {
            using var cts = new CancellationTokenSource();
            var cancellationToken = cts.Token;
            if (run == 0)
            {
                cts.CancelAfter(TimeSpan.FromMilliseconds(50));
            }

            var store = new DirectoryCheckpointStore(checkpointDirectory) { Retain = 3 };
            var counts =
                from b in QStream.From(new JsonLinesFileSource<Bid>(inputPath), b => b.DateTime, IngressPolicy.Reorder(TimeSpan.FromSeconds(5)))
                    .TumblingWindow(TimeSpan.FromSeconds(10))
                group b by b.Auction into g
                select new AuctionCount(g.Key, g.Count(), g.Window.End);

            await using var job = counts.ToJob(new JsonLinesFileSink<AuctionCount>(outputPath), new JobOptions
            {
                Checkpoints = store,
                CheckpointEveryEvents = 100_000,
                CheckpointInterval = TimeSpan.FromSeconds(30),
                DeadLetters = new JsonLinesFileSink<DeadLetter>(deadLetterPath),
            });
            Console.WriteLine($"{job.Guarantee}: {job.GuaranteeReason}");
            try
            {
                JobResult result = await job.RunAsync(cancellationToken);   // restores from the store's newest valid checkpoint, if any
                Assert.Equal(1, result.DeadLetters);
            }
            catch (OperationCanceledException) when (run == 0)
            {
                // The first run may be stopped before it ends; the second goes on from its checkpoint, if it took one.
            }

            Assert.Equal(DeliveryGuarantee.ExactlyOnce, job.Guarantee);
            outputs.Add(await File.ReadAllBytesAsync(outputPath));
        }

        Assert.Equal(outputs[1], await File.ReadAllBytesAsync(outputPath));
        var lines = (await File.ReadAllLinesAsync(outputPath)).Select(l => JsonSerializer.Deserialize<AuctionCount>(l, JsonSerializerOptions.Web)!).ToList();
        Assert.Equal(bids.Length, lines.Sum(l => l.Bids));
        var letter = JsonSerializer.Deserialize<DeadLetter>(Assert.Single(await File.ReadAllLinesAsync(deadLetterPath)), JsonSerializerOptions.Web)!;
        Assert.Equal($"line {bids.Length + 1} (byte {new FileInfo(inputPath).Length - "{ not json\n".Length})", letter.Position);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
