using System.Reactive.Subjects;
using LinqStream.Conformance.Tests.Infrastructure;
using LinqStream.Testing;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Conformance.Tests.Operators;

/// <summary>Query-level behaviours outside one operator: reuse of a query object, the buffering fallback, event-time overloads, unsubscribe.</summary>
public sealed class QueryBehaviourTests
{
    private static readonly NexmarkData Data = NexmarkData.Get(20_000, TimeSpan.Zero);

    [Fact]
    public async Task SameQueryObject_RunTwiceAndConcurrently_GivesTheSameResultsEachTime()
    {
        var bids = QStream.From(Data.Bids, b => b.DateTime);
        var query =
            from b in bids.HoppingWindow(TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(1))
            group b by b.Auction into g
            select new { g.Key, N = g.Count(), g.Window.Start };
        var shared = query.Union(query.Where(x => x.N > 10));

        var first = await shared.ToListAsync();
        var second = await shared.ToListAsync();
        var concurrent = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Task.Run(() => shared.ToListAsync())));

        Assert.NotEmpty(first);
        Assert.Equal(first, second);
        Assert.All(concurrent, r => Assert.Equal(first, r));
    }

    [Fact]
    public async Task BufferingFallback_NotStrict_GivesTheLinqAnswerAndExplainSaysWhy()
    {
        var size = TimeSpan.FromSeconds(2);
        var query =
            from b in QStream.From(Data.Bids, b => b.DateTime).TumblingWindow(size)
            group b by b.Auction % 5 into g
            select new { g.Key, Median = g.OrderBy(b => b.Price).Skip(g.Count() / 2).First().Price };

        var explain = query.Explain();
        var actual = await query.ToStreamEvents().ToListAsync();

        Assert.Contains("Fallback: The window expression", explain, StringComparison.Ordinal);
        var expected = ReferenceWindows.Fixed(Data.Bids.Select(b => (b.DateTime.Ticks, b)), size.Ticks, size.Ticks, b => b.Auction % 5,
                g => new { g.Key, Median = g.OrderBy(b => b.Price).Skip(g.Count() / 2).First().Price })
            .Select(r => Run.Event(r.Start, r.End, r.Result));
        Run.AssertEquivalent(expected, actual);
    }

    [Fact]
    public async Task EventTimeOverloads_DateTimeOffsetWithOffsetAndTicks_GiveTheSameLifetimesAsUtcDateTime()
    {
        var viaDateTime = await QStream.From(Data.Bids, b => b.DateTime).Select(b => b.Price).ToStreamEvents().ToListAsync();
        var viaOffset = await QStream.From(Data.Bids, b => new DateTimeOffset(b.DateTime).ToOffset(TimeSpan.FromHours(-7))).Select(b => b.Price).ToStreamEvents().ToListAsync();
        var viaTicks = await QStream.From(Data.Bids, b => b.DateTime.Ticks).Select(b => b.Price).ToStreamEvents().ToListAsync();

        Assert.Equal(Data.Bids.Select(b => Run.Point(b.DateTime, b.Price)), viaDateTime);
        Assert.Equal(viaDateTime, viaOffset);
        Assert.Equal(viaDateTime, viaTicks);
    }

    [Fact]
    public void Subscription_DisposedWhileLive_UnsubscribesFromTheSource()
    {
        var subject = new Subject<Bid>();
        var seen = 0;
        var query = QStream.From(subject, b => b.DateTime).Select(b => b.Price);

        var subscription = query.Subscribe(_ => Interlocked.Increment(ref seen));
        LiveFeeds.Eventually(() => subject.HasObservers, "The query should subscribe.");
        foreach (var bid in Data.Bids.Take(100))
        {
            subject.OnNext(bid);
        }

        subscription.Dispose();

        LiveFeeds.Eventually(() => !subject.HasObservers, "Disposing the subscription should unsubscribe from the live source.");
    }

    [Fact]
    public async Task Subscribe_LiveSource_ResultsArriveBeforeTheSourceCompletes()
    {
        var subject = new Subject<Bid>();
        var first = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        var query = QStream.From(subject, b => b.DateTime).Where(b => b.Price > 0).Select(b => b.Price);

        using var subscription = query.Subscribe(p => first.TrySetResult(p));
        LiveFeeds.Eventually(() => subject.HasObservers, "The query should subscribe.");
        subject.OnNext(Data.Bids[0]);

        // In order, a point event is final at once: no need to wait for the next event or the end of the source.
        Assert.Equal(Data.Bids[0].Price, await first.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        subject.OnCompleted();
    }
}
