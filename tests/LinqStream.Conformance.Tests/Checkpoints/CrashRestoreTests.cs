using LinqStream.Conformance.Tests.Infrastructure;
using LinqStream.Testing.Io;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Conformance.Tests.Checkpoints;

/// <summary>
/// A job that crashes at random points and is restored from its checkpoints must write exactly what one uninterrupted run writes:
/// every stateful operator (windows, sessions, joins, unions, clip) and the ingress reorder buffers go through a real checkpoint
/// file and back. The crash is a source failing in the middle of the input; results written after the last checkpoint are cut
/// back by the transactional sink on restore.
/// </summary>
public sealed class CrashRestoreTests : IDisposable
{
    private static readonly TimeSpan Disorder = TimeSpan.FromMilliseconds(400);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "linqstream-crash-" + Guid.NewGuid().ToString("N"));

    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (var query in Queries.Keys)
        {
            foreach (int seed in new[] { 1, 2 })
            {
                data.Add(query, seed);
            }
        }

        return data;
    }

    private static Dictionary<string, Func<EventSource<Bid>, EventSource<Auction>, QueryOptions, IQStream<string>>> Queries { get; } = new()
    {
        ["tumbling aggregates"] = (bids, _, o) =>
            from b in QStream.From(bids, b => b.DateTime, IngressPolicy.Reorder(Disorder)).WithOptions(o).TumblingWindow(TimeSpan.FromSeconds(1))
            group b by b.Auction into g
            select $"{g.Window.End:O} {g.Key} {g.Count()} {g.Sum(b => b.Price)} {g.Max(b => b.Price)} {g.Average(b => b.Price):F3} {g.Select(b => b.Bidder).Distinct().Count()}",
        ["hopping panes"] = (bids, _, o) =>
            from b in QStream.From(bids, b => b.DateTime, IngressPolicy.Reorder(Disorder)).WithOptions(o).HoppingWindow(TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(500))
            group b by b.Bidder % 7 into g
            select $"{g.Window.End:O} {g.Key} {g.Count()} {g.Min(b => b.Price)}",
        ["top-k"] = (bids, _, o) =>
            (from b in QStream.From(bids, b => b.DateTime, IngressPolicy.Reorder(Disorder)).WithOptions(o).TumblingWindow(TimeSpan.FromSeconds(2))
             group b by b.Auction % 5 into g
             select new { g.Key, End = g.Window.End, Top = g.OrderByDescending(b => b.Price).Take(3) })
            .Select(r => $"{r.End:O} {r.Key} " + string.Join(",", r.Top.Select(b => b.Price))),
        ["sessions"] = (bids, _, o) =>
            from b in QStream.From(bids, b => b.DateTime, IngressPolicy.Reorder(Disorder)).WithOptions(o).SessionWindow(TimeSpan.FromMilliseconds(300))
            group b by b.Bidder into g
            select $"{g.Window.Start:O} {g.Window.End:O} {g.Key} {g.Count()}",
        ["interval join"] = (bids, auctions, o) =>
            from a in QStream.From(auctions, a => a.DateTime, IngressPolicy.Reorder(Disorder)).WithOptions(o).WithLifetime(a => a.DateTime, a => a.Expires)
            join b in QStream.From(bids, b => b.DateTime, IngressPolicy.Reorder(Disorder)) on a.Id equals b.Auction
            select $"{a.Id} {b.Bidder} {b.Price} {b.DateTime:O}",
        ["anti join"] = (bids, auctions, o) =>
            QStream.From(bids, b => b.DateTime, IngressPolicy.Reorder(Disorder)).WithOptions(o)
                .WhereNotExists(QStream.From(auctions, a => a.DateTime, IngressPolicy.Reorder(Disorder)).ExtendLifetime(TimeSpan.FromSeconds(1)), b => b.Auction, a => a.Id)
                .Select(b => $"{b.Auction} {b.Bidder} {b.DateTime:O}"),
        ["union then window"] = (bids, auctions, o) =>
            from x in QStream.From(bids, b => b.DateTime, IngressPolicy.Reorder(Disorder)).WithOptions(o).Select(b => b.Auction)
                .Union(QStream.From(auctions, a => a.DateTime, IngressPolicy.Reorder(Disorder)).Select(a => a.Id))
                .TumblingWindow(TimeSpan.FromSeconds(1))
            group x by x % 3 into g
            select $"{g.Window.End:O} {g.Key} {g.Count()}",
        ["clip lifetime"] = (bids, _, o) =>
            QStream.From(bids, b => b.DateTime, IngressPolicy.Reorder(Disorder)).WithOptions(o).ExtendLifetime(TimeSpan.FromSeconds(5)).ClipLifetime(b => b.Bidder)
                .TumblingWindow(TimeSpan.FromSeconds(1)).Select(w => $"{w.Window.End:O} {w.Count()}"),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task CrashesAtRandomPoints_RestoredOutput_EqualsUninterruptedRun(string name, int seed)
    {
        var data = NexmarkData.Get(6_000, Disorder);
        var query = Queries[name];
        var options = new QueryOptions { BatchSize = 64, Strict = true };
        var expected = new MemorySink<string>();
        await using (var job = query(new ArrayEventSource<Bid>(data.Bids, "bids"), new ArrayEventSource<Auction>(data.Auctions, "auctions"), options).ToJob(expected))
        {
            await job.RunAsync();
        }

        Assert.NotEmpty(expected.Items);
        var reference = await query(new ArrayEventSource<Bid>(data.Bids, "bids"), new ArrayEventSource<Auction>(data.Auctions, "auctions"), options).ToListAsync();
        Assert.Equal(reference, expected.Items);

        var random = new Random(seed * 7919 + name.Length);
        var store = new DirectoryCheckpointStore(Path.Combine(_directory, name.Replace(' ', '-') + seed));
        var sink = new MemorySink<string>();
        int crashes = 0;
        long? lastRestored = null;
        int[] crashPoints = [.. Enumerable.Range(0, 4).Select(_ => random.Next(data.Bids.Length)).Order()];
        foreach (int crashAt in crashPoints.Append(-1))
        {
            var bids = new ArrayEventSource<Bid>(data.Bids, "bids") { FailAt = crashAt, MaxRead = random.Next(1, 200) };
            var auctions = new ArrayEventSource<Auction>(data.Auctions, "auctions") { MaxRead = random.Next(1, 50) };
            await using var job = query(bids, auctions, options).ToJob(sink, new JobOptions { Checkpoints = store, CheckpointEveryEvents = random.Next(50, 900) });
            Assert.Equal(DeliveryGuarantee.ExactlyOnce, job.Guarantee);
            try
            {
                var result = await job.RunAsync();
                Assert.Equal(-1, crashAt);
                Assert.Empty(result.Warnings);
                // The last run really went on from a checkpoint: it did not start over and reproduce the output from scratch.
                Assert.NotNull(result.RestoredFrom);
                Assert.True(lastRestored <= result.RestoredFrom);
                Assert.True(bids.OpenedAt > 0, "the bids source was reopened at its start");
                Assert.True(result.Results < expected.Items.Count, $"the restored run wrote {result.Results} of {expected.Items.Count} results");
            }
            catch (QueryExecutionException ex) when (crashAt >= 0)
            {
                Assert.Contains("Simulated crash", ex.ToString(), StringComparison.Ordinal);
                crashes++;
                lastRestored = job.LastCheckpointId;
            }
        }

        Assert.Equal(crashPoints.Length, crashes);
        Assert.True(sink.Completed);
        Assert.Equal(expected.Items, sink.Items);
    }

    [Fact]
    public async Task EnumerableSource_CancelledMidway_RestoresByIndex()
    {
        var data = NexmarkData.Get(6_000, Disorder);
        IQStream<string> Query() =>
            from b in QStream.From(data.Bids, b => b.DateTime, IngressPolicy.Reorder(Disorder), "bids").WithOptions(new QueryOptions { BatchSize = 100 }).TumblingWindow(TimeSpan.FromSeconds(1))
            group b by b.Auction into g
            select $"{g.Window.End:O} {g.Key} {g.Count()}";
        var expected = await Query().ToListAsync();
        var store = new DirectoryCheckpointStore(Path.Combine(_directory, "enumerable"));
        var sink = new MemorySink<string>();
        foreach (int stopAfter in new[] { 40, 90, 160, int.MaxValue })
        {
            using var cts = new CancellationTokenSource();
            sink.AfterWrite = count =>
            {
                if (count >= stopAfter)
                {
                    cts.Cancel();
                }
            };
            await using var job = Query().ToJob(sink, new JobOptions { Checkpoints = store, CheckpointEveryEvents = 500 });
            try
            {
                await job.RunAsync(cts.Token);
            }
            catch (OperationCanceledException) when (stopAfter != int.MaxValue)
            {
            }
        }

        Assert.Equal(expected, sink.Items);
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
