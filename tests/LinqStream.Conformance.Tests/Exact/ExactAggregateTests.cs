using LinqStream.Testing;

namespace LinqStream.Conformance.Tests.Exact;

/// <summary>Aggregates give LINQ-to-objects' types and results: empty groups, float sums, overflow at pane edges, -0.0, nullable overloads.</summary>
public sealed class ExactAggregateTests
{
    public static TheoryData<ExecutionMode> Modes => [.. ExecutionMode.All];

    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private sealed record E(int Second, int I, long L, double D, float F, decimal M, int? NI = null, double? ND = null);

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

    private static IQStream<E> Source(E[] events, QueryOptions options) => QStream.From(events, e => T0.AddSeconds(e.Second)).WithOptions(options);

    private static QueryOptions Skip(ExecutionMode mode, Letters letters) =>
        mode.Options with { OnError = ErrorPolicy.SkipAndDeadLetter, DeadLetters = letters };

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Average_EmptyFilteredGroup_DeadLettersThatWindowAndKeyOnly(ExecutionMode mode)
    {
        E[] events = [new(0, 1, 1, 1, 1, 1), new(0, -1, 1, 1, 1, 1), new(1, 5, 1, 1, 1, 1), new(1, -1, 1, 1, 1, 1), new(2, 3, 1, 1, 1, 1)];
        var letters = new Letters();
        var query =
            from e in Source(events, Skip(mode, letters)).TumblingWindow(TimeSpan.FromSeconds(1))
            group e by e.I > 0 into g
            select new { g.Key, Avg = g.Where(e => e.I > 2).Average(e => e.D), AvgM = g.Where(e => e.I > 2).Average(e => e.M) };

        var actual = await query.ToListAsync();

        // Second 0 key true: I=1 only, filtered empty -> dead letter; second 1 key true: 5 -> 1; second 2: 3 -> 1; false groups always empty.
        Assert.Equal([new { Key = true, Avg = 1.0, AvgM = 1m }, new { Key = true, Avg = 1.0, AvgM = 1m }], actual);
        Assert.Equal(3, letters.Items.Count);
        Assert.All(letters.Items, l => Assert.Contains("Sequence contains no elements", l.Reason, StringComparison.Ordinal));
        Assert.Contains(letters.Items, l => l.Reason.Contains("key True", StringComparison.Ordinal) && l.Reason.Contains(T0.ToString("yyyy-MM-ddTHH:mm:ss", System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
    }

    [Fact]
    public async Task Min_EmptyFilteredGroup_UnderFail_ThrowsNamingWindowAndKey()
    {
        E[] events = [new(0, 1, 1, 1, 1, 1), new(1, 5, 1, 1, 1, 1)];
        var query =
            from e in Source(events, ExecutionMode.All[0].Options).TumblingWindow(TimeSpan.FromSeconds(1))
            group e by e.I % 2 into g
            select new { g.Key, Min = g.Where(e => e.I > 2).Min(e => e.L) };

        var error = await Assert.ThrowsAsync<QueryExecutionException>(() => query.ToListAsync());

        Assert.Contains("Sequence contains no elements", error.Message, StringComparison.Ordinal);
        Assert.Contains("key 1", error.Message, StringComparison.Ordinal);
        Assert.Contains("2026-01-01T00:00:00", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task NullableOverloads_EmptyFilteredGroup_GiveNullAsLinq(ExecutionMode mode)
    {
        E[] events = [new(0, 1, 1, 1, 1, 1, NI: null, ND: null), new(0, 2, 1, 1, 1, 1, NI: 4, ND: 2.5), new(1, 3, 1, 1, 1, 1, NI: null, ND: null)];
        var query = Source(events, mode.Options).TumblingWindow(TimeSpan.FromSeconds(1)).Select(w => new
        {
            Sum = w.Sum(e => e.NI),
            Avg = w.Average(e => e.ND),
            AvgI = w.Average(e => e.NI),
            Empty = w.Where(e => e.I > 5).Average(e => (double?)e.D),
            Min = w.Where(e => e.I > 5).Min(e => (long?)e.L),
        });

        var actual = await query.ToListAsync();

        var linq = events.GroupBy(e => e.Second).Select(w => new
        {
            Sum = w.Sum(e => e.NI),
            Avg = w.Average(e => e.ND),
            AvgI = w.Average(e => e.NI),
            Empty = w.Where(e => e.I > 5).Average(e => (double?)e.D),
            Min = w.Where(e => e.I > 5).Min(e => (long?)e.L),
        }).ToList();
        Assert.Equal(linq, actual);
        Assert.Null(actual[1].Avg);
        Assert.Equal(0, actual[1].Sum);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task SumOfFloat_AddsInDoubleAsLinq(ExecutionMode mode)
    {
        E[] events = [new(0, 0, 0, 0, 16777216f, 0), new(0, 0, 0, 0, 1f, 0), new(0, 0, 0, 0, 1f, 0)];
        var query = Source(events, mode.Options).TumblingWindow(TimeSpan.FromSeconds(1)).Select(w => w.Sum(e => e.F));

        var actual = await query.ToListAsync();

        Assert.Equal([events.Sum(e => e.F)], actual);
        Assert.Equal(16777218f, actual[0]);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Average_OfNegativeZero_IsNegativeZeroAsLinq(ExecutionMode mode)
    {
        E[] events = [new(0, 0, 0, -0.0, -0f, 0)];
        var query = Source(events, mode.Options).TumblingWindow(TimeSpan.FromSeconds(1)).Select(w => new { D = w.Average(e => e.D), F = w.Average(e => e.F) });

        var actual = Assert.Single(await query.ToListAsync());

        Assert.True(double.IsNegative(actual.D));
        Assert.True(float.IsNegative(actual.F));
        Assert.True(double.IsNegative(events.Average(e => e.D)));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task HoppingFromPanes_CheckedLongSum_OverflowsExactlyWhereLinqDoes(ExecutionMode mode)
    {
        // Window [0,4): Max, then (pane 2) +1 -> LINQ overflows. Window [2,6): +1, then -Max... no overflow. Window [4,8): fine.
        E[] events =
        [
            new(0, 0, long.MaxValue, 0, 0, 0), new(1, 0, -5, 0, 0, 0), new(2, 0, 10, 0, 0, 0), new(3, 0, long.MinValue, 0, 0, 0),
            new(4, 0, -1, 0, 0, 0), new(5, 0, long.MaxValue, 0, 0, 0), new(6, 0, 1, 0, 0, 0),
        ];
        var letters = new Letters();
        var query = Source(events, Skip(mode, letters)).HoppingWindow(TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(2))
            .Select(w => new { w.Window.Start, Sum = w.Sum(e => e.L) });

        var actual = await query.ToListAsync();

        var expected = new List<object>();
        int overflows = 0;
        for (int s = -2; s <= 6; s += 2)
        {
            var inWindow = events.Where(e => e.Second >= s && e.Second < s + 4).ToList();
            if (inWindow.Count == 0)
            {
                continue;
            }

            try
            {
                expected.Add(new { Start = T0.AddSeconds(s), Sum = inWindow.Sum(e => e.L) }.ToString()!);
            }
            catch (OverflowException)
            {
                overflows++;
            }
        }

        Assert.True(overflows > 0);
        Assert.Equal(expected, actual.Select(a => new { Start = a.Start.UtcDateTime, a.Sum }.ToString()!));
        Assert.Equal(overflows, letters.Items.Count);
        Assert.All(letters.Items, l => Assert.Contains("OverflowException", l.Reason, StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task HoppingFromPanes_DoubleSum_AddsInEventOrderAsLinq(ExecutionMode mode)
    {
        E[] events =
        [
            new(0, 0, 0, double.MaxValue, 0, 0), new(1, 0, 0, double.MaxValue, 0, 0), new(2, 0, 0, -double.MaxValue, 0, 0), new(3, 0, 0, -double.MaxValue, 0, 0),
            new(3, 0, 0, 0.1, 0, 0), new(4, 0, 0, 0.2, 0, 0), new(5, 0, 0, 0.3, 0, 0), new(6, 0, 0, 1e17, 0, 0), new(7, 0, 0, 1, 0, 0),
        ];
        var query = Source(events, mode.Options).HoppingWindow(TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(2))
            .Select(w => new { w.Window.Start, Sum = w.Sum(e => e.D), Avg = w.Average(e => e.D) });

        var actual = await query.ToListAsync();

        var expected = Enumerable.Range(-1, 5).Select(h => h * 2)
            .Select(s => (s, events.Where(e => e.Second >= s && e.Second < s + 4).ToList()))
            .Where(x => x.Item2.Count > 0)
            .Select(x => $"{x.s} {x.Item2.Sum(e => e.D):R} {x.Item2.Average(e => e.D):R}");
        Assert.Equal(expected, actual.Select(a => $"{(a.Start.UtcDateTime - T0).TotalSeconds} {a.Sum:R} {a.Avg:R}"));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task GroupUsedInsideAnotherAggregatesLambda_OutsideStrict_MatchesLinq(ExecutionMode mode)
    {
        E[] events = [new(0, 1, 1, 0, 0, 0), new(0, 3, 1, 0, 0, 0), new(0, 3, 1, 0, 0, 0), new(1, 2, 1, 0, 0, 0)];
        var query = Source(events, mode.Options with { Strict = false }).TumblingWindow(TimeSpan.FromSeconds(1))
            .Select(w => new { AtMax = w.Count(e => e.I == w.Max(x => x.I)), Scaled = w.Sum(e => e.I * w.Count()) });

        var actual = await query.ToListAsync();

        var linq = events.GroupBy(e => e.Second).Select(w => new { AtMax = w.Count(e => e.I == w.Max(x => x.I)), Scaled = w.Sum(e => e.I * w.Count()) });
        Assert.Equal(linq, actual);
    }

    [Fact]
    public async Task GroupUsedInsideAnotherAggregatesLambda_Strict_IsRefusedAtTranslation()
    {
        E[] events = [new(0, 1, 1, 0, 0, 0)];
        var query = Source(events, ExecutionMode.All[0].Options).TumblingWindow(TimeSpan.FromSeconds(1))
            .Select(w => w.Count(e => e.I == w.Max(x => x.I)));

        var error = await Assert.ThrowsAsync<QueryTranslationException>(() => query.ToListAsync());

        Assert.Contains("no incremental form", error.Message, StringComparison.Ordinal);
    }

    private static bool IsBig(E e) => e.I > 2;

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task MethodGroupsAndCapturedFuncs_InsideAggregates_Translate(ExecutionMode mode)
    {
        E[] events = [new(0, 1, 1, 0, 0, 0), new(0, 3, 7, 0, 0, 0), new(0, 4, 9, 0, 0, 0), new(1, 2, 1, 0, 0, 0)];
        Func<E, bool> odd = e => e.I % 2 == 1;
        Func<E, long> value = e => e.L * 2;
        var query = Source(events, mode.Options).TumblingWindow(TimeSpan.FromSeconds(1))
            .Select(w => new { Big = w.Count(IsBig), Odd = w.Count(odd), Sum = w.Sum(value), BigSum = w.Where(IsBig).Sum(e => e.L), AnyBig = w.Any(IsBig) });

        var actual = await query.ToListAsync();

        var linq = events.GroupBy(e => e.Second).Select(w => new { Big = w.Count(IsBig), Odd = w.Count(odd), Sum = w.Sum(value), BigSum = w.Where(IsBig).Sum(e => e.L), AnyBig = w.Any(IsBig) });
        Assert.Equal(linq, actual);
    }
}
