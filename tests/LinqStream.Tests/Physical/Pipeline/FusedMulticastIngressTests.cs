using System.Collections.ObjectModel;
using LinqStream.Benchmarks.Scenarios.Nexmark;
using LinqStream.Query;
using LinqStream.Runtime;
using LinqStream.Runtime.Egress;
using LinqStream.Runtime.Ingress;
using LinqStream.Testing.Nexmark;
using LinqStream.Tests.Infrastructure;

namespace LinqStream.Tests.Physical.Pipeline;

/// <summary>
/// Issue #19 (speed10): the fused ingress over a source multicast to several filter/projection chains (NEXMark q3 and q8: people
/// and auctions split off one event stream) and over lists (<c>List&lt;T&gt;</c> and any <c>IReadOnlyList&lt;T&gt;</c>). Every run
/// is checked against LINQ to objects over the whole input (after the ingress policy) and against the same query with
/// <c>Fuse = false</c>: the same events in the same order, the same late counts and errors; and a run cut at a checkpoint and
/// restored gives the uninterrupted run's events.
/// </summary>
public sealed class FusedMulticastIngressTests
{
    private const long Window = 500;

    /// <summary>An input event: a time, a kind (0 a person, 1 an auction, 2 a bid), a key (also at both ends of long) and a value 0..99.</summary>
    public sealed record Ev(long Time, int Kind, long Key, int Value);

    /// <summary>q3's result: a seller and an item of theirs sold while they are registered.</summary>
    public readonly record struct Match(long Key, long SellerTime, long ItemTime, int ItemValue);

    /// <summary>q8's intermediate row: a key that sold in a window.</summary>
    public readonly record struct SellerInWindow(long Key, long WindowStart);

    /// <summary>q8's result: a person whose key also sold in the person's window.</summary>
    public readonly record struct NewUser(long Key, long Time, long WindowStart);

    /// <summary>A q5-shaped result: the key(s) with the most bids of a hopping window.</summary>
    public readonly record struct HotKey(long Key, int Count, long WindowStart, long WindowEnd);

    /// <summary>Where the events come from: an array (read in place), a <c>List&lt;T&gt;</c> or another <c>IReadOnlyList&lt;T&gt;</c> (a slice copied first).</summary>
    public enum SourceKind
    {
        Array,
        List,
        ReadOnlyList,

        /// <summary>An iterator that is not a list: never fused at the ingress (a baseline).</summary>
        Enumerable,
    }

    public static TheoryData<int, SourceKind> BatchSizesAndSources()
    {
        var data = new TheoryData<int, SourceKind>();
        foreach (int batchSize in (int[])[1, 64, 4096])
        {
            foreach (var kind in (SourceKind[])[SourceKind.Array, SourceKind.List, SourceKind.ReadOnlyList])
            {
                data.Add(batchSize, kind);
            }
        }

        return data;
    }

    public static TheoryData<int, IngressPolicyKind> BatchSizesAndLatePolicies()
    {
        var data = new TheoryData<int, IngressPolicyKind>();
        foreach (int batchSize in (int[])[1, 64, 4096])
        {
            data.Add(batchSize, IngressPolicyKind.Drop);
            data.Add(batchSize, IngressPolicyKind.Adjust);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(BatchSizesAndSources))]
    public void Q3Shape_TwoChainsOfOneSource_MatchLinqToObjectsAndTheUnfusedRun(int batchSize, SourceKind kind)
    {
        var input = Events(12_000, seed: batchSize * 13 + (int)kind);
        var (fused, unfused) = AssertSameAsUnfused(input, kind, IngressPolicy.Throw, batchSize, Q3);
        AssertSameMultiset(Q3Model(AtTheirTimes(input)), fused.Payloads);
        Assert.Equal(input.Length, fused.FusedEvents);
        Assert.Equal(0, unfused.FusedEvents);
    }

