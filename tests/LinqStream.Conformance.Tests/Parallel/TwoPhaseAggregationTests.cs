using LinqStream.Conformance.Tests.Infrastructure;
using LinqStream.Parallel.TwoPhase;
using LinqStream.Testing;
using static LinqStream.Conformance.Tests.Parallel.ParallelOutput;

namespace LinqStream.Conformance.Tests.Parallel;

/// <summary>
/// Keyed window aggregates whose partials merge exactly (counts, counts with a predicate, minimum and maximum of integers) run
/// in two phases at P &gt; 1 (pre-aggregated per source task, merged on the key's task) and give parallelism 1's output byte for
/// byte and in the same order, with one source task (input out of order), one per partition and one per chunk of an array in
/// start order; on random input with ties, empty windows, huge and null keys and one key holding half of the events; and the
/// same results as LINQ to objects. Aggregates that do not merge exactly keep the one-phase plan, and Explain says which.
/// </summary>
public sealed class TwoPhaseAggregationTests
{
    public sealed record Reading(long Time, long Sensor, string? Site, int Value);

    public sealed record Stats(long Sensor, long Count, long Positive, int Min, int Max, long Start, long End);

    public static TheoryData<int, bool> Inputs => new() { { 1, false }, { 2, false }, { 3, true }, { 4, true } };

    private static readonly long Origin = new DateTime(2026, 1, 1).Ticks;

    /// <summary>Random readings, out of order by up to 2 s (unless sorted), many on one tick, extreme keys, sensor 0 with half when skewed, a 6 s gap.</summary>
    private static Reading[] Generate(int seed, bool skewed, int count = 6_000, bool sorted = false)
    {
        var random = new Random(seed);
        var readings = new Reading[count];
        long[] extremes = [long.MinValue, long.MaxValue, -1, 0];
        for (int i = 0; i < count; i++)
        {
            long time = Origin + (i * TimeSpan.TicksPerSecond / 200) - (sorted ? 0 : random.NextInt64(0, 2 * TimeSpan.TicksPerSecond));
            time -= time % (TimeSpan.TicksPerSecond / 20); // ties
            if (i > count / 2)
            {
                time += 6 * TimeSpan.TicksPerSecond; // empty windows
            }

            long sensor = skewed && random.Next(2) == 0 ? 0
                : random.Next(10) == 0 ? extremes[random.Next(extremes.Length)]
                : random.NextInt64(1, 300);
            string? site = random.Next(8) == 0 ? null : "site-" + random.Next(40) + (random.Next(5) == 0 ? "-ü" : string.Empty);
            int value = random.Next(6) == 0 ? (random.Next(2) == 0 ? int.MinValue : int.MaxValue) : random.Next(-1000, 1000);
            readings[i] = new Reading(time, sensor, site, value);
        }

        return readings;
    }

    private static IQStream<Reading> Source(Reading[] data) =>
        QStream.From(data, r => r.Time, IngressPolicy.Reorder(TimeSpan.FromSeconds(2)), "readings");

    /// <summary>The readings dealt round-robin into <paramref name="partitions"/> partitions (each in its order), merged.</summary>
    private static IQStream<Reading> Partitioned(Reading[] data, int partitions)
    {
        var streams = Enumerable.Range(0, partitions)
            .Select(p => QStream.From(data.Where((_, i) => i % partitions == p).ToArray(), r => r.Time, IngressPolicy.Reorder(TimeSpan.FromSeconds(2)), "readings-" + p))
            .ToArray();
        return streams[0].Merge(streams[1..]);
    }

    private static IQStream<Stats> Tumbling(IQStream<Reading> source) =>
        from r in source.TumblingWindow(TimeSpan.FromSeconds(1))
        group r by r.Sensor into g
        select new Stats(g.Key, g.LongCount(), g.Count(r => r.Value > 0), g.Min(r => r.Value), g.Max(r => r.Value), g.Window.StartTicks, g.Window.EndTicks);

