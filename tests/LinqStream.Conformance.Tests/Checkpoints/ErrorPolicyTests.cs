using LinqStream.Conformance.Tests.Infrastructure;
using LinqStream.Testing.Io;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Conformance.Tests.Checkpoints;

/// <summary>A lambda that throws for some events: the query stops naming the event, or skips it into the dead letters, as the user chose.</summary>
public sealed class ErrorPolicyTests
{

    private sealed class Letters : IDeadLetterSink
    {
        public List<DeadLetter> Items { get; } = [];

        public void Write(DeadLetter letter) => Items.Add(letter);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(64)]
    [InlineData(4096)]
    public async Task SkipAndDeadLetter_DropsOnlyTheFailingEvents_AndKeepsThem(int batchSize)
    {
        var bids = NexmarkData.Get(5_000, TimeSpan.Zero).Bids;
        var letters = new Letters();
        var options = new QueryOptions { BatchSize = batchSize, OnError = ErrorPolicy.SkipAndDeadLetter, DeadLetters = letters };
        var actual = await QStream.From(bids, b => b.DateTime).WithOptions(options)
            .Where(b => b.Bidder % 3 != 0)
            .Select(b => new { b.Auction, Ratio = 1000 / (b.Price % 7) })
            .ToListAsync();

        var expected = bids.Where(b => b.Bidder % 3 != 0 && b.Price % 7 != 0).Select(b => new { b.Auction, Ratio = 1000 / (b.Price % 7) }).ToList();
        var failing = bids.Where(b => b.Bidder % 3 != 0 && b.Price % 7 == 0).ToList();
        Assert.NotEmpty(failing);
        Assert.Equal(expected, actual);
        Assert.Equal(failing.Count, letters.Items.Count);
        for (int i = 0; i < failing.Count; i++)
        {
            Assert.Equal(failing[i].ToString(), letters.Items[i].Record);
            Assert.Contains("DivideByZeroException", letters.Items[i].Reason, StringComparison.Ordinal);
            Assert.Contains("1000 /", letters.Items[i].Reason, StringComparison.Ordinal);
            Assert.Equal(new DateTimeOffset(failing[i].DateTime).ToString("O", System.Globalization.CultureInfo.InvariantCulture), letters.Items[i].Position);
        }
    }