    [Theory]
    [MemberData(nameof(BatchSizesAndSources))]
    public void Q8Shape_TwoWindowedChainsOfOneSource_WithEmptyWindows_MatchLinqToObjectsAndTheUnfusedRun(int batchSize, SourceKind kind)
    {
        var input = Events(12_000, seed: batchSize * 17 + (int)kind, gaps: true);
        var (fused, _) = AssertSameAsUnfused(input, kind, IngressPolicy.Throw, batchSize, Q8);
        var expected = Q8Model(input);
        Assert.NotEmpty(expected);
        AssertSameMultiset(expected, fused.Payloads);
        Assert.Equal(input.Length, fused.FusedEvents);
    }

    [Theory]
    [MemberData(nameof(BatchSizesAndSources))]
    public void Q5Shape_OneChainOverAnArrayOrList_MatchesLinqToObjectsAndTheUnfusedRun(int batchSize, SourceKind kind)
    {
        var input = Events(12_000, seed: batchSize * 19 + (int)kind, gaps: true);
        var (fused, _) = AssertSameAsUnfused(input, kind, IngressPolicy.Throw, batchSize, Q5);
        AssertSameMultiset(Q5Model(input), fused.Payloads);
        Assert.Equal(input.Length, fused.FusedEvents);
    }

    [Theory]
    [MemberData(nameof(BatchSizesAndLatePolicies))]
    public void LateEvents_InAMulticastSource_TakeThePolicyAsTheUnfusedIngressDoes(int batchSize, IngressPolicyKind late)
    {
        var input = Events(12_000, seed: batchSize * 23 + (int)late, latePer1000: 4);
        var policy = late == IngressPolicyKind.Drop ? IngressPolicy.Drop : IngressPolicy.Adjust;
        var fusedStats = new IngressStatistics();
        var unfusedStats = new IngressStatistics();
        var fused = Run(Q3(Source(input, SourceKind.Array, policy.WithStatistics(fusedStats), batchSize, fuse: true)));
        var unfused = Run(Q3(Source(input, SourceKind.Array, policy.WithStatistics(unfusedStats), batchSize, fuse: false)));

        var (ingested, lateCount) = Ingested(input, late);
        Assert.True(lateCount > 10, "the input must have late events");
        Assert.Equal(unfused.Sink.Events, fused.Sink.Events);
        Assert.Equal(unfused.Sink.Watermarks, fused.Sink.Watermarks);
        AssertSameMultiset(Q3Model(ingested), fused.Payloads);
        Assert.Equal((lateCount, (long)input.Length), (fusedStats.Late, fusedStats.Events));
        Assert.Equal((unfusedStats.Late, unfusedStats.Dropped, unfusedStats.Adjusted, unfusedStats.Events), (fusedStats.Late, fusedStats.Dropped, fusedStats.Adjusted, fusedStats.Events));
        Assert.Equal(input.Length, fused.EventsRead);

        // The batches without a late event went through the fused chains, the others through the ordinary path.
        Assert.Equal(InOrderBatchEvents(input, batchSize), fused.FusedEvents);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(64)]
    [InlineData(4096)]
    public void LateEvent_UnderThrow_FailsAtTheSamePositionAfterTheSameEvents(int batchSize)
    {
        var input = Events(6_000, seed: 29);
        input[4_321] = input[4_321] with { Time = input[4_320].Time - 7 };
        var fused = Run(Q8(Source(input, SourceKind.List, IngressPolicy.Throw, batchSize, fuse: true)), expectError: true);
        var unfused = Run(Q8(Source(input, SourceKind.List, IngressPolicy.Throw, batchSize, fuse: false)), expectError: true);

        var error = Assert.IsType<LateEventException>(fused.Sink.Error);
        Assert.Equal(4_321, error.Position);
        Assert.Equal(unfused.Sink.Error!.Message, error.Message);
        Assert.Equal(unfused.Sink.Events, fused.Sink.Events);
        Assert.Equal(unfused.Sink.Watermarks, fused.Sink.Watermarks);
        Assert.Equal(4_321 / batchSize * batchSize, fused.FusedEvents);
    }