    private static Task AssertTwoPhaseSameAsParallelism1<T>(Func<IQStream<T>> query) => AssertSameAsParallelism1(query, [2, 4], "Two-phase:");

    [Theory]
    [MemberData(nameof(Inputs))]
    public async Task Tumbling_OneSourceTask_SameOutputAndOrderAsParallelism1(int seed, bool skewed)
    {
        var data = Generate(seed, skewed);
        await AssertTwoPhaseSameAsParallelism1(() => Tumbling(Source(data)));
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public async Task Tumbling_ThreePartitions_SameOutputAndOrderAsParallelism1(int seed, bool skewed)
    {
        var data = Generate(seed, skewed);
        await AssertTwoPhaseSameAsParallelism1(() => Tumbling(Partitioned(data, 3)));
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public async Task Tumbling_ArrayInStartOrderReadInChunks_SameOutputAndOrderAsParallelism1(int seed, bool skewed)
    {
        var data = Generate(seed, skewed, count: 40_000, sorted: true);
        await AssertTwoPhaseSameAsParallelism1(() => Tumbling(QStream.From(data, r => r.Time, IngressPolicy.Throw, "sorted")));
        Assert.Contains("source tasks", Tumbling(QStream.From(data, r => r.Time)).WithOptions(Options(2)).Explain(), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public async Task Tumbling_MatchesLinqToObjects(int seed, bool skewed)
    {
        var data = Generate(seed, skewed);
        var size = TimeSpan.FromSeconds(1).Ticks;
        var expected = ReferenceWindows.Fixed(data.Select(r => (r.Time, r)), size, size, r => r.Sensor,
                g => new Stats(g.Key, g.LongCount(), g.Count(r => r.Value > 0), g.Min(r => r.Value), g.Max(r => r.Value), 0, 0))
            .Select(r => Run.Event(r.Start, r.End, r.Result with { Start = r.Start, End = r.End })).ToList();
        foreach (int p in new[] { 2, 4 })
        {
            var actual = new List<StreamEvent<Stats>>();
            await foreach (var e in Tumbling(Partitioned(data, 2)).WithOptions(Options(p)).ToStreamEvents())
            {
                actual.Add(e);
            }

            Run.AssertEquivalent(expected, actual);
        }
    }

    /// <summary>
    /// A hopping window whose size is no multiple of its hop has no panes, so it keeps one phase; its counts and integer extremes
    /// do not depend on the order of events, so each task takes its source tasks' events as they come (no ordering union), and
    /// the output is still parallelism 1's, byte for byte and in order, the ordering union's, and LINQ to objects' answer.
    /// </summary>
    [Theory]
    [MemberData(nameof(Inputs))]
    public async Task OnePhaseAsTheyCome_HoppingWithoutPanes_SameOutputAndOrderAsParallelism1AndLinqToObjects(int seed, bool skewed)
    {
        var data = Generate(seed, skewed);
        var size = TimeSpan.FromSeconds(2);
        var hop = TimeSpan.FromMilliseconds(700);
        IQStream<Stats> Query(IQStream<Reading> source) =>
            from r in source.HoppingWindow(size, hop)
            group r by r.Sensor into g
            select new Stats(g.Key, g.LongCount(), g.Count(r => r.Value > 0), g.Min(r => r.Value), g.Max(r => r.Value), g.Window.StartTicks, g.Window.EndTicks);
        await AssertSameAsParallelism1(() => Query(Partitioned(data, 3)), [2, 4], "One phase:", "events of the 2 source tasks as they come (the answer does not depend on their order)");

        string ordered = await Output(Query(Partitioned(data, 3)), Options(4) with { UnorderedTaskInput = false });
        Assert.Equal(ordered, await Output(Query(Partitioned(data, 3)), Options(4)));
        Assert.Contains("union of the 2 source tasks (start, then source task; switched off)", Query(Partitioned(data, 3)).WithOptions(Options(2) with { UnorderedTaskInput = false }).Explain(), StringComparison.Ordinal);

        var expected = ReferenceWindows.Fixed(data.Select(r => (r.Time, r)), size.Ticks, hop.Ticks, r => r.Sensor,
                g => new Stats(g.Key, g.LongCount(), g.Count(r => r.Value > 0), g.Min(r => r.Value), g.Max(r => r.Value), 0, 0))
            .Select(r => Run.Event(r.Start, r.End, r.Result with { Start = r.Start, End = r.End })).ToList();
        var actual = new List<StreamEvent<Stats>>();
        await foreach (var e in Query(Partitioned(data, 3)).WithOptions(Options(4)).ToStreamEvents())
        {
            actual.Add(e);
        }

        Run.AssertEquivalent(expected, actual);
    }

    /// <summary>With two-phase aggregation off, a tumbling count takes the source tasks' events as they come, with parallelism 1's output; an order-dependent aggregate keeps the ordering union and says why.</summary>
    [Theory]
    [MemberData(nameof(Inputs))]
    public async Task OnePhaseAsTheyCome_TumblingWithTwoPhaseOff_SameOutputAndOrderAsParallelism1(int seed, bool skewed)
    {
        var data = Generate(seed, skewed);
        await AssertSameAsParallelism1(() => Tumbling(Partitioned(data, 3)), [2, 4], options => options with { TwoPhaseAggregation = false }, "as they come");
        var sum =
            from r in Partitioned(data, 3).TumblingWindow(TimeSpan.FromSeconds(1))
            group r by r.Sensor into g
            select g.Sum(r => (long)r.Value);
        Assert.Contains("(start, then source task; '", sum.WithOptions(Options(2)).Explain(), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public async Task HoppingPanes_StringKeysWithNulls_SameOutputAsParallelism1AndLinqToObjects(int seed, bool skewed)
    {
        var data = Generate(seed, skewed);
        IQStream<string> Query(IQStream<Reading> source) =>
            from r in source.HoppingWindow(TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(500))
            group r by r.Site into g
            select $"{g.Key ?? "(null)"} {g.Count()} {g.Max(r => r.Value)} {g.Window.StartTicks}";
        await AssertTwoPhaseSameAsParallelism1(() => Query(Partitioned(data, 2)));
        await AssertSitesAsLinqToObjects(data, TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(500), Query, g => $"{g.Key ?? "(null)"} {g.Count()} {g.Max(r => r.Value)} {g.Window.StartTicks}", Options(4));
    }

    /// <summary>Asserts that <paramref name="query"/> over 2 partitions of <paramref name="data"/> gives LINQ to objects' results per hopping window and site (as a multiset).</summary>
    private static async Task AssertSitesAsLinqToObjects(
        Reading[] data, TimeSpan size, TimeSpan hop, Func<IQStream<Reading>, IQStream<string>> query, Func<IWindowGroup<string?, Reading>, string> describe, QueryOptions options)
    {
        var expected = ReferenceWindows.Fixed(data.Select(r => (r.Time, r)), size.Ticks, hop.Ticks, r => r.Site, describe).Select(r => r.Result).Order(StringComparer.Ordinal).ToList();
        var actual = await query(Partitioned(data, 2)).WithOptions(options).ToListAsync();
        Assert.Equal(expected, actual.Order(StringComparer.Ordinal).ToList());
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public async Task CompositeAnonymousKey_SameOutputAndOrderAsParallelism1(int seed, bool skewed)
    {
        var data = Generate(seed, skewed);
        await AssertTwoPhaseSameAsParallelism1(() =>
            from r in Partitioned(data, 4).TumblingWindow(TimeSpan.FromMilliseconds(700))
            group r by new { r.Sensor, r.Site } into g
            select $"{g.Key} {g.Count()} {g.Min(r => (long)r.Value)} {g.Window.EndTicks}");
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public async Task MinimumAlone_TwoWordPartials_SameOutputAndOrderAsParallelism1(int seed, bool skewed)
    {
        // An int minimum alone takes two words (value, presence): its partials are the two-word shape.
        var data = Generate(seed, skewed);
        await AssertTwoPhaseSameAsParallelism1(() =>
            from r in Partitioned(data, 3).HoppingWindow(TimeSpan.FromMilliseconds(900), TimeSpan.FromMilliseconds(300))
            group r by r.Sensor into g
            select $"{g.Key} {g.Min(r => r.Value)} {g.Window.StartTicks}");
    }

    /// <summary>
    /// Runs of one key (the local phase reuses the previous event's slot while the key and the pane stay the same): runs of 1 to 60
    /// events, null-key runs, huge keys, runs that cross a pane's end inside one batch, equal times; hopping panes over 2 partitions,
    /// against parallelism 1 at P = 2 and 4 and batch sizes 1, 64 and 4,096, and against LINQ to objects.
    /// </summary>
    [Theory]
    [InlineData(5)]
    [InlineData(6)]
    public async Task RunsOfOneKey_AcrossPanesAndNullKeys_SameOutputAsParallelism1AndLinqToObjects(int seed)
    {
        var random = new Random(seed);
        var data = new List<Reading>();
        long time = Origin;
        while (data.Count < 8_000)
        {
            string? site = random.Next(6) == 0 ? null : random.Next(10) == 0 ? "site-" + long.MaxValue : "site-" + random.Next(12);
            int run = random.Next(3) == 0 ? 1 : random.Next(2, 61);
            for (int i = 0; i < run; i++)
            {
                time += random.Next(4) == 0 ? 0 : random.Next(1, 3) * TimeSpan.TicksPerMillisecond; // ties, and runs across the 100 ms panes
                data.Add(new Reading(time, 0, site, random.Next(-5, 5)));
            }
        }

        var readings = data.ToArray();
        IQStream<string> Query(IQStream<Reading> source) =>
            from r in source.HoppingWindow(TimeSpan.FromMilliseconds(300), TimeSpan.FromMilliseconds(100))
            group r by r.Site into g
            select $"{g.Key ?? "(null)"} {g.Count()} {g.Count(r => r.Value > 0)} {g.Window.StartTicks}";
        await AssertTwoPhaseSameAsParallelism1(() => Query(Partitioned(readings, 2)));
        await AssertSitesAsLinqToObjects(readings, TimeSpan.FromMilliseconds(300), TimeSpan.FromMilliseconds(100), Query, g => $"{g.Key ?? "(null)"} {g.Count()} {g.Count(r => r.Value > 0)} {g.Window.StartTicks}", Options(2, 4096));
    }

    [Fact]
    public void PartialWords_TheNarrowestStorageForThePlansWords()
    {
        Assert.Equal(typeof(long), PartialWords.TypeFor(1));
        Assert.Equal(typeof(PartialWords2), PartialWords.TypeFor(2));
        Assert.Equal(typeof(PartialWords4), PartialWords.TypeFor(3));
        Assert.Equal(typeof(PartialWords4), PartialWords.TypeFor(4));
        Assert.Equal(typeof(PartialWords8), PartialWords.TypeFor(5));
        Assert.Equal(typeof(PartialWords8), PartialWords.TypeFor(8));
        Assert.Throws<ArgumentOutOfRangeException>(() => PartialWords.TypeFor(9));
        Assert.Equal(8 * 4, System.Runtime.CompilerServices.Unsafe.SizeOf<PartialWords4>());
        Assert.Equal(16, System.Runtime.CompilerServices.Unsafe.SizeOf<PartialGroup<int, long>>());
        var group = new PartialGroup<int, PartialWords4> { Key = 7 };
        PartialGroup<int, PartialWords4>.WordsOf(ref group)[3] = 42;
        Assert.Equal(4, PartialGroup<int, PartialWords4>.WordsOf(ref group).Length);
        Assert.Equal("7: [0, 0, 0, 42]", group.ToString());
    }

    [Fact]
    public async Task ManyKeysInOneWindow_LocalTableShipsEarly_SameOutputAsParallelism1()
    {
        // 90,001 keys in one window, 150,000 events: each source task's table passes its limit and ships before the window closes, and keys it shipped come again.
        var data = Enumerable.Range(0, 150_000).Select(i => new Reading(Origin + i, (i * 7_919L) % 90_001, null, i % 1000)).ToArray();
        await AssertTwoPhaseSameAsParallelism1(() =>
            from r in Partitioned(data, 2).TumblingWindow(TimeSpan.FromSeconds(1))
            group r by r.Sensor into g
            select $"{g.Key} {g.Count()} {g.Max(r => r.Value)}");
    }

    [Fact]
    public async Task KeySelectorThrows_TwoPhase_FailsWithTheMessageOfParallelism1()
    {
        var data = Generate(8, skewed: false, count: 2_000);
        data[1234] = data[1234] with { Value = 0 };
        IQStream<long> Query() =>
            from r in Partitioned(data, 2).TumblingWindow(TimeSpan.FromSeconds(1))
            group r by r.Sensor / r.Value into g
            select g.LongCount();
        var one = await Assert.ThrowsAsync<QueryExecutionException>(() => Query().WithOptions(Options(1)).ToListAsync());
        var two = await Assert.ThrowsAsync<QueryExecutionException>(() => Query().WithOptions(Options(2)).ToListAsync());
        Assert.Contains("Two-phase:", Query().WithOptions(Options(2)).Explain(), StringComparison.Ordinal);
        Assert.Contains("DivideByZeroException", one.Message, StringComparison.Ordinal);
        Assert.Equal(one.Message, two.Message);
    }

    [Fact]
    public void Explain_AggregatesThatDoNotMergeExactly_KeepOnePhaseAndSayWhy()
    {
        var data = Generate(1, skewed: false, count: 10);
        var sum =
            from r in Source(data).TumblingWindow(TimeSpan.FromSeconds(1))
            group r by r.Sensor into g
            select g.Sum(r => r.Value);
        Assert.Contains("One phase: the events cross the exchange ('", sum.WithOptions(Options(2)).Explain(), StringComparison.Ordinal);

        var doubleMax =
            from r in Source(data).TumblingWindow(TimeSpan.FromSeconds(1))
            group r by r.Sensor into g
            select g.Max(r => r.Value * 0.5);
        Assert.Contains("One phase", doubleMax.WithOptions(Options(2)).Explain(), StringComparison.Ordinal);

        var doubleKey =
            from r in Source(data).TumblingWindow(TimeSpan.FromSeconds(1))
            group r by r.Value * 0.5 into g
            select g.Count();
        Assert.Contains("keys of type 'Double' can be equal without being the same", doubleKey.WithOptions(Options(2)).Explain(), StringComparison.Ordinal);

        var session =
            from r in Source(data).SessionWindow(TimeSpan.FromSeconds(1))
            group r by r.Sensor into g
            select g.Count();
        Assert.Contains("session windows are not pre-aggregated", session.WithOptions(Options(2)).Explain(), StringComparison.Ordinal);

        var count =
            from r in Source(data).TumblingWindow(TimeSpan.FromSeconds(1))
            group r by r.Sensor into g
            select g.Count();
        Assert.Contains("Two-phase:", count.WithOptions(Options(2)).Explain(), StringComparison.Ordinal);
        Assert.Contains("switched off", count.WithOptions(Options(2) with { TwoPhaseAggregation = false }).Explain(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task OneAndTwoPhase_GiveTheSameOutput(int seed)
    {
        var data = Generate(seed, skewed: true);
        string one = await Output(Tumbling(Partitioned(data, 3)), Options(4) with { TwoPhaseAggregation = false });
        string two = await Output(Tumbling(Partitioned(data, 3)), Options(4));
        Assert.Equal(one, two);
    }
}
