using System.Linq.Expressions;
using LinqStream.Physical.Aggregate;
using LinqStream.Physical.Windows;
using LinqStream.Runtime;
using LinqStream.Temporal;
using LinqStream.Testing;
using LinqStream.Tests.Infrastructure;

namespace LinqStream.Tests.Physical.Windows;

public sealed record Reading(long Time, int Key, int Value, string Tag);

public sealed class WindowAggregateTests
{
    private static Reading[] Random(int count, int keys, long spacing, long disorder, int seed, long origin = Ticks.UnixEpoch)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count)
            .Select(i => new Reading(origin + i * spacing - random.NextInt64(0, disorder + 1), random.Next(keys), random.Next(-1000, 1000), "t" + random.Next(5)))
            .ToArray();
    }

    private static List<StreamEvent<TResult>> RunEngine<TKey, TResult>(
        Reading[] input, WindowSpec window, Expression<Func<Reading, TKey>>? key, Expression<Func<IWindowGroup<TKey, Reading>, TResult>> selector,
        int batchSize = 2048, long disorder = 0, bool strict = true)
        where TKey : notnull
    {
        var policy = disorder == 0 ? IngressPolicy.Throw : IngressPolicy.Reorder(TimeSpan.FromTicks(disorder));
        var source = Harness.Source(input, r => r.Time, policy);
        var plan = AggregatePlans.Stream<Reading, TKey, TResult>(source, window, key, selector, strict);
        return Harness.Run(plan, Harness.Options(batchSize)).Events;
    }

    private static List<StreamEvent<TResult>> Expected<TKey, TResult>(Reading[] input, WindowSpec window, Func<Reading, TKey> key, Func<IWindowGroup<TKey, Reading>, TResult> selector)
    {
        var rows = window.Kind == WindowKind.Session
            ? ReferenceWindows.Sessions(input.Select(r => (r.Time, r)), window.Gap, window.MaxDuration, key, selector)
            : ReferenceWindows.Fixed(input.Select(r => (r.Time, r)), window.Size, window.Hop, key, selector);
        return rows.Select(r => window.Kind == WindowKind.Session
            ? new StreamEvent<TResult>(r.End - 1, r.End, r.Result)
            : new StreamEvent<TResult>(r.Start, r.End, r.Result)).ToList();
    }

    private static void AssertSameResults<T>(List<StreamEvent<T>> expected, List<StreamEvent<T>> actual)
    {
        // Inside one window end, results may come in any key order; across ends the order is fixed.
        static List<string> Canon(List<StreamEvent<T>> events) =>
            events.GroupBy(e => e.End).OrderBy(g => g.Key).SelectMany(g => g.Select(e => $"{e.Start}|{e.End}|{e.Payload}").Order(StringComparer.Ordinal)).ToList();
        Assert.Equal(expected.Count, actual.Count);
        Assert.Equal(Canon(expected), Canon(actual));
        Assert.Equal(expected.Select(e => e.End), actual.Select(e => e.End));
    }

    public static TheoryData<int, long> Batches => new() { { 1, 0 }, { 7, 0 }, { 4096, 0 }, { 7, 300 }, { 4096, 300 } };

    [Theory]
    [MemberData(nameof(Batches))]
    public void Tumbling_CountSumMinMaxAverage_MatchesReference(int batchSize, long disorder)
    {
        var input = Random(20_000, 50, 10, disorder, batchSize);
        var window = WindowSpec.Tumbling(1000);
        var actual = RunEngine(input, window, r => r.Key,
            g => new { g.Key, N = g.Count(), L = g.LongCount(), S = g.Sum(r => r.Value), Lo = g.Min(r => r.Value), Hi = g.Max(r => r.Value), A = g.Average(r => r.Value), g.Window.Start },
            batchSize, disorder);
        var ordered = input.OrderBy(r => r.Time).ToArray();
        var expected = Expected(ordered, window, r => r.Key,
            g => new { g.Key, N = g.Count(), L = g.LongCount(), S = g.Sum(r => r.Value), Lo = g.Min(r => r.Value), Hi = g.Max(r => r.Value), A = g.Average(r => r.Value), g.Window.Start });
        AssertSameResults(expected, actual);
    }

    [Theory]
    [MemberData(nameof(Batches))]
    public void Hopping_SizeFiveHops_MatchesReference(int batchSize, long disorder)
    {
        var input = Random(10_000, 20, 10, disorder, batchSize + 1);
        var window = WindowSpec.Hopping(500, 100);
        var actual = RunEngine(input, window, r => r.Key, g => new { g.Key, N = g.Count(), S = g.Sum(r => (long)r.Value) }, batchSize, disorder);
        var expected = Expected(input.OrderBy(r => r.Time).ToArray(), window, r => r.Key, g => new { g.Key, N = g.Count(), S = g.Sum(r => (long)r.Value) });
        AssertSameResults(expected, actual);
    }

    [Fact]
    public void Hopping_SizeNotMultipleOfHop_MatchesReference()
    {
        var input = Random(5000, 3, 7, 0, 3);
        var window = WindowSpec.Hopping(250, 100);
        var actual = RunEngine(input, window, r => r.Key, g => new { g.Key, N = g.Count() }, 64);
        var expected = Expected(input, window, r => r.Key, g => new { g.Key, N = g.Count() });
        AssertSameResults(expected, actual);
    }

    [Fact]
    public void Tumbling_EventOnBoundary_BelongsToNextWindow()
    {
        Reading[] input = [new(Ticks.UnixEpoch + 999, 1, 1, "a"), new(Ticks.UnixEpoch + 1000, 1, 2, "a")];
        var actual = RunEngine<int, int>(input, WindowSpec.Tumbling(1000), r => r.Key, g => g.Sum(r => r.Value));
        Assert.Equal([new(Ticks.UnixEpoch, Ticks.UnixEpoch + 1000, 1), new StreamEvent<int>(Ticks.UnixEpoch + 1000, Ticks.UnixEpoch + 2000, 2)], actual);
    }

    [Fact]
    public void Tumbling_EmptyWindowsBetweenEvents_ProduceNothing()
    {
        Reading[] input = [new(Ticks.UnixEpoch, 1, 1, "a"), new(Ticks.UnixEpoch + 10_000_000, 1, 2, "a")];
        var actual = RunEngine<NoKey, int>(input, WindowSpec.Tumbling(10), null, g => g.Count());
        Assert.Equal(2, actual.Count);
    }

    [Fact]
    public void Tumbling_EmptyInput_ProducesNothingAndCompletes()
    {
        var actual = RunEngine<int, int>([], WindowSpec.Tumbling(10), r => r.Key, g => g.Count());
        Assert.Empty(actual);
    }

    [Theory]
    [InlineData(-1_000_000_000_000_000L)]
    [InlineData(long.MaxValue / 4)]
    [InlineData(0L)]
    public void Tumbling_NegativeAndHugeTimestamps_MatchesReference(long origin)
    {
        var input = Random(3000, 7, 13, 0, 11, origin);
        var window = WindowSpec.Hopping(3000, 1000);
        var actual = RunEngine(input, window, r => r.Key, g => new { g.Key, N = g.Count() }, 100);
        var expected = Expected(input, window, r => r.Key, g => new { g.Key, N = g.Count() });
        AssertSameResults(expected, actual);
    }

    [Trait("Category", "Slow")] // Slow (fast suite skips it): a hundred thousand keys against the reference
    [Fact]
    public void Tumbling_HundredThousandKeys_MatchesReference()
    {
        var input = Random(300_000, 100_000, 1, 0, 5);
        var window = WindowSpec.Tumbling(100_000);
        var actual = RunEngine(input, window, r => r.Key, g => new { g.Key, N = g.Count(), M = g.Max(r => r.Value) });
        var expected = Expected(input, window, r => r.Key, g => new { g.Key, N = g.Count(), M = g.Max(r => r.Value) });
        AssertSameResults(expected, actual);
    }

    [Fact]
    public void Tumbling_WholeWindowWithoutKey_MatchesReference()
    {
        var input = Random(5000, 10, 10, 0, 8);
        var window = WindowSpec.Tumbling(777);
        var actual = RunEngine<NoKey, string>(input, window, null, w => w.Count() + "/" + w.Sum(r => r.Value) + "@" + w.Window.End.Ticks);
        var expected = Expected(input, window, _ => default(NoKey), w => w.Count() + "/" + w.Sum(r => r.Value) + "@" + w.Window.End.Ticks);
        AssertSameResults(expected, actual);
    }

    [Fact]
    public void Tumbling_FilteredCountsDistinctTopKAnyAll_MatchesReference()
    {
        var input = Random(20_000, 30, 10, 0, 21);
        var window = WindowSpec.Tumbling(2000);
        Expression<Func<IWindowGroup<int, Reading>, string>> selector = g =>
            g.Key + ":" + g.Count(r => r.Value > 0) + ":" + g.Where(r => r.Tag == "t1").Sum(r => r.Value)
            + ":" + g.Select(r => r.Tag).Distinct().Count() + ":" + g.Select(r => r.Value % 7).Max()
            + ":" + string.Join(",", g.OrderByDescending(r => r.Value).Take(3).Select(r => r.Value).ToArray())
            + ":" + string.Join(",", g.OrderBy(r => r.Tag).Take(2).Select(r => r.Time).ToArray())
            + ":" + g.Any(r => r.Value > 990) + ":" + g.All(r => r.Value > -1000) + ":" + g.Any();
        var actual = RunEngine(input, window, r => r.Key, selector, 100);
        var expected = Expected(input, window, r => r.Key, selector.Compile());
        AssertSameResults(expected, actual);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(100)]
    [InlineData(4096)]
    public void Hopping_MergedFromPanes_DistinctTopKAverageMinMax_MatchesReference(int batchSize)
    {
        var input = Random(20_000, 30, 10, 0, 23);
        var window = WindowSpec.Hopping(4000, 1000);
        Expression<Func<IWindowGroup<string, Reading>, string>> selector = g =>
            g.Key + ":" + g.Count(r => r.Value > 0) + ":" + g.Select(r => r.Key).Distinct().Count() + ":" + g.Min(r => r.Value) + ":" + g.Max(r => r.Value)
            + ":" + g.Average(r => r.Value) + ":" + string.Join(",", g.OrderByDescending(r => r.Value % 10).Take(3).Select(r => r.Time).ToArray())
            + ":" + g.All(r => r.Value > -990);
        var actual = RunEngine(input, window, r => r.Key % 3 == 0 ? null! : r.Tag, selector, batchSize);
        var expected = Expected(input, window, r => r.Key % 3 == 0 ? null! : r.Tag, selector.Compile());
        AssertSameResults(expected, actual);
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(7, 0)]
    [InlineData(4096, 0)]
    [InlineData(64, 300)]
    public void TopK_BothDirectionsTiesAndExtremeKeys_WholeWindowAndPerKey_MatchesLinq(int batchSize, long disorder)
    {
        // Sort keys with many ties (value % 4), the extremes of long, and groups smaller than k (a per-key window of few events).
        var input = Random(12_000, 40, 10, disorder, 31 + batchSize);
        Expression<Func<IWindowGroup<NoKey, Reading>, string>> whole = w =>
            string.Join(",", w.OrderByDescending(r => r.Value % 4).Take(10).Select(r => r.Time).ToArray())
            + "|" + string.Join(",", w.OrderBy(r => r.Value > 900 ? long.MaxValue : r.Value < -900 ? long.MinValue : (long)r.Value % 3).Take(1).Select(r => r.Time).ToArray())
            + "|" + string.Join(",", w.OrderByDescending(r => r.Value > 900 ? long.MaxValue : r.Value < -900 ? long.MinValue : (long)r.Value % 3).Take(3).Select(r => r.Time).ToArray());
        Expression<Func<IWindowGroup<int, Reading>, string>> perKey = g =>
            g.Key + ":" + string.Join(",", g.OrderBy(r => r.Value % 4).Take(50).Select(r => r.Time).ToArray())
            + "|" + string.Join(",", g.OrderByDescending(r => (long)r.Value * 1_000_000_000_000_000L).Take(2).Select(r => r.Time).ToArray())
            + "|" + string.Join(",", g.OrderBy(r => r.Tag).Take(3).Select(r => r.Time).ToArray());
        var ordered = input.OrderBy(r => r.Time).ToArray();
        foreach (var window in new[] { WindowSpec.Tumbling(1000), WindowSpec.Hopping(3000, 1000) })
        {
            AssertSameResults(Expected(ordered, window, _ => default(NoKey), whole.Compile()), RunEngine(input, window, null, whole, batchSize, disorder));
            AssertSameResults(Expected(ordered, window, r => r.Key, perKey.Compile()), RunEngine(input, window, r => r.Key, perKey, batchSize, disorder));
        }
    }

    [Fact]
    public void Hopping_UserAggregateCannotMerge_FoldsEachWindowAndMatchesReference()
    {
        var input = Random(5000, 10, 10, 0, 37);
        var window = WindowSpec.Hopping(1000, 250);
        var actual = RunEngine<int, long>(input, window, r => r.Key, g => g.Select(r => r.Value).Aggregate(new SumOfSquares()), 64);
        var expected = Expected(input, window, r => r.Key, g => g.Select(r => r.Value).Aggregate(new SumOfSquares()));
        AssertSameResults(expected, actual);
    }

    private readonly struct SumOfSquares : IAggregate<int, long, long>
    {
        public long Initial() => 0;

        public long Add(long state, int input) => state + ((long)input * input);

        public long Result(long state) => state;
    }

    [Fact]
    public void Tumbling_UserAggregate_MatchesReference()
    {
        var input = Random(5000, 10, 10, 0, 31);
        var window = WindowSpec.Tumbling(500);
        var actual = RunEngine<int, long>(input, window, r => r.Key, g => g.Select(r => r.Value).Aggregate(new SumOfSquares()));
        var expected = Expected(input, window, r => r.Key, g => g.Select(r => r.Value).Aggregate(new SumOfSquares()));
        AssertSameResults(expected, actual);
    }

    [Fact]
    public void Tumbling_NoIncrementalForm_BuffersOutsideStrictMode()
    {
        var input = Random(5000, 10, 10, 0, 41);
        var window = WindowSpec.Tumbling(500);
        var actual = RunEngine<int, int>(input, window, r => r.Key, g => g.OrderBy(r => r.Value).Skip(1).Select(r => r.Value).FirstOrDefault(), strict: false);
        var expected = Expected(input, window, r => r.Key, g => g.OrderBy(r => r.Value).Skip(1).Select(r => r.Value).FirstOrDefault());
        AssertSameResults(expected, actual);
    }

    [Fact]
    public void Tumbling_NoIncrementalFormInStrictMode_FailsNamingTheExpressionAndFix()
    {
        var source = Harness.Source(Random(10, 1, 1, 0, 1), r => r.Time);
        Expression<Func<IWindowGroup<int, Reading>, int>> selector = g => g.Skip(1).Count();
        var error = Assert.Throws<QueryTranslationException>(() => AggregatePlans.Stream<Reading, int, int>(source, WindowSpec.Tumbling(10), (Expression<Func<Reading, int>>)(r => r.Key), selector, strict: true));
        Assert.Contains("g.Skip(1)", error.Message, StringComparison.Ordinal);
        Assert.Contains("incremental", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Batches))]
    public void Session_PerKey_MatchesReference(int batchSize, long disorder)
    {
        var random = new Random(batchSize);
        long t = Ticks.UnixEpoch;
        var input = Enumerable.Range(0, 10_000).Select(i => new Reading(t += random.Next(0, 3) == 0 ? random.Next(50, 400) : random.Next(0, 20), random.Next(8), random.Next(100), "x")).ToArray();
        var window = WindowSpec.Session(100, 0);
        var actual = RunEngine(input, window, r => r.Key, g => new { g.Key, N = g.Count(), g.Window.Start, g.Window.End }, batchSize, disorder);
        var expected = Expected(input, window, r => r.Key, g => new { g.Key, N = g.Count(), g.Window.Start, g.Window.End });
        AssertSameResults(expected, actual);
    }

    [Fact]
    public void Session_MaxDuration_CutsLongSessions()
    {
        var input = Enumerable.Range(0, 1000).Select(i => new Reading(Ticks.UnixEpoch + i * 10L, i % 2, 1, "x")).ToArray();
        var window = WindowSpec.Session(100, 1000);
        var actual = RunEngine(input, window, r => r.Key, g => new { g.Key, N = g.Count(), g.Window.Start, g.Window.End }, 64);
        var expected = Expected(input, window, r => r.Key, g => new { g.Key, N = g.Count(), g.Window.Start, g.Window.End });
        AssertSameResults(expected, actual);
        Assert.True(actual.Count >= 20);
    }

    [Fact]
    public void Session_NullKeys_FormTheirOwnSessions()
    {
        var input = Enumerable.Range(0, 100).Select(i => new Reading(Ticks.UnixEpoch + i * 10L, i, 1, i % 3 == 0 ? null! : "k")).ToArray();
        var source = Harness.Source(input, r => r.Time);
        var plan = AggregatePlans.Stream<Reading, string, string>(source, WindowSpec.Session(35, 0), (Expression<Func<Reading, string>>)(r => r.Tag), (Expression<Func<IWindowGroup<string, Reading>, string>>)(g => (g.Key ?? "null") + g.Count()), true);
        var actual = Harness.Run(plan).Events.Select(e => e.Payload).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["k66", "null34"], actual);
    }

    [Fact]
    public void Tumbling_SumOverflows_FailsWithOverflowLikeLinq()
    {
        Reading[] input = [new(Ticks.UnixEpoch, 1, int.MaxValue, "a"), new(Ticks.UnixEpoch + 1, 1, 1, "a")];
        var source = Harness.Source(input, r => r.Time);
        var plan = AggregatePlans.Stream<Reading, int, int>(source, WindowSpec.Tumbling(10), (Expression<Func<Reading, int>>)(r => r.Key), (Expression<Func<IWindowGroup<int, Reading>, int>>)(g => g.Sum(r => r.Value)), true);
        var output = Harness.Run(plan, expectError: true);
        Assert.IsType<OverflowException>(output.Error!.InnerException);
    }

    [Trait("Category", "Slow")] // Slow (fast suite skips it): ten million events
    [Fact]
    public void Tumbling_TenMillionEvents_LiveGroupsStayBoundedByOpenWindows()
    {
        const int Keys = 1000;
        const long Size = 20_000;
        var input = Enumerable.Range(0, 10_000_000).Select(i => new Reading(Ticks.UnixEpoch + i, i % Keys, 1, "x"));
        var source = Harness.Source(input, r => r.Time);
        var plan = AggregatePlans.Stream<Reading, int, int>(source, WindowSpec.Tumbling(Size), (Expression<Func<Reading, int>>)(r => r.Key), (Expression<Func<IWindowGroup<int, Reading>, int>>)(g => g.Count()), true);
        int maxLive = 0, results = 0;
        var execution = QueryExecution.Create(plan, c => new ProbeSink<int>(c, () =>
        {
            var op = (FixedWindowAggregateOperator<Reading, int, int>)c.Operators.Single(o => o is FixedWindowAggregateOperator<Reading, int, int>);
            maxLive = Math.Max(maxLive, op.LiveGroups);
        }, n => results += n), Harness.Options());
        execution.Run();
        Assert.Equal(10_000_000 / (int)Size * Keys, results);
        // A batch of 2,048 consecutive ticks touches at most two 20,000-tick windows: at most 2 x 1,000 groups.
        Assert.InRange(maxLive, Keys, 2 * Keys);
        Assert.Equal(0, execution.Context.OutstandingBatches());
    }

    private sealed class ProbeSink<T>(QueryContext context, Action onWatermark, Action<int> onResults) : IStreamObserver<T>
    {
        public void OnBatch(EventBatch<T> batch)
        {
            onResults(batch.LiveCount());
            context.Pool<T>().Return(batch);
        }

        public void OnWatermark(long watermark) => onWatermark();

        public void OnCompleted()
        {
        }

        public void OnError(Exception error) => throw error;
    }
}