    [Fact]
    public void OneChainThrows_FailsAsTheUnfusedMulticastDoes()
    {
        var input = Events(6_000, seed: 31);
        int index = Array.FindIndex(input, 2_500, e => e.Kind == 1);
        var target = input[index];
        IQStream<int> Query(IQStream<Ev> events) =>
            events.Where(e => e.Kind == 0).Select(e => e.Value)
                .Union(events.Where(e => e.Kind == 1).Select(e => ReferenceEquals(e, target) ? 1 / (e.Value - e.Value) : e.Value));
        var fused = Run(Query(Source(input, SourceKind.Array, IngressPolicy.Throw, 256, fuse: true)), expectError: true);
        var unfused = Run(Query(Source(input, SourceKind.Array, IngressPolicy.Throw, 256, fuse: false)), expectError: true);

        // Fuse = false also leaves Where and Select apart (another operator names the error), so the same plan over a sequence that
        // is not a list (never fused at the ingress) is the baseline of the error.
        var enumerated = Run(Query(Source(input, SourceKind.Enumerable, IngressPolicy.Throw, 256, fuse: true)), expectError: true);
        var error = Assert.IsType<QueryExecutionException>(fused.Sink.Error);
        Assert.IsType<DivideByZeroException>(error.InnerException);
        Assert.Equal(enumerated.Sink.Error!.Message, error.Message);
        Assert.Equal(((QueryExecutionException)enumerated.Sink.Error).Operator, error.Operator);
        Assert.Equal(0, enumerated.FusedEvents);
        Assert.Equal(enumerated.Sink.Events, fused.Sink.Events);
        Assert.Equal(unfused.Sink.Events, fused.Sink.Events);
        Assert.IsType<DivideByZeroException>(unfused.Sink.Error!.InnerException);
        Assert.Equal(index / 256 * 256, fused.FusedEvents); // the slices before the throwing one
        Assert.NotEmpty(fused.Sink.Events);
    }

    [Fact]
    public void AConsumerThatIsNotAChain_KeepsTheMulticastUnfused()
    {
        // The raw events next to a chain: the multicast copies or lends the batch as before, and the answer is LINQ to objects'.
        var input = Events(5_000, seed: 37);
        var events = Source(input, SourceKind.Array, IngressPolicy.Throw, 128, fuse: true);
        var outcome = Run(
            events.TumblingWindow(TimeSpan.FromTicks(Window)).Select(w => w.Count())
                .Union(events.Where(e => e.Kind == 0).TumblingWindow(TimeSpan.FromTicks(Window)).Select(w => w.Count())));
        Assert.Equal(0, outcome.FusedEvents);
        List<int> expected =
        [
            .. input.GroupBy(e => e.Time / Window).Select(g => g.Count()),
            .. input.Where(e => e.Kind == 0).GroupBy(e => e.Time / Window).Select(g => g.Count()),
        ];
        AssertSameMultiset(expected, outcome.Payloads);
    }

