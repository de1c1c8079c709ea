using System.Globalization;
using System.Linq.Expressions;
using System.Text.RegularExpressions;
using LinqStream.Testing;

namespace LinqStream.Conformance.Tests.Exact;

/// <summary>
/// Randomized conformance on edge values: empty filtered groups, overflow at pane edges, NaN/±∞/-0.0, float, decimal, nullable
/// values, composite keys with null members, ties, in tumbling, paned hopping and unpaned hopping windows, at every batch size,
/// fused and unfused. Each aggregate runs as its own query under SkipAndDeadLetter and is compared, per (window, key), with
/// LINQ-to-objects over the same events in event order: either the same value (bit for bit) or the same exception.
/// </summary>
[Trait("Category", "Slow")] // Slow (fast suite skips it): long randomized matrix of edge values over every execution mode
public sealed partial class EdgeValueConformanceTests
{
    private const int Seeds = 4; // the last seed's events end at long.MaxValue ticks

    private static readonly long T0 = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;

    public sealed record Edge(long Time, int? K1, string? K2, bool Keep, int I, long L, double D, float F, decimal M, int? NI, double? ND);

    public readonly record struct Key(int? K1, string? K2);

    public sealed record Out(Key Key, string Value);

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

    public static TheoryData<ExecutionMode, string> Cells
    {
        get
        {
            var data = new TheoryData<ExecutionMode, string>();
            foreach (var mode in ExecutionMode.All)
            {
                foreach (var window in new[] { "tumbling 2s", "hopping 4s/2s", "hopping 3s/2s" })
                {
                    data.Add(mode, window);
                }
            }

            return data;
        }
    }

    /// <summary>Every aggregate checked, each formatted exactly (R for floating point, so -0.0 and NaN show).</summary>
    private static readonly Expression<Func<IWindowGroup<Key, Edge>, string>>[] Cases =
    [
        g => Show(g.Sum(e => e.I)),
        g => Show(g.Sum(e => e.L)),
        g => Show(g.Sum(e => e.D)),
        g => Show(g.Sum(e => e.F)),
        g => Show(g.Sum(e => e.M)),
        g => Show(g.Average(e => e.I)),
        g => Show(g.Average(e => e.L)),
        g => Show(g.Average(e => e.D)),
        g => Show(g.Average(e => e.F)),
        g => Show(g.Where(e => e.Keep).Average(e => e.M)),
        g => Show(g.Where(e => e.Keep).Average(e => e.D)),
        g => Show(g.Where(e => e.Keep).Min(e => e.L)),
        g => Show(g.Where(e => e.Keep).Max(e => e.F)),
        g => Show(g.Min(e => e.D)),
        g => Show(g.Max(e => e.D)),
        g => Show(g.Sum(e => e.NI)),
        g => Show(g.Average(e => e.ND)),
        g => Show(g.Where(e => e.Keep).Average(e => e.NI)),
        g => Show(g.Min(e => e.ND)),
        g => Show(g.Where(e => e.Keep).Sum(e => e.L)),
        g => Show(g.Count(e => e.Keep)),
        g => Show(g.Select(e => e.K2).Distinct().Count()),
        g => Show(g.Aggregate(0L, (a, e) => (a * 31) + e.I)),
        g => Show(g.Where(e => e.Keep).Aggregate(-0.0, (a, e) => a + e.D)),
        g => Show(g.Where(e => e.Keep).Select(e => e.L).Aggregate((a, b) => a - b)),
    ];

    [Theory]
    [MemberData(nameof(Cells))]
    public async Task EveryAggregate_OnEdgeValues_AgreesWithLinqPerWindowAndKey(ExecutionMode mode, string window)
    {
        var (size, hop) = window switch
        {
            "tumbling 2s" => (2L, 2L),
            "hopping 4s/2s" => (4L, 2L),
            _ => (3L, 2L),
        };
        var seen = new HashSet<string>(StringComparer.Ordinal);
        bool reachedTheEnd = false;
        for (int seed = 0; seed < Seeds; seed++)
        {
            var events = Generate(new Random(1400 + seed), nearTheEnd: seed == Seeds - 1);
            reachedTheEnd |= events.Any(e => e.Time == long.MaxValue);
            foreach (var aggregate in Cases)
            {
                var expected = Reference(events, size * TimeSpan.TicksPerSecond, hop * TimeSpan.TicksPerSecond, aggregate.Compile());
                var actual = await RunAsync(events, mode, TimeSpan.FromSeconds(size), TimeSpan.FromSeconds(hop), aggregate);
                seen.UnionWith(expected.Select(line => line[(line.LastIndexOf(' ') + 1)..]));
                Assert.True(expected.SequenceEqual(actual), $"seed {1400 + seed}, {window}, {mode}, '{aggregate}':\nexpected\n  {string.Join("\n  ", expected)}\nactual\n  {string.Join("\n  ", actual)}");
            }
        }

        // The generator reaches the edges it exists for: overflow, empty groups, NaN, infinities, negative zero and null.
        Assert.True(reachedTheEnd, "no event at long.MaxValue ticks");
        Assert.Superset(new HashSet<string>(["OverflowException", "InvalidOperationException", "NaN", "Infinity", "-Infinity", "-0", "null"], StringComparer.Ordinal), seen);
    }

