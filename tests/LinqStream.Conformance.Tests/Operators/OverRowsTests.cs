using LinqStream.Conformance.Tests.Infrastructure;

namespace LinqStream.Conformance.Tests.Operators;

/// <summary>
/// <c>Over(key, rows, keyIdleTimeout, aggregate)</c>, the count-based over-window per key, against LINQ to objects on random input:
/// keys from a small set and the extremes of <c>long</c> (some with fewer events than the window), ties on time and key, values
/// at the ends of <c>long</c>, input in order and out of order (read with <c>Reorder</c>, which keeps the arrival order of equal
/// starts), keys forgotten after the idle timeout, and batches of 1, 7 and 4,096 events.
/// </summary>
public sealed class OverRowsTests
{
    private const int Rows = 4;
    private const long Tick = TimeSpan.TicksPerMillisecond;
    private static readonly DateTime Origin = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    private static readonly TimeSpan Idle = TimeSpan.FromTicks(40 * Tick);

    /// <summary>An event: its key, time, value, and a serial number that tells the rows apart.</summary>
    public readonly record struct Ev(long Key, long Time, long Value, int Id);

    /// <summary>What an over-window saw: the current event's key and id, the rows' count, wrapping sum, and an order-sensitive fold of their ids.</summary>
    public readonly record struct Seen(long Key, int Id, int Count, long Sum, long Ids);

    /// <summary>Folds the rows in order: a different row set or order gives a different <see cref="Seen.Ids"/>.</summary>
    public readonly struct SeenRows : IAggregate<Ev, Seen, Seen>
    {
        public Seen Initial() => default;

        public Seen Add(Seen state, Ev input) =>
            new(input.Key, input.Id, state.Count + 1, unchecked(state.Sum + input.Value), unchecked((state.Ids * 1_000_003) + input.Id + 1));

        public Seen Result(Seen state) => state;
    }

    public static TheoryData<int, int, bool> Cases() => RandomInput.Cases();

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Over_RandomInput_EachEventSeesItsKeysLastRowsInStreamOrder(int seed, int batchSize, bool disordered)
    {
        var expected = await RunAgainstReference(Generate(seed, disordered), batchSize);
        Assert.Contains(expected, e => e.Payload.Count < Rows && e.Payload.Count > 1);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Over_ThousandsOfKeysComingAndGoing_MatchesLinqToObjects(int seed, int batchSize, bool disordered)
    {
        var expected = await RunAgainstReference(GenerateManyKeys(seed, disordered), batchSize);
        Assert.True(expected.Count(e => e.Payload.Count == 1) > expected.Count / 4);
    }

    /// <summary>Runs <c>Over(e.Key, Rows, Idle, SeenRows)</c> over the input and compares it with <see cref="Reference"/>, which it returns; some windows must be full.</summary>
    private static async Task<List<StreamEvent<Seen>>> RunAgainstReference((List<Ev> Arrival, IngressPolicy? Policy) input, int batchSize)
    {
        var query = QStream.From(input.Arrival, e => e.Time, input.Policy, "events")
            .Over(e => e.Key, Rows, Idle, new SeenRows())
            .WithOptions(new QueryOptions { BatchSize = batchSize, Strict = true });

        var actual = await Run.EventsInStartOrder(query);

        var expected = Reference(input.Arrival, e => e.Key, Rows, Idle.Ticks);
        Assert.Contains(expected, e => e.Payload.Count == Rows);
        Run.AssertSequence(expected, actual);
        return expected;
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 7)]
    [InlineData(3, 4096)]
    public async Task Over_IntAndCompositeKeys_MatchLinqToObjects(int seed, int batchSize)
    {
        // An int key (the open-addressing table) and an anonymous-type key (a dictionary), over the same events.
        var (arrival, policy) = GenerateManyKeys(seed, disordered: true);
        var options = new QueryOptions { BatchSize = batchSize, Strict = true };
        var byInt = await Run.EventsInStartOrder(
            QStream.From(arrival, e => e.Time, policy, "events").Over(e => (int)(e.Key >> 1), Rows, Idle, new SeenRows()).WithOptions(options));
        var byComposite = await Run.EventsInStartOrder(
            QStream.From(arrival, e => e.Time, policy, "events").Over(e => new { Rest = e.Key % 7, Big = e.Key > 100 }, Rows, Idle, new SeenRows()).WithOptions(options));

        Run.AssertSequence(Reference(arrival, e => (int)(e.Key >> 1), Rows, Idle.Ticks), byInt);
        Run.AssertSequence(Reference(arrival, e => new { Rest = e.Key % 7, Big = e.Key > 100 }, Rows, Idle.Ticks), byComposite);
    }

