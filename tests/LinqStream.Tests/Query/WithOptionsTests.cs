using LinqStream.Query;

namespace LinqStream.Tests.Query;

/// <summary>
/// Which <c>WithOptions</c> a query runs with: the outermost (the user's last call), whatever options helpers put on its
/// sources; a query with only inner ones runs with the first the translator meets; none gives the defaults.
/// </summary>
public sealed class WithOptionsTests
{
    private sealed record Reading(long Time, int Sensor, int Value);

    private static readonly Reading[] Data = [new(1, 1, 5), new(2, 2, 7), new(3, 1, 9)];

    private static readonly QueryOptions Inner = new() { BatchSize = 7, Strict = false };

    private static readonly QueryOptions Outer = new() { BatchSize = 300, Strict = true, Parallelism = 2 };

    /// <summary>A source as a helper might build it: with options of its own inside the query.</summary>
    private static IQStream<Reading> Source() => QStream.From(Data, r => r.Time).WithOptions(Inner);

    private static QueryOptions OptionsOf<T>(IQStream<T> query) => QueryCompiler.Compile<T>(query.Expression).Options;

    [Fact]
    public void OuterOptions_WinOverOptionsInsideTheQuery()
    {
        var options = OptionsOf(Source().Where(r => r.Value > 1).Select(r => r.Value).WithOptions(Outer));
        Assert.Equal(Outer, options);
    }

    [Fact]
    public void OuterOptions_WinOverBothSidesOfAJoin()
    {
        var other = QStream.From(Data, r => r.Time).WithOptions(new QueryOptions { BatchSize = 11 });
        var query =
            from a in Source()
            join b in other on a.Sensor equals b.Sensor
            select a.Value + b.Value;
        Assert.Equal(Outer, OptionsOf(query.WithOptions(Outer)));
    }

    [Fact]
    public void OnlyInnerOptions_Apply()
    {
        Assert.Equal(Inner, OptionsOf(Source().Select(r => r.Value)));
    }

    [Fact]
    public void NoOptions_GiveTheDefaults()
    {
        Assert.Equal(QueryOptions.Default, OptionsOf(QStream.From(Data, r => r.Time).Select(r => r.Value)));
    }

    [Fact]
    public async Task OuterParallelism_IsTheOneThatRuns()
    {
        // The benchmark trap that hid q5's P = 1: an outer parallelism over a source with its own options.
        var query =
            from r in Source().TumblingWindow(TimeSpan.FromTicks(2))
            group r by r.Sensor into g
            select new { g.Key, Count = g.Count() };
        Assert.Contains("Stage: 2 tasks", query.WithOptions(Outer).Explain(), StringComparison.Ordinal);
        Assert.DoesNotContain("Stage:", query.Explain(), StringComparison.Ordinal); // the source's own options: parallelism 1
        Assert.Equal(
            (await query.WithOptions(Outer with { Parallelism = 1 }).ToListAsync()).Select(x => x.ToString()),
            (await query.WithOptions(Outer).ToListAsync()).Select(x => x.ToString()));
    }
}