    public static string Show<T>(T value) => value switch
    {
        null => "null",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        IFormattable x => x.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "null",
    };

    private static Edge[] Generate(Random random, bool nearTheEnd)
    {
        int[] ints = [0, 1, -1, 7, int.MaxValue, int.MinValue, int.MaxValue - 1];
        long[] longs = [0, 1, -1, long.MaxValue, long.MinValue, long.MaxValue / 2 + 1, -(long.MaxValue / 2) - 1];
        double[] doubles = [0.0, -0.0, 0.1, 0.2, 1e308, -1e308, double.NaN, double.PositiveInfinity, double.NegativeInfinity, 1e16, 1];
        float[] floats = [0f, -0f, 1f, 16777216f, float.MaxValue, -float.MaxValue, float.NaN, 0.1f];
        decimal[] decimals = [0m, 1m, -1m, 0.1m, decimal.MaxValue, decimal.MinValue, 1e-28m, 79228162514264337593543950334m];
        int count = random.Next(nearTheEnd ? 30 : 0, 50);
        var events = new Edge[count];
        // Near the end, times climb to long.MaxValue ticks and stay there (the last windows end beyond the representable range).
        long time = (nearTheEnd ? long.MaxValue - (8 * TimeSpan.TicksPerSecond) : T0) + (random.Next(4) * TimeSpan.TicksPerSecond);
        for (int i = 0; i < count; i++)
        {
            // Ties are common (several events at one instant); gaps leave windows and panes empty.
            int step = random.Next(6);
            long delta = step < 3 ? 0 : step == 5 ? random.Next(2, 6) * TimeSpan.TicksPerSecond : random.Next(1, (int)TimeSpan.TicksPerSecond);
            time = long.MaxValue - time < delta ? long.MaxValue : time + delta;
            events[i] = new Edge(
                time,
                random.Next(3) == 0 ? null : random.Next(2),
                random.Next(3) == 0 ? null : random.Next(2) == 0 ? "a" : "b",
                random.Next(3) == 0,
                ints[random.Next(ints.Length)],
                longs[random.Next(longs.Length)],
                doubles[random.Next(doubles.Length)],
                floats[random.Next(floats.Length)],
                decimals[random.Next(decimals.Length)],
                random.Next(2) == 0 ? null : ints[random.Next(ints.Length)],
                random.Next(2) == 0 ? null : doubles[random.Next(doubles.Length)]);
        }

        return events;
    }

    private static List<string> Reference(Edge[] events, long size, long hop, Func<IWindowGroup<Key, Edge>, string> aggregate) =>
        ReferenceWindows.Fixed(events.Select(e => (e.Time, e)), size, hop, e => new Key(e.K1, e.K2), g =>
            {
                try
                {
                    return aggregate(g);
                }
                catch (Exception ex) when (ex is OverflowException or InvalidOperationException)
                {
                    return "threw " + ex.GetType().Name;
                }
            })
            .Select(r => Line(r.Start, r.Key, r.Result))
            .Order(StringComparer.Ordinal)
            .ToList();

    private static async Task<List<string>> RunAsync(Edge[] events, ExecutionMode mode, TimeSpan size, TimeSpan hop, Expression<Func<IWindowGroup<Key, Edge>, string>> aggregate)
    {
        var letters = new Letters();
        var options = mode.Options with { OnError = ErrorPolicy.SkipAndDeadLetter, DeadLetters = letters };
        var g = aggregate.Parameters[0];
        var selector = Expression.Lambda<Func<IWindowGroup<Key, Edge>, Out>>(
            Expression.New(typeof(Out).GetConstructor([typeof(Key), typeof(string)])!, Expression.Property(g, nameof(IWindowGroup<Key, Edge>.Key)), aggregate.Body), g);
        var source = QStream.From(events, e => e.Time).WithOptions(options);
        var windowed = size == hop ? source.TumblingWindow(size) : source.HoppingWindow(size, hop);
        var query = windowed.GroupBy(e => new Key(e.K1, e.K2)).Select(selector);
        var lines = new List<string>();
        await foreach (var e in query.ToStreamEvents())
        {
            lines.Add(Line(e.Start, e.Payload.Key, e.Payload.Value));
        }

        foreach (var letter in letters.Items)
        {
            var thrown = ThrownType().Match(letter.Reason);
            Assert.True(thrown.Success, letter.Reason);
            lines.Add(Line(PositionTicks(letter.Position), letter.Record, "threw " + thrown.Groups[1].Value));
        }

        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    /// <summary>A dead letter's position: ISO 8601, or the exact tick count beyond DateTimeOffset's range ("9223372036854775807 ticks").</summary>
    private static long PositionTicks(string position) =>
        position.EndsWith(" ticks", StringComparison.Ordinal)
            ? long.Parse(position.AsSpan(0, position.Length - " ticks".Length), CultureInfo.InvariantCulture)
            : DateTimeOffset.Parse(position, CultureInfo.InvariantCulture).UtcTicks;

    private static string Line(long start, object? key, string value) => FormattableString.Invariant($"{start} {key} {value}");

    [GeneratedRegex(@"threw (\w+):")]
    private static partial Regex ThrownType();
}
