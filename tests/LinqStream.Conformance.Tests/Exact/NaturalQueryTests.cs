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
}
