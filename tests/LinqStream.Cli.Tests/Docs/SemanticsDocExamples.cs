namespace LinqStream.Cli.Tests.Docs;

/// <summary>The examples and timelines of docs/semantics.md, run: each assertion is a sentence of that page.</summary>
public sealed class SemanticsDocExamples
{
    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private static DateTime At(int seconds) => T0.AddSeconds(seconds);

    private static long Ticks(int seconds) => At(seconds).Ticks;

    // ann at 1, 4, 6 s; bob at 3, 12 s.
    private static Click[] ClickLog => [new("ann", At(1)), new("bob", At(3)), new("ann", At(4)), new("ann", At(6)), new("bob", At(12))];

    [Fact]
    public async Task Ingress_Throw_NamesPositionLatenessAndPolicy()
    {
        var readings = new[] { new Reading(At(10), 1), new Reading(At(30), 2), new Reading(At(20), 3), new Reading(At(40), 4) };

        var strict = QStream.From(readings, r => r.Time);                                       // IngressPolicy.Throw is the default

        var error = await Assert.ThrowsAsync<LateEventException>(() => strict.ToListAsync());
        Assert.Equal(2, error.Position);
        Assert.Equal(TimeSpan.FromSeconds(10), error.Lateness);
        Assert.Contains("IngressPolicy.Reorder", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ingress_DropAdjustReorder_AsDocumented()
    {
        var readings = new[] { new Reading(At(10), 1), new Reading(At(30), 2), new Reading(At(20), 3), new Reading(At(40), 4) };

        var statistics = new IngressStatistics();
        var dropped = QStream.From(readings, r => r.Time, IngressPolicy.Drop.WithStatistics(statistics));   // 1, 2, 4; statistics.Dropped == 1
        var adjusted = QStream.From(readings, r => r.Time, IngressPolicy.Adjust);                           // 1, 2, 3 (moved to 30 s), 4
        var sorted = QStream.From(readings, r => r.Time, IngressPolicy.Reorder(TimeSpan.FromSeconds(15)));  // 1, 3, 2, 4

        Assert.Equal([1, 2, 4], (await dropped.ToListAsync()).Select(r => r.Value));
        Assert.Equal(1, statistics.Dropped);
        Assert.Equal(1, statistics.Late);
        var adjustedEvents = await Events(adjusted);
        Assert.Equal([1, 2, 3, 4], adjustedEvents.Select(e => e.Payload.Value));
        Assert.Equal(Ticks(30), adjustedEvents[2].Start);
        Assert.Equal([1, 3, 2, 4], (await sorted.ToListAsync()).Select(r => r.Value));
        var tooLate = QStream.From(readings, r => r.Time, IngressPolicy.Reorder(TimeSpan.FromSeconds(5))).WithOptions(new QueryOptions { BatchSize = 1 });
        Assert.Equal([1, 2, 4], (await tooLate.ToListAsync()).Select(r => r.Value));
    }

    [Fact]
    public async Task Ingress_Reorder_SameOutputForEveryBatchSize()
    {
        var readings = new[] { new Reading(At(10), 1), new Reading(At(30), 2), new Reading(At(20), 3), new Reading(At(40), 4) };
        var policy = IngressPolicy.Reorder(TimeSpan.FromSeconds(5));

        var oneByOne = await QStream.From(readings, r => r.Time, policy).WithOptions(new QueryOptions { BatchSize = 1 }).ToListAsync();
        var batched = await QStream.From(readings, r => r.Time, policy).ToListAsync();

        Assert.Equal(oneByOne.Select(r => r.Value), batched.Select(r => r.Value));
    }

    [Fact]
    public async Task Ingress_PointEventsAndWithLifetime()
    {
        var points = await Events(QStream.From(ClickLog, c => c.Time));
        Assert.All(points, e => Assert.Equal(1, e.End - e.Start));

        var visits = QStream.From(ClickLog, c => c.Time).WithLifetime(c => c.Time, c => c.Time.AddSeconds(5));   // [Time, Time + 5 s)
        Assert.All(await Events(visits), e => Assert.Equal(TimeSpan.FromSeconds(5).Ticks, e.End - e.Start));
    }

    [Fact]
    public async Task Tumbling_ResultsLiveForTheirWindow()
    {
        var perUser =
            from c in QStream.From(ClickLog, c => c.Time).TumblingWindow(TimeSpan.FromSeconds(5))
            group c by c.User into g
            select new { User = g.Key, Clicks = g.Count() };

        var results = (await Events(perUser)).Select(e => (e.Start, e.End, e.Payload.User, e.Payload.Clicks)).OrderBy(r => r.Start).ThenBy(r => r.User).ToList();
        Assert.Equal(
            [(Ticks(0), Ticks(5), "ann", 2), (Ticks(0), Ticks(5), "bob", 1), (Ticks(5), Ticks(10), "ann", 1), (Ticks(10), Ticks(15), "bob", 1)],
            results);
    }

    [Fact]
    public async Task Hopping_EventCountsInSizeOverHopWindows()
    {
        var perUser =
            from c in QStream.From(ClickLog, c => c.Time).HoppingWindow(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(5))
            group c by c.User into g
            select new { User = g.Key, Clicks = g.Count() };

        var results = (await Events(perUser)).Select(e => (e.Start, e.End, e.Payload.User, e.Payload.Clicks)).OrderBy(r => r.Start).ThenBy(r => r.User).ToList();
        Assert.Equal(
            [
                (Ticks(-5), Ticks(5), "ann", 2), (Ticks(-5), Ticks(5), "bob", 1),
                (Ticks(0), Ticks(10), "ann", 3), (Ticks(0), Ticks(10), "bob", 1),
                (Ticks(5), Ticks(15), "ann", 1), (Ticks(5), Ticks(15), "bob", 1),
                (Ticks(10), Ticks(20), "bob", 1),
            ],
            results);
    }

    [Fact]
    public async Task Session_ResultStampedAtEndMinusOneTick_AndGapIsHalfOpen()
    {
        var sessions =
            from c in QStream.From(ClickLog, c => c.Time).SessionWindow(gap: TimeSpan.FromSeconds(3))
            group c by c.User into g
            select new { User = g.Key, Clicks = g.Count(), g.Window.Start, g.Window.End };

        var results = await Events(sessions);
        Assert.Equal(
            [("ann", 1, At(1), At(4)), ("bob", 1, At(3), At(6)), ("ann", 2, At(4), At(9)), ("bob", 1, At(12), At(15))],
            results.Select(e => (e.Payload.User, e.Payload.Clicks, e.Payload.Start.UtcDateTime, e.Payload.End.UtcDateTime)));
        Assert.All(results, e => Assert.Equal((e.Payload.End.UtcTicks - 1, e.Payload.End.UtcTicks), (e.Start, e.End)));
    }

    [Fact]
    public async Task EpochAlignment_SevenSecondWindowsStartAtMultiplesOfSevenSinceUnixEpoch()
    {
        var windows = QStream.From(ClickLog, c => c.Time).TumblingWindow(TimeSpan.FromSeconds(7)).Select(w => new { w.Window.Start, N = w.Count() });

        var starts = (await windows.ToListAsync()).Select(r => r.Start);
        Assert.All(starts, s => Assert.Equal(0, s.ToUnixTimeSeconds() % 7));
    }

    [Fact]
    public async Task Join_ResultLivesInTheIntersection()
    {
        var visits = QStream.From(ClickLog, c => c.Time).WithLifetime(c => c.Time, c => c.Time.AddSeconds(5));
        var offers = QStream.From(new[] { new Click("ann", At(3)) }, o => o.Time).WithLifetime(o => o.Time, o => o.Time.AddSeconds(10));

        var seen =
            from v in visits
            join o in offers on v.User equals o.User
            select new { v.User, Visit = v.Time, Offer = o.Time };

        var results = await Events(seen);
        Assert.Equal(
            [(Ticks(3), Ticks(6)), (Ticks(4), Ticks(9)), (Ticks(6), Ticks(11))],
            results.Select(e => (e.Start, e.End)));
    }

    [Fact]
    public async Task LeftJoin_UnmatchedResultComesWhenTheLeftEventEnds()
    {
        var visits = QStream.From(ClickLog, c => c.Time).WithLifetime(c => c.Time, c => c.Time.AddSeconds(5));
        var offers = QStream.From(new[] { new Click("ann", At(3)) }, o => o.Time).WithLifetime(o => o.Time, o => o.Time.AddSeconds(10));

        var withOffer = visits.LeftJoin(offers, v => v.User, o => o.User, (v, o) => new { v.User, v.Time, Offer = o == null ? null : (DateTime?)o.Time });
        var withoutOffer = visits.WhereNotExists(offers, v => v.User, o => o.User);

        var left = await Events(withOffer);
        Assert.Equal(5, left.Count);
        Assert.Equal([At(3), At(12)], left.Where(e => e.Payload.Offer is null).Select(e => e.Payload.Time));
        Assert.Equal([At(3), At(12)], (await withoutOffer.ToListAsync()).Select(c => c.Time));
        Assert.Equal(left.Select(e => e.Start).Order(), left.Select(e => e.Start));
    }

    [Fact]
    public async Task Multicast_AQueryUsedTwiceReadsItsSourceOnce()
    {
        var source = new CountingEnumerable<Click>(ClickLog);

        var clicks = QStream.From(source, c => c.Time);
        var annOrLate = clicks.Where(c => c.User == "ann").Union(clicks.Where(c => c.Time >= At(10)));

        Assert.Equal(4, (await annOrLate.ToListAsync()).Count);
        Assert.Equal(1, source.Enumerations);
    }

    private static async Task<List<StreamEvent<T>>> Events<T>(IQStream<T> query)
    {
        var events = new List<StreamEvent<T>>();
        await foreach (var e in query.ToStreamEvents())
        {
            events.Add(e);
        }

        return events;
    }

    private sealed record Reading(DateTime Time, int Value);

    private sealed record Click(string User, DateTime Time);

    private sealed class CountingEnumerable<T>(IEnumerable<T> items) : IEnumerable<T>
    {
        public int Enumerations { get; private set; }

        public IEnumerator<T> GetEnumerator()
        {
            Enumerations++;
            return items.GetEnumerator();
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
