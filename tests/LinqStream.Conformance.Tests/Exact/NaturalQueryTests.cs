using LinqStream.Testing;

namespace LinqStream.Conformance.Tests.Exact;

/// <summary>Query shapes docs/queries.md suggests, run in strict mode (so a buffered fallback fails) against LINQ over each window.</summary>
public sealed class NaturalQueryTests
{
    public static TheoryData<ExecutionMode> Modes => [.. ExecutionMode.All];

    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    public sealed record E(int Second, int K, int Id, long L, string? S);

    private static E[] Events()
    {
        var random = new Random(14);
        return Enumerable.Range(0, 400).Select(i => new E(i / 40, random.Next(3), i, random.Next(5), random.Next(4) == 0 ? null : "s" + random.Next(4))).ToArray();
    }

    private static IQStream<E> Source(E[] events, ExecutionMode mode) => QStream.From(events, e => T0.AddSeconds(e.Second)).WithOptions(mode.Options);

    private static List<string> Linq<TResult>(E[] events, Func<IGrouping<(int, int), E>, TResult> selector) =>
        events.GroupBy(e => (e.Second / 2, e.K)).Select(g => Show(selector(g))).Order(StringComparer.Ordinal).ToList();

    private static string Show(object? value) => value switch
    {
        System.Collections.IEnumerable list and not string => "[" + string.Join(",", list.Cast<object?>().Select(Show)) + "]",
        _ => value?.ToString() ?? "null",
    };

