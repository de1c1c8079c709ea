using LinqStream.Conformance.Tests.Infrastructure;

namespace LinqStream.Conformance.Tests.Joins;

/// <summary>
/// The plan rewrite <c>TumblingJoinToWindowJoin</c> (issue #19): an inner join of two inputs in the same tumbling window runs as a
/// window join, joined a window at a time. Both plans run on the same random input (out of order, empty windows, many events per
/// tick and key, the extreme keys of <c>long</c>, null keys) at batch sizes 1, 7 and 4096, and must give the same events, lifetimes
/// and order, call for call; both must agree with LINQ to objects; and a failing user lambda must end both the same way.
/// </summary>
public sealed class WindowJoinTests
{
    private const long Second = TimeSpan.TicksPerSecond;
    private static readonly long Origin = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;
    private static readonly TimeSpan Size = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Disorder = TimeSpan.FromSeconds(1);

    /// <summary>An input event: a person (<see cref="Kind"/> 0, <see cref="Id"/>) or an auction (1, by seller <see cref="Ref"/>).</summary>
    public sealed record Ev(long Time, int Kind, long Id, long Ref, int Tag);

    public readonly record struct SellerInWindow(long Seller, int Auctions, long WindowStart);

    public readonly record struct NewUser(long Id, int Tag, long Time, int Auctions, long WindowStart);

    public readonly record struct Pair(long Key, int LeftTag, long LeftTime, int RightTag, long RightTime);

