using LinqStream.Conformance.Tests.Infrastructure;
using LinqStream.Physical.Windows.Session;
using LinqStream.State.RocksDb;
using LinqStream.Testing.Io;

namespace LinqStream.Conformance.Tests.Checkpoints;

/// <summary>
/// A spilled session aggregate takes its checkpoint's cut without copying the hot sessions' accumulators: their slots are frozen and
/// written off the query's thread after the store's second part, and a session the query touches (or emits, or spills) before its
/// record is written goes on in a copy of its slot (issue #18, the pause at 1 GB; docs/state.md, "Copy on write at the cut"). Here
/// the store's second part is held while the query reads thousands of random events over the hot keys, so the sessions of the cut
/// are touched, extended, closed and spilled before their records are written; then the job crashes, and a rerun restores that
/// checkpoint: its output must be exactly the uninterrupted run's (a record written with a value from after the cut would count
/// those events twice).
/// </summary>
[Collection(RocksDbCollection.Name)]
public sealed class RocksDbCopyOnWriteCutTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Gap = TimeSpan.FromTicks(400);
    private const int HotKeys = 64;
    private const int Events = 12_000;
    private const int CheckpointAt = 3_000; // the checkpoint is asked for at this read
    private const int HoldAt = 6_000;       // the source waits here until every task's second part has started (the cut is behind)
    private const int ReleaseAt = 7_500;    // the second parts (and so the records) go on from this read
    private const int CrashAt = 9_000;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "linqstream-cow-" + Guid.NewGuid().ToString("N"));

    public sealed record Hit(long Key, long Time, int Value);

    public sealed record Row(long Key, long Start, long End, int Count, long Sum, int Max, double Average);

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 1)]
    [InlineData(3, 1)]
    [InlineData(1, 2)]
    [InlineData(2, 2)]
    public async Task SessionsTouchedBetweenTheCutAndTheirRecord_AreCheckpointedAsAtTheCut_TheRestoredOutputEqualsTheUninterruptedRun(int seed, int parallelism)
    {
        var hits = RandomInput(seed);
        var reference = await Query(new ArrayEventSource<Hit>(hits, "hits")).ToListAsync();
        var checkpoints = new DirectoryCheckpointStore(Path.Combine(_directory, "checkpoints"));
        var sink = new MemorySink<Row>();
        using var release = new ManualResetEventSlim(false);
        int started = 0;
        var backend = new RocksDbStateBackend(Path.Combine(_directory, "state"))
        {
            HotKeys = HotKeys,
            StoreCreated = s => s.SlowPartStarting = () =>
            {
                Interlocked.Increment(ref started);
                Assert.True(release.Wait(Patience), "the source did not reach the read that releases the second part");
            },
        };

        Task<long>? requested = null;
        QueryJob<Row>? running = null;
        var source = new ArrayEventSource<Hit>(hits, "hits")
        {
            MaxRead = 25,
            FailAt = CrashAt,
            BeforeRead = async (index, cancellationToken) =>
            {
                if (index >= CheckpointAt && requested is null)
                {
                    requested = running!.CheckpointAsync();
                }

                if (index >= HoldAt)
                {
                    // Every task has taken its cut by now (its second part started), so what is read from here on comes after it.
                    for (var waited = System.Diagnostics.Stopwatch.StartNew(); Volatile.Read(ref started) < parallelism; await Task.Delay(5, cancellationToken))
                    {
                        Assert.True(waited.Elapsed < Patience, $"{started} of {parallelism} stores began the checkpoint before read {index}");
                    }
                }

                if (index >= ReleaseAt)
                {
                    release.Set();
                }
            },
        };

        await using (var job = running = Query(source).ToJob(sink, new JobOptions { Checkpoints = checkpoints, State = backend, Parallelism = parallelism }))
        {
            var error = await Assert.ThrowsAsync<QueryExecutionException>(() => job.RunAsync());
            Assert.Contains("Simulated crash", error.ToString(), StringComparison.Ordinal);
            Assert.Equal(1, job.LastCheckpointId);
            Assert.Equal([1L], checkpoints.List());
            if (parallelism == 1)
            {
                // The frozen slots were really in the way: sessions of the cut were copied before the query changed them.
                var aggregate = Assert.Single(job.Operators.OfType<SpilledSessionWindowAggregateOperator<Hit, long, Row>>());
                Assert.True(aggregate.SlotsCopiedAtCut > 0, "no session of the cut was touched before its record was written");
            }
        }

        await using (var job = Query(new ArrayEventSource<Hit>(hits, "hits") { MaxRead = 25 })
            .ToJob(sink, new JobOptions { Checkpoints = checkpoints, State = new RocksDbStateBackend(Path.Combine(_directory, "state")) { HotKeys = HotKeys }, Parallelism = parallelism }))
        {
            var result = await job.RunAsync();
            Assert.Equal(1, result.RestoredFrom);
            Assert.True(result.Results < reference.Count, $"the restored run wrote all {result.Results} results");
        }

        Assert.True(sink.Completed);
        Assert.Equal(reference, sink.Items);
    }

    /// <summary>150 keys (the extremes among them) over 64 hot ones; ties, out-of-order events within the reorder bound, a gap that
    /// closes some sessions all the time and a pause of the input every ~2,000 events that closes them all.</summary>
    private static Hit[] RandomInput(int seed)
    {
        var random = new Random(seed);
        long[] keys = [.. Enumerable.Range(0, 150).Select(i => i switch
        {
            0 => long.MaxValue,
            1 => long.MinValue,
            2 => -1,
            _ => random.NextInt64(long.MinValue, long.MaxValue),
        })];
        var hits = new Hit[Events];
        long time = 1_000;
        for (int i = 0; i < hits.Length; i++)
        {
            time += random.Next(0, 2_000) == 0 ? 1_000 : random.Next(0, 4);
            long disorder = random.Next(0, 8) == 0 ? random.Next(0, 30) : 0;
            // A few keys are touched far more often than the rest, so the hot set has both steady and churning sessions.
            long key = random.Next(0, 3) == 0 ? keys[random.Next(10)] : keys[random.Next(keys.Length)];
            hits[i] = new Hit(key, time - disorder, random.Next(-1_000, 1_000));
        }

        return hits;
    }

    private static IQStream<Row> Query(EventSource<Hit> hits) =>
        from h in QStream.From(hits, h => h.Time, IngressPolicy.Reorder(TimeSpan.FromTicks(30)))
            .WithOptions(new QueryOptions { BatchSize = 37, Strict = true })
            .SessionWindow(Gap)
        group h by h.Key into g
        select new Row(g.Key, g.Window.Start.UtcTicks, g.Window.End.UtcTicks, g.Count(), g.Sum(h => (long)h.Value), g.Max(h => h.Value), g.Average(h => (double)h.Value));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