    [Theory]
    [InlineData(ErrorPolicy.SkipAndDeadLetter)]
    [InlineData(ErrorPolicy.Fail)]
    public async Task WindowKeyOrAggregateInputThrows_PolicyDecides(ErrorPolicy policy)
    {
        var bids = NexmarkData.Get(5_000, TimeSpan.Zero).Bids;
        var letters = new Letters();
        var query =
            from b in QStream.From(bids, b => b.DateTime).WithOptions(new QueryOptions { BatchSize = 128, OnError = policy, DeadLetters = letters }).TumblingWindow(TimeSpan.FromSeconds(1))
            group b by 100 / (b.Price % 7) into g
            select new { g.Key, End = g.Window.End, Count = g.Count(), Sum = g.Sum(b => 1000 / (b.Bidder % 5)) };
        bool Bad(Bid b) => b.Price % 7 == 0 || b.Bidder % 5 == 0;
        if (policy == ErrorPolicy.Fail)
        {
            var error = await Assert.ThrowsAsync<QueryExecutionException>(() => query.ToListAsync());
            Assert.Contains(bids.First(Bad).ToString(), error.Message, StringComparison.Ordinal);
            Assert.Contains("DivideByZeroException", error.Message, StringComparison.Ordinal);
            return;
        }

        var actual = await query.ToListAsync();
        long second = TimeSpan.TicksPerSecond;
        var expected = bids.Where(b => !Bad(b))
            .GroupBy(b => (Key: 100 / (b.Price % 7), End: b.DateTime.Ticks - (b.DateTime.Ticks % second) + second))
            .Select(g => (g.Key.Key, g.Key.End, Count: g.Count(), Sum: g.Sum(b => 1000 / (b.Bidder % 5))))
            .OrderBy(r => r.End).ThenBy(r => r.Key).ToList();
        Assert.Equal(expected, actual.Select(r => (r.Key, r.End.UtcTicks, r.Count, r.Sum)).OrderBy(r => r.UtcTicks).ThenBy(r => r.Key).ToList());
        Assert.Equal(bids.Where(Bad).Select(b => b.ToString()), letters.Items.Select(l => l.Record));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    public async Task SelectManyThrowingOnItsFirstItem_SkipsTheEvent(int batchSize)
    {
        var bids = NexmarkData.Get(3_000, TimeSpan.Zero).Bids;
        var letters = new Letters();
        var actual = await QStream.From(bids, b => b.DateTime).WithOptions(new QueryOptions { BatchSize = batchSize, OnError = ErrorPolicy.SkipAndDeadLetter, DeadLetters = letters })
            .SelectMany(b => Enumerable.Range(0, 3).Select(k => k == 0 ? 10 / (b.Price % 11) : k))
            .ToListAsync();
        var expected = bids.Where(b => b.Price % 11 != 0).SelectMany(b => Enumerable.Range(0, 3).Select(k => k == 0 ? 10 / (b.Price % 11) : k)).ToList();
        Assert.Equal(expected, actual);
        Assert.Equal(bids.Where(b => b.Price % 11 == 0).Select(b => b.ToString()), letters.Items.Select(l => l.Record));
        Assert.DoesNotContain(letters.Items, l => l.Reason.Contains("already been sent", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(2048)]
    public async Task SelectManyThrowingAfterItsFirstItem_SendsNothingOfThatEvent_AtAnyBatchSize(int batchSize)
    {
        // Each event's first result is produced before its second item throws: the answer must not depend on the batch size (§8).
        var bids = NexmarkData.Get(2_000, TimeSpan.Zero).Bids;
        var letters = new Letters();
        var actual = await QStream.From(bids, b => b.DateTime).WithOptions(new QueryOptions { BatchSize = batchSize, OnError = ErrorPolicy.SkipAndDeadLetter, DeadLetters = letters })
            .SelectMany(b => Enumerable.Range(0, 2).Select(k => k == 0 ? -1 : 10 / (b.Price % 11)))
            .ToListAsync();
        var bad = bids.Where(b => b.Price % 11 == 0).ToList();
        Assert.NotEmpty(bad);
        Assert.Equal(bad.Select(b => b.ToString()), letters.Items.Select(l => l.Record));
        Assert.Equal(bids.Where(b => b.Price % 11 != 0).SelectMany(b => Enumerable.Range(0, 2).Select(k => k == 0 ? -1 : 10 / (b.Price % 11))), actual);
    }

    [Fact]
    public async Task Fail_StopsTheQuery_NamingTheOperatorTheExpressionAndTheEvent()
    {
        var bids = NexmarkData.Get(5_000, TimeSpan.Zero).Bids;
        var first = bids.First(b => b.Price % 7 == 0);
        // The query is built on one line with a note of that line, so the test can check the line the error names.
        var query = QStream.From(bids, b => b.DateTime).WithOptions(new QueryOptions { BatchSize = 256 }).Select(b => 1000 / (b.Price % 7)); int selectLine = Line();
        var error = await Assert.ThrowsAsync<QueryExecutionException>(() => query.ToListAsync());
        Assert.Contains("DivideByZeroException", error.Message, StringComparison.Ordinal);
        Assert.Contains("1000 /", error.Message, StringComparison.Ordinal);
        Assert.Contains(first.ToString(), error.Message, StringComparison.Ordinal);
        Assert.Contains("ErrorPolicy.SkipAndDeadLetter", error.Message, StringComparison.Ordinal);
        Assert.Contains("written at ErrorPolicyTests.cs:" + selectLine, error.Message, StringComparison.Ordinal);
        Assert.IsType<DivideByZeroException>(error.InnerException);
    }

    private static int Line([System.Runtime.CompilerServices.CallerLineNumber] int line = 0) => line;

    [Fact]
    public async Task SkipAndDeadLetter_InAJob_GoesToTheJobsDeadLetterSink_Once_AcrossACrash()
    {
        var bids = NexmarkData.Get(5_000, TimeSpan.Zero).Bids;
        IQStream<long> Query(EventSource<Bid> source) =>
            QStream.From(source, b => b.DateTime).WithOptions(new QueryOptions { BatchSize = 100, OnError = ErrorPolicy.SkipAndDeadLetter }).Select(b => 1000 / (b.Price % 7));
        var results = new MemorySink<long>();
        var letters = new MemorySink<DeadLetter>();
        var store = new DirectoryCheckpointStore(Path.Combine(Path.GetTempPath(), "linqstream-onerror-" + Guid.NewGuid().ToString("N")));
        try
        {
            await using (var crashing = Query(new ArrayEventSource<Bid>(bids, "bids") { FailAt = 3_000, MaxRead = 100 })
                .ToJob(results, new JobOptions { Checkpoints = store, CheckpointEveryEvents = 700, DeadLetters = letters }))
            {
                await Assert.ThrowsAsync<QueryExecutionException>(() => crashing.RunAsync());
            }

            await using var job = Query(new ArrayEventSource<Bid>(bids, "bids")).ToJob(results, new JobOptions { Checkpoints = store, DeadLetters = letters });
            Assert.Equal(DeliveryGuarantee.ExactlyOnce, job.Guarantee);
            var outcome = await job.RunAsync();
            Assert.NotNull(outcome.RestoredFrom);
            Assert.Equal(bids.Where(b => b.Price % 7 != 0).Select(b => 1000 / (b.Price % 7)), results.Items);
            Assert.Equal(bids.Where(b => b.Price % 7 == 0).Select(b => b.ToString()), letters.Items.Select(l => l.Record));
        }
        finally
        {
            Directory.Delete(store.Directory, recursive: true);
        }
    }
}