    public static TheoryData<int, int, bool> Cases() => RandomInput.Cases();

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task PeopleJoinedWithSellersOfTheWindow_RewrittenPlanGivesTheJoinPlansEvents(int seed, int batchSize, bool disordered)
    {
        // NEXMark q8's shape: one source split in two, the sellers of each window (a keyed aggregate) joined with its people.
        var data = Generate(seed, disordered);
        IQStream<NewUser> Query(QueryOptions options)
        {
            var events = Source(data, disordered, options, "events");
            var sellers =
                from a in events.Where(e => e.Kind == 1).TumblingWindow(Size)
                group a by a.Ref into g
                select new SellerInWindow(g.Key, g.Count(), g.Window.StartTicks);
            return from p in events.Where(e => e.Kind == 0).TumblingWindow(Size)
                   join s in sellers on p.Id equals s.Seller
                   select new NewUser(p.Id, p.Tag, p.Time, s.Auctions, s.WindowStart);
        }

        var expected =
            (from p in data.Where(e => e.Kind == 0)
             join s in from a in data.Where(e => e.Kind == 1)
                       group a by (Start: Start(a.Time), a.Ref) into g
                       select new SellerInWindow(g.Key.Ref, g.Count(), g.Key.Start)
                 on (Start(p.Time), p.Id) equals (s.WindowStart, s.Seller)
             select Run.Event(s.WindowStart, s.WindowStart + Size.Ticks, new NewUser(p.Id, p.Tag, p.Time, s.Auctions, s.WindowStart))).ToList();
        await AssertBothPlans(Query, batchSize, expected);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task TwoWindowedSources_ManyToManyPerKey_RewrittenPlanGivesTheJoinPlansEvents(int seed, int batchSize, bool disordered)
    {
        // Two sources, each only windowed: every left event of a window meets every right event of its key (ties on both sides).
        var data = Generate(seed, disordered);
        var lefts = data.Where(e => e.Kind == 0).ToList();
        var rights = data.Where(e => e.Kind == 1).ToList();
        IQStream<Pair> Query(QueryOptions options) =>
            from l in Source(lefts, disordered, options, "left").TumblingWindow(Size)
            join r in Source(rights, disordered, options, "right").TumblingWindow(Size) on l.Id equals r.Ref
            select new Pair(l.Id, l.Tag, l.Time, r.Tag, r.Time);

        var expected =
            (from l in lefts
             join r in rights on (Start(l.Time), l.Id) equals (Start(r.Time), r.Ref)
             select Run.Event(Start(l.Time), Start(l.Time) + Size.Ticks, new Pair(l.Id, l.Tag, l.Time, r.Tag, r.Time))).ToList();
        await AssertBothPlans(Query, batchSize, expected);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task NullableKeysWithNulls_RewrittenPlanGivesTheJoinPlansEvents(int seed, int batchSize, bool disordered)
    {
        // A third of the left keys are null: they match nothing, as in SQL (and as the temporal join).
        var data = Generate(seed, disordered);
        var lefts = data.Where(e => e.Kind == 0).ToList();
        var rights = data.Where(e => e.Kind == 1).ToList();
        IQStream<Pair> Query(QueryOptions options) =>
            from l in Source(lefts, disordered, options, "left").TumblingWindow(Size)
            join r in Source(rights, disordered, options, "right").TumblingWindow(Size) on (l.Tag % 3 == 0 ? null : (long?)l.Id) equals (long?)r.Ref
            select new Pair(l.Id, l.Tag, l.Time, r.Tag, r.Time);

        var expected =
            (from l in lefts.Where(l => l.Tag % 3 != 0)
             join r in rights on (Start(l.Time), l.Id) equals (Start(r.Time), r.Ref)
             select Run.Event(Start(l.Time), Start(l.Time) + Size.Ticks, new Pair(l.Id, l.Tag, l.Time, r.Tag, r.Time))).ToList();
        await AssertBothPlans(Query, batchSize, expected);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 7)]
    [InlineData(3, 4096)]
    public async Task ResultSelectorThrows_BothPlansGiveTheSameEventsThenTheSameError(int seed, int batchSize)
    {
        var data = Generate(seed, disordered: true);
        var lefts = data.Where(e => e.Kind == 0).ToList();
        var rights = data.Where(e => e.Kind == 1).ToList();
        // A key with matches in the middle of the input: its pairs' result selector divides by zero.
        var matched = (from l in lefts join r in rights on (Start(l.Time), l.Id) equals (Start(r.Time), r.Ref) orderby l.Time select l.Id).ToList();
        long bad = matched[matched.Count / 2];
        IQStream<long> Query(QueryOptions options) =>
            from l in Source(lefts, disordered: true, options, "left").TumblingWindow(Size)
            join r in Source(rights, disordered: true, options, "right").TumblingWindow(Size) on l.Id equals r.Ref
            select l.Id + 100 / (l.Id - bad);

        var rewritten = new QueryOptions { Strict = true, BatchSize = batchSize };
        var (joinEvents, joinError) = await EventsUntilError(Query(rewritten with { RewriteSubPlans = false }));
        var (windowEvents, windowError) = await EventsUntilError(Query(rewritten));

        Assert.Contains("TumblingJoinToWindowJoin: applied", Query(rewritten).Explain(), StringComparison.Ordinal);
        Assert.NotNull(joinError);
        Assert.NotNull(windowError);
        Assert.Contains("DivideByZeroException", windowError.ToString(), StringComparison.Ordinal);
        Assert.Equal(joinError.Message, windowError.Message);
        Run.AssertSequence(joinEvents, windowEvents);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 7)]
    [InlineData(3, 4096)]
    public async Task SelectorsThrow_SkipAndDeadLetter_BothPlansGiveTheSameEventsAndDeadLetters(int seed, int batchSize)
    {
        var data = Generate(seed, disordered: true);
        var lefts = data.Where(e => e.Kind == 0).ToList();
        var rights = data.Where(e => e.Kind == 1).ToList();
        IQStream<long> Query(QueryOptions options) =>
            from l in Source(lefts, disordered: true, options, "left").TumblingWindow(Size)
            join r in Source(rights, disordered: true, options, "right").TumblingWindow(Size)
                on l.Id + (0 * 100 / (l.Tag % 5)) equals r.Ref + (0 * 100 / (r.Tag % 7))
            select l.Id + (0 * 100 / ((l.Tag + r.Tag) % 11));

        async Task<(List<StreamEvent<long>> Events, List<DeadLetter> Letters)> RunWith(bool rewrite)
        {
            var letters = new Letters();
            var options = new QueryOptions { BatchSize = batchSize, OnError = ErrorPolicy.SkipAndDeadLetter, DeadLetters = letters, RewriteSubPlans = rewrite };
            Assert.Equal(rewrite, Query(options).Explain().Contains("TumblingJoinToWindowJoin: applied", StringComparison.Ordinal));
            var events = await Run.EventsInStartOrder(Query(options));
            return (events, letters.Items);
        }

        var viaJoin = await RunWith(rewrite: false);
        var viaWindowJoin = await RunWith(rewrite: true);

        Assert.True(viaJoin.Letters.Any(l => l.Record.StartsWith('(')), "the data must hold pairs whose result selector throws");
        Assert.True(viaJoin.Letters.Any(l => l.Record.StartsWith("Ev {", StringComparison.Ordinal)), "the data must hold events whose key selector throws");
        Assert.NotEmpty(viaJoin.Events);
        Run.AssertSequence(viaJoin.Events, viaWindowJoin.Events);
        Assert.Equal(viaJoin.Letters, viaWindowJoin.Letters);
    }