    [Theory]
    [InlineData(64, SourceKind.Array)]
    [InlineData(64, SourceKind.List)]
    [InlineData(1000, SourceKind.ReadOnlyList)]
    [InlineData(4096, SourceKind.Array)]
    public void CheckpointMidRun_RestoredRun_FinishesLikeTheUninterruptedOne(int batchSize, SourceKind kind)
    {
        var input = Events(20_000, seed: batchSize + (int)kind, gaps: true);
        var whole = Run(Q8(Source(input, kind, IngressPolicy.Throw, batchSize, fuse: true)));
        var random = new Random(batchSize);
        foreach (int steps in (int[])[1, random.Next(2, Math.Max(3, input.Length / batchSize / 2)), Math.Max(1, input.Length / batchSize - 1)])
        {
            // The first run stops after some steps, at a checkpoint; the second restores it and runs to the end.
            var first = Compile(Q8(Source(input, kind, IngressPolicy.Throw, batchSize, fuse: true)));
            foreach (var source in first.Execution.Context.Sources)
            {
                source.Start();
            }

            for (int s = 0; s < steps; s++)
            {
                Assert.True(first.Execution.Context.Sources[0].TryStep());
            }

            var state = first.Execution.Context.Checkpointed.Select(part =>
            {
                using var buffer = new MemoryStream();
                using (var writer = new BinaryWriter(buffer))
                {
                    part.WriteState(writer);
                }

                return buffer.ToArray();
            }).ToList();
            long positionAtCut = first.Execution.Context.Sources[0].EventsRead;

            var second = Compile(Q8(Source(input, kind, IngressPolicy.Throw, batchSize, fuse: true)));
            foreach (var (part, bytes) in second.Execution.Context.Checkpointed.Zip(state))
            {
                using var reader = new BinaryReader(new MemoryStream(bytes));
                part.ReadState(reader);
            }

            second.Execution.Run();
            Assert.True(second.Sink.Completed);
            Assert.Null(second.Sink.Error);
            Assert.Equal(Math.Min(input.Length, steps * (long)batchSize), positionAtCut);
            Assert.Equal(input.Length - positionAtCut, FusedEvents(second.Execution));
            Assert.Equal(whole.Sink.Events, first.Sink.Events.Concat(second.Sink.Events));
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(64)]
    [InlineData(4096)]
    public void NexmarkQ3Q5Q8_FusedOverTheEventArray_GiveTheModelsAnswerAndTheUnfusedRuns(int batchSize)
    {
        var input = NexmarkInput.Generate(30_000, 10_000);
        AssertNexmark(new Q3LocalItemSuggestion(), input, batchSize);
        AssertNexmark(new Q5HotItems(), input, batchSize);
        AssertNexmark(new Q8NewUsers(), input, batchSize);
    }

    private static void AssertNexmark<T>(NexmarkQuery<T> query, NexmarkInput input, int batchSize)
    {
        var fused = Run(query.LinqStream(input.With(input.Options with { BatchSize = batchSize, Fuse = true })));
        var unfused = Run(query.LinqStream(input.With(input.Options with { BatchSize = batchSize, Fuse = false })));
        Assert.Equal(unfused.Sink.Events, fused.Sink.Events);
        Assert.Equal(unfused.Sink.Watermarks, fused.Sink.Watermarks);
        Assert.Equal(input.Events.Length, fused.FusedEvents);
        Assert.Equal(0, unfused.FusedEvents);
        AssertSameMultiset(query.Model(input).ToList(), fused.Payloads);
        Assert.NotEmpty(fused.Payloads);
    }

    private static IQStream<Match> Q3(IQStream<Ev> events)
    {
        var sellers =
            from e in events
            where e.Kind == 0 && e.Value < 70
            select new { e.Key, e.Time };
        var items =
            from e in events
            where e.Kind == 1
            select new { e.Key, e.Time, e.Value };
        return
            from p in sellers.ExtendLifetime(TimeSpan.FromTicks(Window))
            join a in items on p.Key equals a.Key
            select new Match(p.Key, p.Time, a.Time, a.Value);
    }

    /// <summary>
    /// A seller lives <c>[t, t + 1 + Window)</c>, an item <c>[t, t + 1)</c>, <c>t</c> the time the ingress gave it (<c>T</c>; the payload
    /// keeps its own): they meet when the item is at most <c>Window</c> after the seller.
    /// </summary>
    private static List<Match> Q3Model(IReadOnlyList<(Ev E, long T)> ingested) =>
        [.. from p in ingested
            where p.E.Kind == 0 && p.E.Value < 70
            join a in ingested.Where(a => a.E.Kind == 1) on p.E.Key equals a.E.Key
            where a.T >= p.T && a.T - p.T <= Window
            select new Match(p.E.Key, p.E.Time, a.E.Time, a.E.Value)];

    private static List<(Ev E, long T)> AtTheirTimes(Ev[] input) => [.. input.Select(e => (e, e.Time))];

    private static IQStream<NewUser> Q8(IQStream<Ev> events)
    {
        var sellers =
            from a in events.Where(e => e.Kind == 1).Select(e => e.Key).TumblingWindow(TimeSpan.FromTicks(Window))
            group a by a into g
            select new SellerInWindow(g.Key, g.Window.StartTicks);
        return
            from p in events.Where(e => e.Kind == 0).Select(e => new { e.Key, e.Time }).TumblingWindow(TimeSpan.FromTicks(Window))
            join s in sellers on p.Key equals s.Key
            select new NewUser(p.Key, p.Time, s.WindowStart);
    }

    private static List<NewUser> Q8Model(IReadOnlyList<Ev> ingested) =>
        [.. from p in ingested.Where(p => p.Kind == 0)
            join s in ingested.Where(a => a.Kind == 1).Select(a => new SellerInWindow(a.Key, a.Time / Window * Window)).Distinct()
                on new SellerInWindow(p.Key, p.Time / Window * Window) equals s
            select new NewUser(p.Key, p.Time, s.WindowStart)];

    private const long Hop = 200;

    private static IQStream<HotKey> Q5(IQStream<Ev> events)
    {
        var counts =
            from b in events.Where(e => e.Kind == 2).Select(e => e.Key).HoppingWindow(TimeSpan.FromTicks(Window), TimeSpan.FromTicks(Hop))
            group b by b into g
            select new HotKey(g.Key, g.Count(), g.Window.StartTicks, g.Window.EndTicks);
        var maxima = counts.TumblingWindow(TimeSpan.FromTicks(Hop)).Select(w => new { Start = w.Window.StartTicks, Max = w.Max(c => c.Count) });
        return
            from c in counts
            join m in maxima on c.WindowStart equals m.Start
            where c.Count == m.Max
            select c;
    }

    private static List<HotKey> Q5Model(IReadOnlyList<Ev> ingested) =>
        [.. from b in ingested.Where(b => b.Kind == 2)
            from start in HoppingStarts(b.Time)
            group b by (Start: start, b.Key) into byKey
            let count = new HotKey(byKey.Key.Key, byKey.Count(), byKey.Key.Start, byKey.Key.Start + Window)
            group count by count.WindowStart into byWindow
            let max = byWindow.Max(c => c.Count)
            from c in byWindow
            where c.Count == max
            select c];

    /// <summary>The starts of the hopping windows (size <see cref="Window"/>, hop <see cref="Hop"/>, aligned to 0) that hold time <paramref name="t"/> (t &gt;= 0).</summary>
    private static IEnumerable<long> HoppingStarts(long t)
    {
        for (long start = t / Hop * Hop; start > t - Window; start -= Hop)
        {
            yield return start;
        }
    }

    /// <summary>Runs the query fused and unfused over the same input; both must give the same events in the same order and the same watermarks.</summary>
    private static (Outcome<T> Fused, Outcome<T> Unfused) AssertSameAsUnfused<T>(Ev[] input, SourceKind kind, IngressPolicy policy, int batchSize, Func<IQStream<Ev>, IQStream<T>> query)
    {
        var fused = Run(query(Source(input, kind, policy, batchSize, fuse: true)));
        var unfused = Run(query(Source(input, kind, policy, batchSize, fuse: false)));
        Assert.Equal(unfused.Sink.Events, fused.Sink.Events);
        Assert.Equal(unfused.Sink.Watermarks, fused.Sink.Watermarks);
        Assert.Equal(input.Length, fused.EventsRead);
        Assert.Equal(input.Length, unfused.EventsRead);
        return (fused, unfused);
    }

    private static IEnumerable<Ev> Enumerate(Ev[] input)
    {
        foreach (var e in input)
        {
            yield return e;
        }
    }

    private static IQStream<Ev> Source(Ev[] input, SourceKind kind, IngressPolicy policy, int batchSize, bool fuse)
    {
        IEnumerable<Ev> source = kind switch
        {
            SourceKind.List => input.ToList(),
            SourceKind.ReadOnlyList => new ReadOnlyCollection<Ev>(input),
            SourceKind.Enumerable => Enumerate(input),
            _ => input,
        };
        return QStream.From(source, e => e.Time, policy, "events").WithOptions(new QueryOptions { BatchSize = batchSize, Strict = true, Fuse = fuse });
    }

    private static Outcome<T> Run<T>(IQStream<T> query, bool expectError = false)
    {
        var compiled = QueryCompiler.Compile<T>(query.Expression);
        var (sink, execution) = Harness.Execute(compiled.Root, compiled.Options, expectError);
        return new Outcome<T>(sink, FusedEvents(execution), execution.Context.Sources.Sum(s => s.EventsRead));
    }

    private static (RecordingSink<T> Sink, QueryExecution Execution) Compile<T>(IQStream<T> query)
    {
        var compiled = QueryCompiler.Compile<T>(query.Expression);
        RecordingSink<T>? sink = null;
        var execution = QueryExecution.Create(compiled.Root, c => sink = new RecordingSink<T>(c), compiled.Options);
        return (sink!, execution);
    }

    private static long FusedEvents(QueryExecution execution) =>
        execution.Context.Sources.OfType<EnumerableSource<Ev>>().Sum(s => s.FusedEvents) +
        execution.Context.Sources.OfType<EnumerableSource<NexmarkEvent>>().Sum(s => s.FusedEvents);

    private static void AssertSameMultiset<T>(List<T> expected, List<T> actual)
    {
        static List<string> Sorted(IEnumerable<T> items) => [.. items.Select(x => x!.ToString()!).Order(StringComparer.Ordinal)];
        Assert.Equal(expected.Count, actual.Count);
        Assert.Equal(Sorted(expected), Sorted(actual));
    }

    /// <summary>What an in-order ingress passes on, at which time: under <c>Drop</c> a late event is dropped, under <c>Adjust</c> moved to the latest time seen.</summary>
    private static (List<(Ev E, long T)> Ingested, long Late) Ingested(Ev[] input, IngressPolicyKind late)
    {
        var result = new List<(Ev E, long T)>();
        long max = long.MinValue, lateCount = 0;
        foreach (var e in input)
        {
            if (e.Time >= max)
            {
                max = e.Time;
                result.Add((e, e.Time));
            }
            else
            {
                lateCount++;
                if (late == IngressPolicyKind.Adjust)
                {
                    result.Add((e, max));
                }
            }
        }

        return (result, lateCount);
    }

    /// <summary>The events of the batches (of <paramref name="batchSize"/>, in arrival order) that hold no late event.</summary>
    private static long InOrderBatchEvents(Ev[] input, int batchSize)
    {
        var lateBatches = new HashSet<int>();
        long max = long.MinValue;
        for (int i = 0; i < input.Length; i++)
        {
            if (input[i].Time < max)
            {
                lateBatches.Add(i / batchSize);
            }
            else
            {
                max = input[i].Time;
            }
        }

        return Enumerable.Range(0, (input.Length + batchSize - 1) / batchSize).Where(b => !lateBatches.Contains(b)).Sum(b => (long)Math.Min(batchSize, input.Length - (b * batchSize)));
    }

    /// <summary>
    /// Start order with ties; 10 % people, 20 % auctions, the rest bids; keys from a small pool that holds both ends of long (so
    /// joins match often); with <paramref name="gaps"/> now and then a jump of several windows (empty windows); with
    /// <paramref name="latePer1000"/> that many events in a thousand from the past (late unless a tie saves them).
    /// </summary>
    private static Ev[] Events(int count, int seed, bool gaps = false, int latePer1000 = 0)
    {
        var random = new Random(seed);
        long[] keys = [long.MinValue, long.MaxValue, 0, -1, 1, .. Enumerable.Range(0, 20).Select(_ => random.NextInt64(long.MinValue, long.MaxValue))];
        var events = new Ev[count];
        long t = 0;
        for (int i = 0; i < count; i++)
        {
            t += random.Next(0, 3);
            if (gaps && random.Next(400) == 0)
            {
                t += Window * random.Next(2, 6);
            }

            int kind = random.Next(10) switch { 0 => 0, 1 or 2 => 1, _ => 2 };
            long time = i > 0 && random.Next(1000) < latePer1000 ? Math.Max(0, t - random.Next(1, 60)) : t;
            events[i] = new Ev(time, kind, keys[random.Next(keys.Length)], random.Next(100));
        }

        return events;
    }

    private sealed record Outcome<T>(RecordingSink<T> Sink, long FusedEvents, long EventsRead)
    {
        public List<T> Payloads => [.. Sink.Events.Select(e => e.Payload)];
    }
}
