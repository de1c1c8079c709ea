using System.Reactive.Subjects;
using LinqStream.Conformance.Tests.Infrastructure;
using LinqStream.Testing.Io;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Conformance.Tests.Checkpoints;

/// <summary>The checkpoint file and store: damaged files are detected and skipped, foreign ones refused, retention honoured, guarantees reported.</summary>
public sealed class CheckpointFileTests : IDisposable
{
    private static readonly TimeSpan Disorder = TimeSpan.FromMilliseconds(400);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "linqstream-ckpt-" + Guid.NewGuid().ToString("N"));

    private static IQStream<string> Query(EventSource<Bid> bids) =>
        from b in QStream.From(bids, b => b.DateTime, IngressPolicy.Reorder(Disorder)).WithOptions(new QueryOptions { BatchSize = 50 }).TumblingWindow(TimeSpan.FromSeconds(1))
        group b by b.Auction into g
        select $"{g.Window.End:O} {g.Key} {g.Count()} {g.Max(b => b.Price)}";

    public static TheoryData<string> Damages() => ["truncate", "flip", "empty", "garbage"];

    [Theory]
    [MemberData(nameof(Damages))]
    public async Task DamagedNewestCheckpoint_IsDetected_AndThePreviousOneIsUsed(string damage)
    {
        var bids = NexmarkData.Get(6_000, Disorder).Bids;
        var expected = await Query(new ArrayEventSource<Bid>(bids, "bids")).ToListAsync();
        var store = new DirectoryCheckpointStore(_directory) { Retain = 3 };
        var sink = new MemorySink<string>();
        await using (var first = Query(new ArrayEventSource<Bid>(bids, "bids") { FailAt = 4_000, MaxRead = 100 }).ToJob(sink, new JobOptions { Checkpoints = store, CheckpointEveryEvents = 1_000 }))
        {
            await Assert.ThrowsAsync<QueryExecutionException>(() => first.RunAsync());
        }

        var ids = store.List();
        Assert.Equal(3, ids.Count);
        string newest = store.Describe(ids[0]);
        byte[] bytes = await File.ReadAllBytesAsync(newest);
        byte[] damaged = damage switch
        {
            "truncate" => bytes[..(bytes.Length / 2)],
            "flip" => Flip(bytes, bytes.Length / 3),
            "empty" => [],
            _ => [.. Enumerable.Range(0, 300).Select(i => (byte)(i * 31))],
        };
        await File.WriteAllBytesAsync(newest, damaged);

        await using var second = Query(new ArrayEventSource<Bid>(bids, "bids")).ToJob(sink, new JobOptions { Checkpoints = store });
        var result = await second.RunAsync();
        Assert.Equal(ids[1], result.RestoredFrom);
        var warning = Assert.Single(result.Warnings);
        Assert.Contains(Path.GetFileName(newest), warning, StringComparison.Ordinal);
        Assert.Contains("previous checkpoint", warning, StringComparison.Ordinal);
        Assert.Equal(expected, sink.Items);
    }

    [Fact]
    public async Task CheckpointOfAnotherQuery_IsRefused_WithAMessageThatSaysSo()
    {
        var bids = NexmarkData.Get(3_000, Disorder).Bids;
        using var checkpoint = new MemoryStream();
        var sink = new MemorySink<string>();
        await CheckpointDuringRun(Query(new ArrayEventSource<Bid>(bids, "bids") { MaxRead = 64 }), sink, checkpoint);

        checkpoint.Position = 0;
        var other = QStream.From(new ArrayEventSource<Bid>(bids, "bids"), b => b.DateTime, IngressPolicy.Reorder(Disorder)).Select(b => b.Auction.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await using var restored = other.ToJob(new MemorySink<string>(), new JobOptions { RestoreFrom = checkpoint });
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => restored.RunAsync());
        Assert.Contains("another query", error.Message, StringComparison.Ordinal);
        Assert.Contains("new checkpoint directory", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckpointFromAnotherFormatVersion_IsRefused_NamingBothVersions()
    {
        var bids = NexmarkData.Get(3_000, Disorder).Bids;
        using var checkpoint = new MemoryStream();
        await CheckpointDuringRun(Query(new ArrayEventSource<Bid>(bids, "bids") { MaxRead = 64 }), new MemorySink<string>(), checkpoint);

        byte[] bytes = checkpoint.ToArray();
        BitConverter.TryWriteBytes(bytes.AsSpan(8, 4), 2); // the format before per-key-group state (issue #16)
        await using var restored = Query(new ArrayEventSource<Bid>(bids, "bids")).ToJob(new MemorySink<string>(), new JobOptions { RestoreFrom = new MemoryStream(bytes) });
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => restored.RunAsync());
        Assert.Contains("version 2;", error.Message, StringComparison.Ordinal);
        Assert.Contains("reads version 3", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(4, 4)]
    [InlineData(2, 1)] // taken on 2 tasks, restored on 1 and on 4: each task loads the key groups of its range
    [InlineData(2, 4)]
    public async Task ManualCheckpoint_ToAStream_RestoresTheSameOutput(int parallelism, int restoreAt)
    {
        // The crash comes long after the first results: at P > 1 the source task reads ahead of the results (by what the channels
        // hold, and with two-phase aggregation by the partial groups it holds), and the checkpoint asked for at the first result
        // must pass it before the crash for the test to restore anything.
        var bids = NexmarkData.Get(30_000, Disorder).Bids;
        var expected = await Query(new ArrayEventSource<Bid>(bids, "bids")).ToListAsync();
        using var checkpoint = new MemoryStream();
        var sink = new MemorySink<string>();
        int taken = 0;
        await using (var job = Query(new ArrayEventSource<Bid>(bids, "bids") { FailAt = 25_000, MaxRead = 64 }).ToJob(sink, new JobOptions { Parallelism = parallelism }))
        {
            sink.AfterWrite = count =>
            {
                if (Interlocked.Exchange(ref taken, 1) == 0)
                {
                    _ = job.CheckpointAsync(checkpoint);
                }
            };
            await Assert.ThrowsAsync<QueryExecutionException>(() => job.RunAsync());
        }

        Assert.True(checkpoint.Length > 0);
        checkpoint.Position = 0;
        sink.AfterWrite = null;
        await using var restored = Query(new ArrayEventSource<Bid>(bids, "bids")).ToJob(sink, new JobOptions { RestoreFrom = checkpoint, Parallelism = restoreAt });
        var result = await restored.RunAsync();
        Assert.Equal(1, result.RestoredFrom);
        Assert.Equal(restoreAt, result.Parallelism);
        Assert.Equal(expected, sink.Items);
    }

    [Fact]
    public async Task Retention_KeepsOnlyTheNewestCheckpoints()
    {
        var bids = NexmarkData.Get(6_000, Disorder).Bids;
        var store = new DirectoryCheckpointStore(_directory) { Retain = 2 };
        await using var job = Query(new ArrayEventSource<Bid>(bids, "bids") { MaxRead = 100 }).ToJob(new MemorySink<string>(), new JobOptions { Checkpoints = store, CheckpointEveryEvents = 500 });
        var result = await job.RunAsync();
        Assert.True(result.Checkpoints >= 8, $"{result.Checkpoints} checkpoints");
        Assert.Equal([result.Checkpoints, result.Checkpoints - 1], store.List());
        Assert.Empty(Directory.GetFiles(_directory, "*.tmp"));
    }

    [Fact]
    public async Task Guarantee_NamesTheSourceOrSinkThatLimitsIt()
    {
        var bids = NexmarkData.Get(1_000, Disorder).Bids;
        using var subject = new Subject<Bid>();
        await using var live = QStream.From(subject, b => b.DateTime, name: "live bids").Select(b => b.Price).ToJob(new MemorySink<long>());
        Assert.Equal(DeliveryGuarantee.AtMostOnce, live.Guarantee);
        Assert.Contains("live bids", live.GuaranteeReason, StringComparison.Ordinal);

        await using var plain = QStream.From(new ArrayEventSource<Bid>(bids, "bids"), b => b.DateTime).Select(b => b.Price).ToJob(new MemorySink<long>(transactional: false));
        Assert.Equal(DeliveryGuarantee.AtLeastOnce, plain.Guarantee);
        Assert.Contains("memory", plain.GuaranteeReason, StringComparison.Ordinal);

        await using var exact = QStream.From(bids, b => b.DateTime).Select(b => b.Price).ToJob(new MemorySink<long>());
        Assert.Equal(DeliveryGuarantee.ExactlyOnce, exact.Guarantee);
    }

    [Fact]
    public async Task Job_ReportsProgress_AndAFinalReportWithEveryEvent()
    {
        var bids = NexmarkData.Get(3_000, Disorder).Bids;
        var reports = new List<QueryProgress>();
        var progress = new SynchronousProgress(reports.Add);
        var query = QStream.From(new ArrayEventSource<Bid>(bids, "bids") { MaxRead = 100 }, b => b.DateTime, IngressPolicy.Reorder(Disorder))
            .WithOptions(new QueryOptions { Progress = progress, ProgressInterval = TimeSpan.Zero })
            .Select(b => b.Price);
        await using var job = query.ToJob(new MemorySink<long>());
        await job.RunAsync();
        Assert.True(reports.Count > 2, $"{reports.Count} reports");
        Assert.True(reports[^1].IsCompleted);
        Assert.Equal(bids.Length, reports[^1].EventsRead);
        Assert.Equal(reports.Select(r => r.EventsRead).Order(), reports.Select(r => r.EventsRead));
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    /// <summary>Runs the query as a job and asks for a checkpoint into <paramref name="checkpoint"/> from inside the run (at its first results).</summary>
    private static async Task CheckpointDuringRun(IQStream<string> query, MemorySink<string> sink, MemoryStream checkpoint)
    {
        Task<long>? taken = null;
        await using var job = query.ToJob(sink);
        sink.AfterWrite = count => taken ??= job.CheckpointAsync(checkpoint);
        await job.RunAsync();
        sink.AfterWrite = null;
        Assert.NotNull(taken);
        Assert.True(await taken > 0);
        await Assert.ThrowsAsync<InvalidOperationException>(() => job.CheckpointAsync(new MemoryStream()));
    }

    private sealed class SynchronousProgress(Action<QueryProgress> report) : IProgress<QueryProgress>
    {
        public void Report(QueryProgress value) => report(value);
    }

    private static byte[] Flip(byte[] bytes, int index)
    {
        var copy = (byte[])bytes.Clone();
        copy[index] ^= 0x5A;
        return copy;
    }
}