    private static readonly System.Text.RegularExpressions.Regex JoinLine = new(@"^\s*Join:", System.Text.RegularExpressions.RegexOptions.Multiline);

    /// <summary>Both plans: the window join (and no temporal join) in one, the temporal join (and no window join) in the other.</summary>
    private static Task AssertBothPlans<T>(Func<QueryOptions, IQStream<T>> query, int batchSize, List<StreamEvent<T>> expected) =>
        RewriteAssert.BothPlans(query, batchSize, expected, 20, "TumblingJoinToWindowJoin",
            physical =>
            {
                Assert.Contains("WindowJoin: Tumbling", physical, StringComparison.Ordinal);
                Assert.DoesNotMatch(JoinLine, physical);
            },
            unrewritten =>
            {
                string physical = RewriteAssert.PhysicalPart(unrewritten);
                Assert.DoesNotContain("WindowJoin", physical, StringComparison.Ordinal);
                Assert.Matches(JoinLine, physical);
            });

    private static async Task<(List<StreamEvent<T>> Events, Exception? Error)> EventsUntilError<T>(IQStream<T> query)
    {
        var events = new List<StreamEvent<T>>();
        try
        {
            await foreach (var e in query.ToStreamEvents())
            {
                events.Add(e);
            }
        }
        catch (QueryExecutionException ex)
        {
            return (events, ex);
        }

        return (events, null);
    }

    private static IQStream<Ev> Source(List<Ev> data, bool disordered, QueryOptions options, string name) =>
        QStream.From(data, e => e.Time, disordered ? IngressPolicy.Reorder(Disorder) : IngressPolicy.Throw, name).WithOptions(options);

    /// <summary>
    /// About 3,000 events over a few minutes: bursts at one tick (ties), gaps longer than a window (empty windows), ids from a
    /// small set and the extreme values of <c>long</c>, people and auctions mixed; when disordered, each event moved back by up to 1 s.
    /// </summary>
    internal static List<Ev> Generate(int seed, bool disordered)
    {
        var random = new Random(seed);
        long[] hugeKeys = RandomInput.HugeKeys;
        var events = new List<Ev>();
        long time = Origin + random.NextInt64(0, 10 * Second);
        for (int i = 0; i < 3_000; i++)
        {
            time += random.Next(12) switch
            {
                0 => random.NextInt64(3 * Second, 9 * Second), // past a window or more: empty windows
                < 6 => 0,                                        // the same tick as the last event
                _ => random.NextInt64(0, Second / 10),
            };
            long key = RandomInput.Key(random, 5, hugeKeys, 8);
            int kind = random.Next(3) == 0 ? 0 : 1;
            events.Add(new Ev(time, kind, kind == 0 ? key : i, kind == 1 ? key : -7, random.Next(1, 1000)));
        }

        // When disordered, each event moved back by up to the disorder bound, read in that order: Reorder(1 s) restores event time.
        return disordered ? RandomInput.Disordered(events, e => e.Time, Disorder.Ticks, random) : events;
    }

    internal static long Start(long time) => time - ((time - DateTime.UnixEpoch.Ticks) % Size.Ticks);

    private sealed class Letters : IDeadLetterSink
    {
        public List<DeadLetter> Items { get; } = [];

        public void Write(DeadLetter letter)
        {
            lock (Items)
            {
                Items.Add(letter);
            }
        }
    }
}
