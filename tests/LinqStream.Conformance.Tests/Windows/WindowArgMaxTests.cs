using LinqStream.Conformance.Tests.Infrastructure;

namespace LinqStream.Conformance.Tests.Windows;

/// <summary>
/// The plan rewrite <c>WindowMaxJoinToArgMax</c> (issue #19): a per-window <c>Max</c> joined back to its own input on the maximum
/// runs as one arg-max operator. Both plans run on the same random input (out of order, empty windows, ties, huge values and
/// keys) and must give the same events, lifetimes and order; both must agree with LINQ to objects.
/// </summary>
public sealed class WindowArgMaxTests
{
    private const long Second = TimeSpan.TicksPerSecond;
    private static readonly long Origin = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;
    private static readonly TimeSpan Size = TimeSpan.FromSeconds(4);
    private static readonly TimeSpan Hop = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Disorder = TimeSpan.FromSeconds(1);

    public sealed record Reading(long Time, long Sensor, long Value, int Small);

    public readonly record struct WindowTop(long Start, long Max);

    public readonly record struct Hit(long Sensor, long Value, long Time, long WindowStart);

    public readonly record struct SensorCount(long Sensor, int Count, long Start);

    public static TheoryData<int, int, bool> Cases() => RandomInput.Cases();

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task ValueJoin_RandomInput_RewrittenPlanGivesTheJoinPlansEvents(int seed, int batchSize, bool disordered)
    {
        var data = Generate(seed, disordered);
        IQStream<Hit> Query(QueryOptions options)
        {
            var readings = Source(data, disordered, options);
            var maxima = readings.TumblingWindow(Size).Select(w => new WindowTop(w.Window.StartTicks, w.Max(r => r.Value)));
            return from r in readings.TumblingWindow(Size)
                   join m in maxima on r.Value equals m.Max
                   select new Hit(r.Sensor, r.Value, r.Time, m.Start);
        }

        var expected =
            (from r in data
             group r by Start(r.Time, Size) into w
             let max = w.Max(r => r.Value)
             from r in w
             where r.Value == max
             select Run.Event(w.Key, w.Key + Size.Ticks, new Hit(r.Sensor, r.Value, r.Time, w.Key))).ToList();
        await AssertBothPlans(Query, batchSize, expected);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task ValueJoin_IntValueWidenedToLong_RewrittenPlanGivesTheJoinPlansEvents(int seed, int batchSize, bool disordered)
    {
        var data = Generate(seed, disordered);
        IQStream<(long Sensor, int Small, long Start)> Query(QueryOptions options)
        {
            var readings = Source(data, disordered, options);
            var maxima = readings.TumblingWindow(Size).Select(w => new { Start = w.Window.StartTicks, Max = (long)w.Max(r => r.Small) });
            return from r in readings.TumblingWindow(Size)
                   join m in maxima on (long)r.Small equals m.Max
                   select ValueTuple.Create(r.Sensor, r.Small, m.Start);
        }

        var expected =
            (from r in data
             group r by Start(r.Time, Size) into w
             let max = w.Max(r => r.Small)
             from r in w
             where r.Small == max
             select Run.Event(w.Key, w.Key + Size.Ticks, (r.Sensor, r.Small, w.Key))).ToList();
        await AssertBothPlans(Query, batchSize, expected);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task WindowStartJoin_HoppingCounts_RewrittenPlanGivesTheJoinPlansEvents(int seed, int batchSize, bool disordered)
    {
        var data = Generate(seed, disordered);
        IQStream<SensorCount> Query(QueryOptions options)
        {
            var counts =
                from r in Source(data, disordered, options).HoppingWindow(Size, Hop)
                group r by r.Sensor into g
                select new SensorCount(g.Key, g.Count(), g.Window.StartTicks);
            var maxima = counts.TumblingWindow(Hop).Select(w => new { Start = w.Window.StartTicks, Max = (long)w.Max(c => c.Count) });
            return from c in counts
                   join m in maxima on c.Start equals m.Start
                   where c.Count == m.Max
                   select c;
        }

        var expected =
            (from r in data
             from start in HoppingStarts(r.Time)
             group r by (start, r.Sensor) into g
             group new SensorCount(g.Key.Sensor, g.Count(), g.Key.start) by g.Key.start into w
             let max = w.Max(c => c.Count)
             from c in w
             where c.Count == max
             select Run.Event(c.Start, c.Start + Hop.Ticks, c)).ToList();
        await AssertBothPlans(Query, batchSize, expected);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task WindowStartJoin_TumblingFilteredCounts_RewrittenPlanGivesTheJoinPlansEvents(int seed, int batchSize, bool disordered)
    {
        var data = Generate(seed, disordered);
        IQStream<(long Sensor, int Positives, long Start)> Query(QueryOptions options)
        {
            var counts =
                from r in Source(data, disordered, options).TumblingWindow(Hop)
                group r by r.Sensor into g
                select new { g.Key, Positives = g.Count(r => r.Small > 0), Start = g.Window.StartTicks };
            var maxima = counts.TumblingWindow(Hop).Select(w => new { Start = w.Window.StartTicks, Max = w.Max(c => c.Positives) });
            return from c in counts
                   join m in maxima on c.Start equals m.Start
                   where m.Max == c.Positives && c.Key != 3
                   select ValueTuple.Create(c.Key, c.Positives, c.Start);
        }

        var expected =
            (from r in data
             group r by (Start: Start(r.Time, Hop), r.Sensor) into g
             group (g.Key.Sensor, Positives: g.Count(r => r.Small > 0), g.Key.Start) by g.Key.Start into w
             let max = w.Max(c => c.Positives)
             from c in w
             where c.Positives == max && c.Sensor != 3
             select Run.Event(c.Start, c.Start + Hop.Ticks, c)).ToList();
        await AssertBothPlans(Query, batchSize, expected);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task WindowStartJoin_AtParallelism2_GivesTheSequentialJoinPlansEvents(int seed)
    {
        var data = Generate(seed, disordered: true);
        IQStream<SensorCount> Query(QueryOptions options)
        {
            var counts =
                from r in Source(data, disordered: true, options).HoppingWindow(Size, Hop)
                group r by r.Sensor into g
                select new SensorCount(g.Key, g.Count(), g.Window.StartTicks);
            var maxima = counts.TumblingWindow(Hop).Select(w => new { Start = w.Window.StartTicks, Max = w.Max(c => c.Count) });
            return from c in counts
                   join m in maxima on c.Start equals m.Start
                   where c.Count == m.Max
                   select c;
        }

        var parallel = new QueryOptions { Strict = true, BatchSize = 16, Parallelism = 2 };
        Assert.Contains("WindowMaxJoinToArgMax: applied", Query(parallel).Explain(), StringComparison.Ordinal);
        var joinPlan = await Run.EventsInStartOrder(Query(new QueryOptions { Strict = true, RewriteSubPlans = false }));
        Run.AssertSequence(joinPlan, await Run.EventsInStartOrder(Query(parallel)));
    }

    /// <summary>Both plans: one <c>WindowArgMax</c> and no join in one, the join (and no <c>WindowArgMax</c>) in the other.</summary>
    private static Task AssertBothPlans<T>(Func<QueryOptions, IQStream<T>> query, int batchSize, List<StreamEvent<T>> expected) =>
        RewriteAssert.BothPlans(query, batchSize, expected, 10, "WindowMaxJoinToArgMax",
            physical =>
            {
                Assert.Contains("WindowArgMax:", physical, StringComparison.Ordinal);
                Assert.DoesNotContain("Join:", physical, StringComparison.Ordinal);
            },
            unrewritten => Assert.DoesNotContain("WindowArgMax", unrewritten, StringComparison.Ordinal));

    private static IQStream<Reading> Source(List<Reading> data, bool disordered, QueryOptions options) =>
        QStream.From(data, r => r.Time, disordered ? IngressPolicy.Reorder(Disorder) : IngressPolicy.Throw, "readings").WithOptions(options);

    /// <summary>
    /// About 3,000 readings over a few minutes: bursts with many ties (values from a small set), gaps longer than a window
    /// (empty windows), the extreme values and keys of <c>long</c>, and, when disordered, each event moved back by up to 1 s.
    /// </summary>
    private static List<Reading> Generate(int seed, bool disordered)
    {
        var random = new Random(seed);
        long[] hugeKeys = [.. RandomInput.HugeKeys, 3];
        var readings = new List<Reading>();
        long time = Origin + random.NextInt64(0, 10 * Second);
        for (int i = 0; i < 3_000; i++)
        {
            time += random.Next(10) == 0 ? random.NextInt64(5 * Second, 20 * Second) : random.NextInt64(0, Second / 20);
            long sensor = RandomInput.Key(random, 4, hugeKeys, 12);
            long value = RandomInput.ExtremeOrSmall(random, 5, 4);
            int small = random.Next(3) == 0 ? int.MaxValue : random.Next(-3, 3);
            readings.Add(new Reading(time, sensor, value, small));
        }

        // When disordered, each event moved back by up to the disorder bound, read in that order: Reorder(1 s) restores event time.
        return disordered ? RandomInput.Disordered(readings, r => r.Time, Disorder.Ticks, random) : readings;
    }

    private static long Start(long time, TimeSpan size) => time - ((time - DateTime.UnixEpoch.Ticks) % size.Ticks);

    private static IEnumerable<long> HoppingStarts(long time)
    {
        long last = Start(time, Hop);
        for (long start = last; start > time - Size.Ticks; start -= Hop.Ticks)
        {
            yield return start;
        }
    }
}
