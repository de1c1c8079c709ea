using LinqStream.Conformance.Tests.Infrastructure;
using LinqStream.Physical.Join.Spilled;
using LinqStream.Query.Optimization;
using LinqStream.State.RocksDb;
using LinqStream.Testing.Io;
using Match = LinqStream.Conformance.Tests.Windows.KeyedFoldTests.Match;

namespace LinqStream.Conformance.Tests.Windows;

/// <summary>
/// q9's shape (the winning offer per item, closed by the item's expiry: <c>ExpiryJoinToKeyedFold</c>) as a job on the RocksDB backend
/// (issue #18, 16 hot events): <c>JoinKeyedFoldFusion</c> must not fire there (the fused operator would keep every open close on the
/// heap, where the spilled join writes them to the store past its budget) and the job's <c>Explain()</c> says why; the job still
/// spills its open closes, reads and expires them from the store, and gives exactly the heap job's results (which are fused), in
/// order, and LINQ to objects' winners. The same random input as <see cref="KeyedFoldTests"/> (out of order, ties, duplicate and
/// huge ids, items with no offer), with every item twice (the twin expiring one tick later: two open closes per id).
/// </summary>
[Collection(RocksDbCollection.Name)]
public sealed class KeyedFoldOnRocksDbTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "linqstream-keyedfold-rocks-" + Guid.NewGuid().ToString("N"));

    [Theory]
    [InlineData(1, 1, false)]
    [InlineData(1, 7, true)]
    [InlineData(2, 4096, true)]
    [InlineData(2, 7, false)]
    [InlineData(3, 1, true)]
    [InlineData(3, 4096, false)]
    public async Task WinningOfferPerItem_OnRocksDb_IsNotFused_SpillsItsCloses_AndGivesTheHeapJobsResults(int seed, int batchSize, bool disordered)
    {
        var (items, offers) = KeyedFoldTests.Generate(seed, disordered);
        items = [.. items.Concat(items.Select(i => i with { Opened = i.Opened.AddTicks(1), Expires = i.Expires.AddTicks(1) })).OrderBy(i => i.Opened)];
        var options = new QueryOptions { Strict = true, BatchSize = batchSize };
        IQStream<Match> Query() => KeyedFoldTests.WinnerPerItem(KeyedFoldTests.Matches(items, offers, disordered, options));
        string name = $"s{seed}-b{batchSize}-{disordered}";

        var onHeap = new MemorySink<Match>();
        await using (var job = Query().ToJob(onHeap, Checkpointed(name + "-heap", StateBackend.Heap)))
        {
            string plan = job.Explain();
            Assert.Contains("JoinKeyedFoldFusion: applied", plan, StringComparison.Ordinal);
            Assert.Contains("JoinKeyedFold:", RewriteAssert.PhysicalPart(plan), StringComparison.Ordinal);
            await job.RunAsync();
        }

        long spilledBefore = Interlocked.Read(ref SpilledTemporalJoinCounters.EventsSpilled);
        long readsBefore = Interlocked.Read(ref SpilledTemporalJoinCounters.StoreReads);
        long expiredBefore = Interlocked.Read(ref SpilledTemporalJoinCounters.EventsExpiredFromStore);
        var onRocksDb = new MemorySink<Match>();
        await using (var job = Query().ToJob(onRocksDb, Checkpointed(name + "-rocksdb", StateBackend.RocksDb(Path.Combine(_directory, name), 16))))
        {
            string plan = job.Explain();
            Assert.Contains("ExpiryJoinToKeyedFold: applied", plan, StringComparison.Ordinal);
            Assert.Contains("JoinKeyedFoldFusion: not applied (" + JoinKeyedFoldFusionPass.OffHeapReason + ")", plan, StringComparison.Ordinal);
            string physical = RewriteAssert.PhysicalPart(plan);
            Assert.DoesNotContain("JoinKeyedFold:", physical, StringComparison.Ordinal);
            Assert.Contains("KeyedFold:", physical, StringComparison.Ordinal);
            Assert.Contains(job.Operators, o => o.GetType().Name.StartsWith("SpilledTemporalJoinOperator", StringComparison.Ordinal));
            await job.RunAsync();
        }

        Assert.True(onHeap.Completed && onRocksDb.Completed);
        Assert.Equal(onHeap.Items, onRocksDb.Items);
        var model = KeyedFoldTests.WinnersModel(items, offers).Select(e => e.Payload).ToList();
        Assert.True(model.Count > 50, $"{model.Count} winners: the input must give many");
        Assert.Equal(model.OrderBy(m => m.Expires).ThenBy(m => m.Item), onRocksDb.Items.OrderBy(m => m.Expires).ThenBy(m => m.Item));

        // The spilled join checks its budget after each round: with batches of 4,096 the whole input is two or three rounds, and the
        // closes of a round end within it, so only the smaller batches leave more than 16 open closes at a round's end.
        if (batchSize < 4096)
        {
            long spilled = Interlocked.Read(ref SpilledTemporalJoinCounters.EventsSpilled) - spilledBefore;
            Assert.True(spilled > 16, $"{spilled} open closes were written to RocksDB: the test did not exercise the store");
            Assert.True(Interlocked.Read(ref SpilledTemporalJoinCounters.StoreReads) > readsBefore, "closes were spilled but no offer read the store");
            Assert.True(Interlocked.Read(ref SpilledTemporalJoinCounters.EventsExpiredFromStore) > expiredBefore, "no spilled close was expired by the watermark");
        }
    }

    [Fact]
    public async Task WinningOfferPerItem_JobWithoutAStateBackend_IsFused()
    {
        var (items, offers) = KeyedFoldTests.Generate(4, disordered: true);
        var sink = new MemorySink<Match>();
        await using var job = KeyedFoldTests.WinnerPerItem(KeyedFoldTests.Matches(items, offers, disordered: true, new QueryOptions { Strict = true })).ToJob(sink);

        Assert.Contains("JoinKeyedFoldFusion: applied", job.Explain(), StringComparison.Ordinal);
        Assert.Contains(job.Operators, o => o.GetType().Name.StartsWith("JoinKeyedFoldOperator", StringComparison.Ordinal));
        await job.RunAsync();
        Assert.Equal(
            KeyedFoldTests.WinnersModel(items, offers).Select(e => e.Payload).OrderBy(m => m.Expires).ThenBy(m => m.Item),
            sink.Items.OrderBy(m => m.Expires).ThenBy(m => m.Item));
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private JobOptions Checkpointed(string name, StateBackend state) => new()
    {
        State = state,
        Checkpoints = new DirectoryCheckpointStore(Path.Combine(_directory, name + "-checkpoints")),
        CheckpointEveryEvents = 300,
    };
}