    [Theory]
    [InlineData(4, 1)]
    [InlineData(5, 7)]
    [InlineData(6, 4096)]
    public async Task Over_AggregateThrows_SkippedEventIsDeadLetteredAndNoRowOfItsKey(int seed, int batchSize)
    {
        var (arrival, policy) = Generate(seed, disordered: true);
        var letters = new Letters();
        var query = QStream.From(arrival, e => e.Time, policy, "events")
            .Over(e => e.Key, Rows, Idle, new ThrowsOnValue(11))
            .WithOptions(new QueryOptions { BatchSize = batchSize, Strict = true, OnError = ErrorPolicy.SkipAndDeadLetter, DeadLetters = letters });

        var actual = await Run.EventsInStartOrder(query);

        var kept = arrival.Where(e => !ThrowsOnValue.Fails(e, 11)).ToList();
        Assert.True(kept.Count < arrival.Count);
        Run.AssertSequence(Reference(kept, e => e.Key, Rows, Idle.Ticks), actual);
        Assert.Equal(arrival.Count - kept.Count, letters.Items.Count);
        Assert.All(letters.Items, l => Assert.Contains("Over", l.Source + " " + l.Reason, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Over_AggregateThrowsUnderFail_StopsTheQueryNamingOver()
    {
        Ev[] input = [new(1, 10, 5, 0), new(1, 11, 22, 1), new(2, 12, 3, 2)];
        var query = QStream.From(input, e => e.Time).Over(e => e.Key, Rows, Idle, new ThrowsOnValue(11));

        var error = await Assert.ThrowsAsync<QueryExecutionException>(() => query.ToListAsync());

        Assert.Contains("Over", error.Message, StringComparison.Ordinal);
        Assert.IsType<InvalidOperationException>(error.InnerException);
    }

    /// <summary><see cref="SeenRows"/>, but <c>Add</c> throws for an event whose value is a non-zero multiple of the divisor (so such an event is never a row).</summary>
    public readonly struct ThrowsOnValue(long divisor) : IAggregate<Ev, Seen, Seen>
    {
        public static bool Fails(Ev e, long divisor) => e.Value != 0 && e.Value % divisor == 0;

        public Seen Initial() => default;

        public Seen Add(Seen state, Ev input) => Fails(input, divisor) ? throw new InvalidOperationException($"value {input.Value}") : new SeenRows().Add(state, input);

        public Seen Result(Seen state) => state;
    }

    private sealed class Letters : IDeadLetterSink
    {
        public List<DeadLetter> Items { get; } = [];

        public void Write(DeadLetter letter) => Items.Add(letter);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 7)]
    [InlineData(3, 4096)]
    public async Task Over_NullableStringKeys_NullIsAKeyOfItsOwn(int seed, int batchSize)
    {
        var (arrival, policy) = Generate(seed, disordered: true);
        static string? KeyOf(Ev e) => e.Key % 3 == 0 ? null : e.Key.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var query = QStream.From(arrival, e => e.Time, policy, "events")
            .Over(e => e.Key % 3 == 0 ? null : e.Key.ToString(System.Globalization.CultureInfo.InvariantCulture), 2, Idle, new SeenRows())
            .WithOptions(new QueryOptions { BatchSize = batchSize, Strict = true });

        var actual = await Run.EventsInStartOrder(query);

        Run.AssertSequence(Reference(arrival, KeyOf, 2, Idle.Ticks), actual);
    }

    [Fact]
    public async Task Over_OneRow_IsTheEventAlone_AndNeverForgetting_KeepsEveryKey()
    {
        var (arrival, policy) = Generate(4, disordered: false);
        var one = await QStream.From(arrival, e => e.Time, policy).Over(e => e.Key, 1, Idle, new SeenRows()).ToListAsync();
        Assert.Equal(arrival.OrderBy(e => e.Time).Select(e => new SeenRows().Add(default, e)), one);

        var never = await Run.EventsInStartOrder(QStream.From(arrival, e => e.Time, policy).Over(e => e.Key, Rows, TimeSpan.MaxValue, new SeenRows()));
        Run.AssertSequence(Reference(arrival, e => e.Key, Rows, long.MaxValue), never);
    }

    [Fact]
    public async Task Over_EmptyInput_GivesNothing()
    {
        var results = await QStream.From(Array.Empty<Ev>(), e => e.Time).Over(e => e.Key, Rows, Idle, new SeenRows()).ToListAsync();
        Assert.Empty(results);
    }

    [Fact]
    public async Task Over_Lifetimes_AreTheEventsOwn()
    {
        Ev[] input = [new(1, 10, 5, 0), new(1, 10, 6, 1), new(2, 12, 7, 2), new(1, 30, 8, 3)];
        var query = QStream.From(input, e => e.Time).WithLifetime(e => e.Time, e => e.Time + 100).Over(e => e.Key, 2, TimeSpan.FromTicks(15), new SeenRows());

        var actual = await Run.EventsInStartOrder(query);

        // Event 3 comes 20 ticks after key 1's latest event (10), past the 15-tick idle timeout: it sees only itself.
        Assert.Equal(
            [(10L, 110L, 0, 1, 5L), (10L, 110L, 1, 2, 11L), (12L, 112L, 2, 1, 7L), (30L, 130L, 3, 1, 8L)],
            actual.Select(e => (e.Start, e.End, e.Payload.Id, e.Payload.Count, e.Payload.Sum)));
    }

    [Fact]
    public async Task Over_AtParallelism2_GivesTheSequentialOutput()
    {
        var (arrival, policy) = Generate(5, disordered: true);
        IQStream<Seen> Query(int parallelism) =>
            QStream.From(arrival, e => e.Time, policy, "events").Over(e => e.Key, Rows, Idle, new SeenRows())
                .WithOptions(new QueryOptions { BatchSize = 64, Strict = true, Parallelism = parallelism });

        var sequential = await Run.EventsInStartOrder(Query(1));
        var parallel = await Run.EventsInStartOrder(Query(2));

        Run.AssertSequence(Reference(arrival, e => e.Key, Rows, Idle.Ticks), sequential);
        Run.AssertSequence(sequential, parallel);
    }

    [Fact]
    public void Over_InvalidArguments_AreRefusedAtTheCall()
    {
        var source = QStream.From(Array.Empty<Ev>(), e => e.Time);
        Assert.Throws<ArgumentOutOfRangeException>(() => source.Over(e => e.Key, 0, Idle, new SeenRows()));
        Assert.Throws<ArgumentOutOfRangeException>(() => source.Over(e => e.Key, Rows, TimeSpan.Zero, new SeenRows()));
        Assert.Throws<ArgumentNullException>(() => source.Over(e => e.Key, Rows, Idle, (IAggregate<Ev, Seen, Seen>)null!));
    }

    [Fact]
    public async Task Over_KeySelectorThrows_StopsTheQueryNamingOver()
    {
        Ev[] input = [new(1, 10, 5, 0), new(0, 11, 6, 1)];
        var query = QStream.From(input, e => e.Time).Over(e => 10 / e.Key, Rows, Idle, new SeenRows());

        var error = await Assert.ThrowsAsync<QueryExecutionException>(() => query.ToListAsync());

        Assert.Contains("Over", error.Message, StringComparison.Ordinal);
        Assert.IsType<DivideByZeroException>(error.InnerException);
    }

    [Fact]
    public void Over_Explain_NamesTheOperatorAndItsRows()
    {
        string plan = QStream.From(Array.Empty<Ev>(), e => e.Time).Over(e => e.Key, Rows, Idle, new SeenRows()).Explain();
        Assert.Contains("Over", plan, StringComparison.Ordinal);
        Assert.Contains("rows: 4", plan, StringComparison.Ordinal);
    }

    /// <summary>
    /// LINQ to objects: the events in start order (equal starts in arrival order, as <c>Reorder</c> keeps them); per key, the rows
    /// since it was last forgotten (an event at least <paramref name="idle"/> after the key's previous one starts afresh); each event
    /// folds the last <paramref name="rows"/> of them, itself last, and lives as the input event did.
    /// </summary>
    private static List<StreamEvent<Seen>> Reference<TKey>(IReadOnlyList<Ev> arrival, Func<Ev, TKey> key, int rows, long idle)
    {
        var perKey = new Dictionary<string, (long Last, List<Ev> Rows)>(StringComparer.Ordinal);
        var expected = new List<StreamEvent<Seen>>();
        foreach (var e in arrival.OrderBy(e => e.Time))
        {
            string k = key(e)?.ToString() ?? "<null>";
            if (!perKey.TryGetValue(k, out var state) || (e.Time - state.Last) >= idle)
            {
                state = (e.Time, []);
            }

            state.Rows.Add(e);
            perKey[k] = (e.Time, state.Rows);
            var seen = state.Rows.Skip(Math.Max(0, state.Rows.Count - rows)).Aggregate(new SeenRows());
            expected.Add(Run.Event(e.Time, e.Time + 1, seen));
        }

        return expected;
    }

    /// <summary>
    /// 3,000 events over about 20 s: eight small keys and the extremes of <c>long</c> (rare, so some have fewer events than the
    /// window), times on a coarse grid (ties, also within a key), gaps that exceed the idle timeout, values that tie or sit at the
    /// ends of <c>long</c>; out of order by up to 30 ms when <paramref name="disordered"/>.
    /// </summary>
    private static (List<Ev> Arrival, IngressPolicy? Policy) Generate(int seed, bool disordered)
    {
        var random = new Random(seed);
        var generated = new List<Ev>();
        long time = Origin.Ticks;
        for (int i = 0; i < 3_000; i++)
        {
            time += random.Next(10) switch
            {
                0 => 60 * Tick, // a pause longer than the idle timeout
                < 5 => 0,       // a tie with the previous event
                _ => Tick * random.Next(1, 3),
            };
            generated.Add(new Ev(RandomInput.Key(random, 40, RandomInput.HugeKeys, 8), time, RandomInput.ExtremeOrSmall(random, 20, 50), i));
        }

        return Arrive(generated, disordered, random);
    }

    /// <summary>
    /// 12,000 events about 0.1 ms apart (ties too): half of them on 20 hot keys (each seen every ~4 ms, so their windows fill), half on
    /// 3,000 cold keys and the extremes of <c>long</c> (each seen every ~0.5 s, idle in between: a slot freed and reused per event),
    /// and a pause past the idle timeout once in 1,000 events; out of order by up to 30 ms when <paramref name="disordered"/>.
    /// </summary>
    private static (List<Ev> Arrival, IngressPolicy? Policy) GenerateManyKeys(int seed, bool disordered)
    {
        var random = new Random(seed);
        var generated = new List<Ev>();
        long time = Origin.Ticks;
        for (int i = 0; i < 12_000; i++)
        {
            time += random.Next(1_000) switch
            {
                0 => 60 * Tick,
                < 400 => 0,
                _ => Tick / 10 * random.Next(1, 3),
            };
            long key = random.Next(2) == 0 ? 1_000_000 + random.Next(20) : RandomInput.Key(random, 40, RandomInput.HugeKeys, 3_000);
            generated.Add(new Ev(key, time, RandomInput.ExtremeOrSmall(random, 20, 50), i));
        }

        return Arrive(generated, disordered, random);
    }

    private static (List<Ev> Arrival, IngressPolicy? Policy) Arrive(List<Ev> generated, bool disordered, Random random)
    {
        if (!disordered)
        {
            return (generated, null);
        }

        long disorder = 30 * Tick;
        return (RandomInput.Disordered(generated, e => e.Time, disorder, random), IngressPolicy.Reorder(TimeSpan.FromTicks(disorder)));
    }
}
