using System.Text.Json;
using LinqStream.Testing.Io;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Cli.Tests.Docs;

/// <summary>
/// The example of docs/checkpoints.md, compiled and run: once uninterrupted as the reference, then stopped after it took
/// checkpoints and run again, which must restore from the newest checkpoint and leave the reference's file byte for byte.
/// </summary>
public sealed class CheckpointsDocExamples : IDisposable
{
    private readonly string _directory = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "linqstream-docs-ckpt-" + Guid.NewGuid().ToString("N"))).FullName;

    public sealed record AuctionCount(long Auction, int Bids, DateTimeOffset End);

    [Fact]
    public async Task CheckpointedJob_RunsAndRestores()
    {
        string inputPath = Path.Combine(_directory, "bids.jsonl");
        var bids = new NexmarkGenerator(new NexmarkConfig { FirstEventRate = 1_000 }).Bids(20_000);
        await File.WriteAllLinesAsync(inputPath, bids.Select(b => JsonSerializer.Serialize(b)).Append("{ not json"));

        // The reference: the same job with no checkpoint store, never stopped.
        string referencePath = Path.Combine(_directory, "reference.jsonl");
        JobResult reference = await RunAsync(inputPath, referencePath, Path.Combine(_directory, "reference-dead.jsonl"), checkpointDirectory: null, stopAfter: -1);
        Assert.Equal(0, reference.Checkpoints);
        Assert.Null(reference.RestoredFrom);
        byte[] expected = await File.ReadAllBytesAsync(referencePath);
        Assert.True(reference.Results > 100, $"the reference run wrote only {reference.Results} results");

        // The first run is stopped by its sink halfway through the results; by then it has taken checkpoints every 2,000 events.
        string outputPath = Path.Combine(_directory, "counts.jsonl");
        string deadLetterPath = Path.Combine(_directory, "dead.jsonl");
        string checkpointDirectory = Path.Combine(_directory, "checkpoints");
        int stopAfter = (int)(reference.Results / 2);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => RunAsync(inputPath, outputPath, deadLetterPath, checkpointDirectory, stopAfter));
        Assert.NotEmpty(new DirectoryCheckpointStore(checkpointDirectory).List());
        Assert.True(new FileInfo(outputPath).Length < expected.Length, "the stopped run wrote everything: it did not stop mid-way");

        // The second run restores from the newest checkpoint, cuts the file back to what that checkpoint committed, and goes on.
        JobResult resumed = await RunAsync(inputPath, outputPath, deadLetterPath, checkpointDirectory, stopAfter: -1);
        Assert.NotNull(resumed.RestoredFrom);
        Assert.True(resumed.Results < reference.Results, $"the resumed run wrote {resumed.Results} results, as many as a run from the start");
        Assert.Equal(expected, await File.ReadAllBytesAsync(outputPath));

        var lines = (await File.ReadAllLinesAsync(outputPath)).Select(l => JsonSerializer.Deserialize<AuctionCount>(l, JsonSerializerOptions.Web)!).ToList();
        Assert.Equal(bids.Length, lines.Sum(l => l.Bids));
        var letter = JsonSerializer.Deserialize<DeadLetter>(Assert.Single(await File.ReadAllLinesAsync(deadLetterPath)), JsonSerializerOptions.Web)!;
        Assert.Equal($"line {bids.Length + 1} (byte {new FileInfo(inputPath).Length - "{ not json\n".Length})", letter.Position);
    }

    private static async Task<JobResult> RunAsync(string inputPath, string outputPath, string deadLetterPath, string? checkpointDirectory, int stopAfter)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var cancellationToken = cts.Token;

        // From here to RunAsync, the code of docs/checkpoints.md (with checkpoints every 2,000 events instead of 100,000).
        var store = checkpointDirectory is null ? null : new DirectoryCheckpointStore(checkpointDirectory) { Retain = 3 };
        var counts =
            from b in QStream.From(new JsonLinesFileSource<Bid>(inputPath), b => b.DateTime, IngressPolicy.Reorder(TimeSpan.FromSeconds(5)))
                .TumblingWindow(TimeSpan.FromSeconds(10))
            group b by b.Auction into g
            select new AuctionCount(g.Key, g.Count(), g.Window.End);

        await using var job = counts.ToJob(new StoppingSink<AuctionCount>(new JsonLinesFileSink<AuctionCount>(outputPath), stopAfter, cts), new JobOptions
        {
            Checkpoints = store,
            CheckpointEveryEvents = 2_000,
            CheckpointInterval = TimeSpan.FromSeconds(30),
            DeadLetters = new JsonLinesFileSink<DeadLetter>(deadLetterPath),
        });
        Console.WriteLine($"{job.Guarantee}: {job.GuaranteeReason}");
        JobResult result = await job.RunAsync(cancellationToken);   // restores from the store's newest valid checkpoint, if any
        Assert.Equal(1, result.DeadLetters);
        Assert.Equal(DeliveryGuarantee.ExactlyOnce, job.Guarantee);
        return result;
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