    private static async Task<List<string>> Actual<TResult>(IQStream<TResult> query) => (await query.ToListAsync()).Select(r => Show(r)).Order(StringComparer.Ordinal).ToList();

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task LetInQuerySyntax_TranslatesIncrementally(ExecutionMode mode)
    {
        var events = Events();
        var query =
            from e in Source(events, mode).TumblingWindow(TimeSpan.FromSeconds(2))
            group e by e.K into g
            let c = g.Count()
            let s = g.Sum(e => e.L)
            select new { g.Key, c, s, Mean = (double)s / c };

        var actual = await Actual(query);

        Assert.Equal(Linq(events, g => new { g.Key.Item2, c = g.Count(), s = g.Sum(e => e.L), Mean = (double)g.Sum(e => e.L) / g.Count() }).Select(x => x.Replace("Item2", "Key", StringComparison.Ordinal)), actual);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task TopKInQuerySyntax_WithThenByTieBreaks_Translates(ExecutionMode mode)
    {
        var events = Events();
        var query =
            from e in Source(events, mode).TumblingWindow(TimeSpan.FromSeconds(2))
            group e by e.K into g
            select new
            {
                Top = string.Join(",", (from x in g orderby x.L descending select x.Id).Take(2)),
                Tie = string.Join(",", g.OrderByDescending(x => x.L).ThenBy(x => x.S).ThenByDescending(x => x.Id).Take(3).Select(x => x.Id)),
            };

        var actual = await Actual(query);

        Assert.Equal(
            Linq(events, g => new
            {
                Top = string.Join(",", (from x in g orderby x.L descending select x.Id).Take(2)),
                Tie = string.Join(",", g.OrderByDescending(x => x.L).ThenBy(x => x.S).ThenByDescending(x => x.Id).Take(3).Select(x => x.Id)),
            }),
            actual);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task MaxByMinByAndDistinctCountWithPredicate_Translate(ExecutionMode mode)
    {
        var events = Events();
        var query =
            from e in Source(events, mode).TumblingWindow(TimeSpan.FromSeconds(2))
            group e by e.K into g
            select new
            {
                Max = g.MaxBy(x => x.L)!.Id,
                Min = g.MinBy(x => x.S)!.Id,
                Distinct = g.Select(x => x.S).Distinct().Count(s => s != "s1"),
            };

        var actual = await Actual(query);

        Assert.Equal(
            Linq(events, g => new { Max = g.MaxBy(x => x.L)!.Id, Min = g.MinBy(x => x.S)!.Id, Distinct = g.Select(x => x.S).Distinct().Count(s => s != "s1") }),
            actual);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task AggregateWithSeed_FoldsInEventOrder_Incrementally(ExecutionMode mode)
    {
        var events = Events();
        var query =
            from e in Source(events, mode).TumblingWindow(TimeSpan.FromSeconds(2))
            group e by e.K into g
            select new
            {
                g.Key,
                Ids = g.Aggregate(string.Empty, (s, x) => s + "," + x.Id),
                Hash = g.Select(x => x.L).Aggregate(17L, (h, l) => (h * 31) + l),
                Diff = g.Select(x => x.Id).Aggregate((a, b) => a - b),
                Len = g.Aggregate(0, (n, x) => n + (x.S ?? string.Empty).Length, n => n * 2),
                Empty = g.Where(x => x.L > 100).Aggregate(-1L, (a, x) => a + x.L),
            };

        var actual = await Actual(query);

        Assert.Equal(
            Linq(events, g => new
            {
                Key = g.Key.Item2,
                Ids = g.Aggregate(string.Empty, (s, x) => s + "," + x.Id),
                Hash = g.Select(x => x.L).Aggregate(17L, (h, l) => (h * 31) + l),
                Diff = g.Select(x => x.Id).Aggregate((a, b) => a - b),
                Len = g.Aggregate(0, (n, x) => n + (x.S ?? string.Empty).Length, n => n * 2),
                Empty = g.Where(x => x.L > 100).Aggregate(-1L, (a, x) => a + x.L),
            }),
            actual);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task AggregateInHoppingWindows_OutOfOrderInput_FoldsEachWindowInStartOrder(ExecutionMode mode)
    {
        // Events arrive up to 3 s out of order; the reorder policy sorts them by start (stable for ties), and each hopping
        // window folds its events in that order (a fold cannot be merged from panes).
        var random = new Random(1414);
        var ordered = Enumerable.Range(0, 600).Select(i => new E(i / 30, random.Next(4), i, random.Next(1000), null)).ToArray();
        var arrived = ordered.Select(e => (e, Arrival: e.Second + random.NextDouble() * 3)).OrderBy(x => x.Arrival).Select(x => x.e).ToArray();
        var query =
            from e in QStream.From(arrived, e => T0.AddSeconds(e.Second), IngressPolicy.Reorder(TimeSpan.FromSeconds(4))).WithOptions(mode.Options)
                .HoppingWindow(TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(2))
            group e by e.K into g
            select new { g.Key, Start = g.Window.Start.Ticks, Ids = g.Aggregate(string.Empty, (s, x) => s + "," + x.Id) };

        var actual = (await query.ToListAsync()).Select(r => $"{r.Start} {r.Key} {r.Ids}").Order(StringComparer.Ordinal).ToList();

        // Event order is start, then arrival: a stable sort of the arrivals by start.
        var byStart = arrived.OrderBy(e => e.Second).ToArray();
        var expected = ReferenceWindows.Fixed(byStart.Select(e => (T0.AddSeconds(e.Second).Ticks, e)), 4 * TimeSpan.TicksPerSecond, 2 * TimeSpan.TicksPerSecond, e => e.K, g => g.Aggregate(string.Empty, (s, x) => s + "," + x.Id))
            .Select(r => $"{r.Start} {r.Key} {r.Result}").Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void AggregateWithSeed_IsAFoldInThePlanNotABuffer()
    {
        var query =
            from e in Source(Events(), ExecutionMode.All[0]).TumblingWindow(TimeSpan.FromSeconds(2))
            group e by e.K into g
            select g.Aggregate(0L, (a, x) => a + x.L);

        string plan = query.Explain();

        Assert.Contains("Aggregate(0, (a, x) => (a + x.L)", plan, StringComparison.Ordinal);
        Assert.DoesNotContain("Buffer", plan, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task GroupWithElementSelector_QuerySyntax_Translates(ExecutionMode mode)
    {
        var events = Events();
        var query =
            from e in Source(events, mode).TumblingWindow(TimeSpan.FromSeconds(2))
            group e.L by e.K into g
            where g.Count() > 1
            select new { g.Key, Sum = g.Sum(), Max = g.Max(), Big = g.Count(l => l > 2), Start = g.Window.Start.Ticks };

        var actual = await Actual(query);

        Assert.Equal(
            events.GroupBy(e => (e.Second / 2, e.K), e => e.L).Where(g => g.Count() > 1)
                .Select(g => Show(new { Key = g.Key.Item2, Sum = g.Sum(), Max = g.Max(), Big = g.Count(l => l > 2), Start = T0.AddSeconds(g.Key.Item1 * 2).Ticks }))
                .Order(StringComparer.Ordinal).ToList(),
            actual);
    }

    [Fact]
    public void GroupWithElementSelector_UsedAsAWholeGroup_IsRefusedWithTheFix()
    {
        var query =
            from e in Source(Events(), ExecutionMode.All[0]).TumblingWindow(TimeSpan.FromSeconds(2))
            group e.L by e.K into g
            select Describe(g);

        var error = Assert.Throws<QueryTranslationException>(() => query.Explain());
        Assert.Contains("group e by key", error.Message, StringComparison.Ordinal);
    }

    private static string Describe(IWindowGroup<int, long> group) => group.Key.ToString(System.Globalization.CultureInfo.InvariantCulture);

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task GroupBySelectMany_TopKPerGroup_Flattens(ExecutionMode mode)
    {
        var events = Events();
        var query =
            from g in Source(events, mode).TumblingWindow(TimeSpan.FromSeconds(2)).GroupBy(e => e.K)
            from x in g.OrderByDescending(e => e.L).ThenBy(e => e.Id).Take(2)
            select new { g.Key, x.Id, x.L, N = g.Count() };
        var plain = Source(events, mode).TumblingWindow(TimeSpan.FromSeconds(2)).GroupBy(e => e.K).SelectMany(g => g.OrderBy(e => e.Id).Take(1));

        var actual = await Actual(query);
        var first = await Actual(plain);

        var groups = events.GroupBy(e => (e.Second / 2, e.K)).ToList();
        Assert.Equal(
            groups.SelectMany(g => g.OrderByDescending(e => e.L).ThenBy(e => e.Id).Take(2), (g, x) => Show(new { Key = g.Key.Item2, x.Id, x.L, N = g.Count() })).Order(StringComparer.Ordinal).ToList(),
            actual);
        Assert.Equal(groups.SelectMany(g => g.OrderBy(e => e.Id).Take(1)).Select(x => Show(x)).Order(StringComparer.Ordinal).ToList(), first);
    }

    [Fact]
    public void GroupBySelectMany_OfTheWholeGroup_IsRefusedInStrictModeAsABuffer()
    {
        var query =
            from g in Source(Events(), ExecutionMode.All[0]).TumblingWindow(TimeSpan.FromSeconds(2)).GroupBy(e => e.K)
            from x in g
            select x.Id;

        var error = Assert.Throws<QueryTranslationException>(() => query.Explain());
        Assert.Contains("buffer", error.Message, StringComparison.OrdinalIgnoreCase);
    }
}
