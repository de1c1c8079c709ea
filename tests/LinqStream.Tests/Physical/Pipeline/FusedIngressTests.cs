using System.Linq.Expressions;
using LinqStream.Physical.Ingress;
using LinqStream.Physical.Kernels;
using LinqStream.Physical.Pipeline;
using LinqStream.Query;
using LinqStream.Runtime;
using LinqStream.Runtime.Egress;
using LinqStream.Runtime.Ingress;
using LinqStream.Tests.Infrastructure;

namespace LinqStream.Tests.Physical.Pipeline;

/// <summary>
/// Issue #19: a filter/projection chain right after a replayed array's ingress reads the array itself, event times included
/// (<c>IFusedIngress</c>). Every run here is checked against LINQ to objects over the whole input and against the same plan with
/// <c>Fuse = false</c> (the copy, the time pass and the chain pass): the same events, watermarks, late-event counts and errors.
/// </summary>
public sealed class FusedIngressTests
{
    /// <summary>An input event: a time, a value uniform in 0..99 and a key anywhere in the range of long.</summary>
    public sealed record Item(long Time, int Value, long Key);

    /// <summary>A projection's result (a struct, so the output column holds no references).</summary>
    public readonly record struct Projected(long Scaled, int Value);

    private static PipelineKernelStep Where<T>(Expression<Func<T, bool>> f) => new(true, f);

    private static PipelineKernelStep Select<T, TR>(Expression<Func<T, TR>> f) => new(false, f);

    public static TheoryData<int, int> BatchSizesAndShares()
    {
        var data = new TheoryData<int, int>();
        foreach (int batchSize in (int[])[1, 7, 64, 333, 2048, 4096])
        {
            foreach (int keepPercent in (int[])[0, 3, 25, 26, 70, 100])
            {
                data.Add(batchSize, keepPercent);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(BatchSizesAndShares))]
    public void WhereSelect_RandomInput_MatchesLinqToObjectsAndTheUnfusedRun(int batchSize, int keepPercent)
    {
        var input = Items(15_000, seed: batchSize * 101 + keepPercent);
        List<PipelineKernelStep> steps =
        [
            Where<Item>(x => x.Value < keepPercent),
            Select<Item, Projected>(x => new Projected(x.Key * 31, x.Value)),
        ];

        var expected = input.Where(x => x.Value < keepPercent).Select(x => Point(x.Time, new Projected(x.Key * 31, x.Value))).ToList();
        AssertSameAsUnfused<Projected>(input, steps, batchSize, expected);
    }

    [Theory]
    [MemberData(nameof(BatchSizesAndShares))]
    public void WhereOnly_RandomInput_KeepsTheEventObjects(int batchSize, int keepPercent)
    {
        var input = Items(15_000, seed: batchSize * 103 + keepPercent);
        var expected = input.Where(x => x.Value < keepPercent).Select(x => Point(x.Time, x)).ToList();
        var output = AssertSameAsUnfused<Item>(input, [Where<Item>(x => x.Value < keepPercent)], batchSize, expected);
        Assert.All(output.Zip(expected), p => Assert.Same(p.Second.Payload, p.First.Payload));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(64)]
    [InlineData(2048)]
    public void SelectOnly_AndALongChain_MatchLinqToObjects(int batchSize)
    {
        var input = Items(10_000, seed: batchSize);
        AssertSameAsUnfused<long>(input, [Select<Item, long>(x => x.Key ^ x.Time)], batchSize, input.Select(x => Point(x.Time, x.Key ^ x.Time)).ToList());

        List<PipelineKernelStep> chain =
        [
            Where<Item>(x => x.Value % 3 != 0),
            Select<Item, long>(x => (long)x.Value * 7 - x.Key % 1000),
            Where<long>(v => v > -500),
            Select<long, string>(v => "v" + v),
        ];
        var expected = input.Where(x => x.Value % 3 != 0).Select(x => (x.Time, V: (long)x.Value * 7 - x.Key % 1000)).Where(x => x.V > -500)
            .Select(x => Point(x.Time, "v" + x.V)).ToList();
        AssertSameAsUnfused<string>(input, chain, batchSize, expected);
    }

    [Fact]
    public void EmptyArray_AndTimesAtTheEndOfTime_MatchLinqToObjects()
    {
        AssertSameAsUnfused<Item>([], [Where<Item>(x => x.Value < 50)], 64, []);

        // The last events sit one tick before the end of time: they end at the end of time (an event at long.MaxValue itself
        // would have an empty lifetime, which the engine's sinks report as a violation, fused or not).
        var input = Items(3_000, seed: 5, firstTime: long.MaxValue - 10_000);
        for (int i = input.Length - 100; i < input.Length; i++)
        {
            input[i] = input[i] with { Time = long.MaxValue - 1 };
        }

        var expected = input.Where(x => x.Value < 50).Select(x => Point(x.Time, x)).ToList();
        AssertSameAsUnfused<Item>(input, [Where<Item>(x => x.Value < 50)], 64, expected);
        Assert.Equal(long.MaxValue, expected[^1].End);
    }

    [Theory]
    [InlineData(1, IngressPolicyKind.Drop)]
    [InlineData(7, IngressPolicyKind.Drop)]
    [InlineData(2048, IngressPolicyKind.Drop)]
    [InlineData(7, IngressPolicyKind.Adjust)]
    [InlineData(2048, IngressPolicyKind.Adjust)]
    public void LateEvents_TakeThePolicyAsTheUnfusedIngressDoes(int batchSize, IngressPolicyKind kind)
    {
        var random = new Random(batchSize * 7 + (int)kind);
        var input = Items(20_000, seed: batchSize);
        long max = long.MinValue;
        for (int i = 0; i < input.Length; i++)
        {
            // Now and then an event from the past: late unless a tie saves it.
            if (i > 0 && random.Next(300) == 0)
            {
                input[i] = input[i] with { Time = input[i - 1].Time - random.Next(0, 40) };
            }
        }

        var expected = new List<StreamEvent<Projected>>();
        int late = 0;
        var batchesWithLateEvents = new HashSet<int>();
        for (int i = 0; i < input.Length; i++)
        {
            var x = input[i];
            if (x.Time >= max)
            {
                max = x.Time;
            }
            else
            {
                late++;
                batchesWithLateEvents.Add(i / batchSize);
                if (kind == IngressPolicyKind.Drop)
                {
                    continue;
                }
            }

            if (x.Value < 40)
            {
                expected.Add(Point(Math.Max(x.Time, max), new Projected(x.Key * 31, x.Value)));
            }
        }

        Assert.True(late > 10, "the input must have late events");
        var policy = kind == IngressPolicyKind.Drop ? IngressPolicy.Drop : IngressPolicy.Adjust;
        List<PipelineKernelStep> steps = [Where<Item>(x => x.Value < 40), Select<Item, Projected>(x => new Projected(x.Key * 31, x.Value))];
        var fusedStats = new IngressStatistics();
        var unfusedStats = new IngressStatistics();
        var fused = Run<Projected>(input, steps, batchSize, fuse: true, policy.WithStatistics(fusedStats));
        var unfused = Run<Projected>(input, steps, batchSize, fuse: false, policy.WithStatistics(unfusedStats));

        Assert.Equal(expected, fused.Sink.Events);
        Assert.Equal(unfused.Sink.Watermarks, fused.Sink.Watermarks);
        Assert.Equal((late, input.Length), (fusedStats.Late, fusedStats.Events));
        Assert.Equal((unfusedStats.Late, unfusedStats.Dropped, unfusedStats.Adjusted), (fusedStats.Late, fusedStats.Dropped, fusedStats.Adjusted));
        Assert.Equal(input.Length, fused.EventsRead);
        // The batches without a late event went through the fused chain, the others through the ordinary path.
        long inOrder = Enumerable.Range(0, (input.Length + batchSize - 1) / batchSize).Where(b => !batchesWithLateEvents.Contains(b))
            .Sum(b => (long)Math.Min(batchSize, input.Length - b * batchSize));
        Assert.Equal(inOrder, fused.FusedEvents);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(64)]
    [InlineData(2048)]
    public void LateEvent_UnderThrow_FailsAtTheSamePositionAfterTheSameEvents(int batchSize)
    {
        var input = Items(5_000, seed: 11);
        input[3_333] = input[3_333] with { Time = input[3_332].Time - 5 };
        List<PipelineKernelStep> steps = [Where<Item>(x => x.Value < 60)];
        var fused = Run<Item>(input, steps, batchSize, fuse: true, expectError: true);
        var unfused = Run<Item>(input, steps, batchSize, fuse: false, expectError: true);

        var error = Assert.IsType<LateEventException>(fused.Sink.Error);
        Assert.Equal(3_333, error.Position);
        Assert.Equal(unfused.Sink.Error!.Message, error.Message);
        Assert.Equal(unfused.Sink.Events, fused.Sink.Events);
        Assert.Equal(input.Take(3_333 / batchSize * batchSize).Where(x => x.Value < 60).Select(x => Point(x.Time, x)), fused.Sink.Events);
    }

    [Fact]
    public void EventTimeSelectorThrows_FailsAsTheUnfusedIngressDoes()
    {
        var input = Items(3_000, seed: 13);
        var target = input[2_500];
        var plan = (bool fuse) =>
        {
            var source = new IngressStream<Item>(input, EventTimeKernel.Compile<Item>((Expression<Func<Item, long>>)(x => ReferenceEquals(x, target) ? 1 / (x.Time - x.Time) : x.Time), null), IngressPolicy.Throw, "test");
            return Execute(new PipelineStream<Item, Item>(source, [Where<Item>(x => x.Value < 50)]), new QueryOptions { BatchSize = 1000, Strict = true, Fuse = fuse }, expectError: true);
        };

        var fused = plan(true);
        var unfused = plan(false);
        var error = Assert.IsType<QueryExecutionException>(fused.Sink.Error);
        Assert.Contains("event-time selector", error.Message, StringComparison.Ordinal);
        Assert.Equal(unfused.Sink.Error!.Message, error.Message);
        Assert.Equal(unfused.Sink.Events, fused.Sink.Events);
        Assert.Equal(input.Take(2_000).Where(x => x.Value < 50).Select(x => Point(x.Time, x)), fused.Sink.Events);
    }

    [Fact]
    public void ChainThrows_FailsAsTheUnfusedChainDoes()
    {
        var input = Items(3_000, seed: 17);
        var target = input.Skip(1_234).First(x => x.Value < 50);
        List<PipelineKernelStep> steps = [Where<Item>(x => x.Value < 50), Select<Item, int>(x => ReferenceEquals(x, target) ? 10 / (x.Value - x.Value) : x.Value)];
        var fused = Run<int>(input, steps, 512, fuse: true, expectError: true);
        var unfused = Run<int>(input, steps, 512, fuse: false, expectError: true);
        var error = Assert.IsType<QueryExecutionException>(fused.Sink.Error);
        Assert.Equal(((QueryExecutionException)unfused.Sink.Error!).Operator, error.Operator);
        Assert.IsType<DivideByZeroException>(error.InnerException);
        Assert.Equal(unfused.Sink.Error!.Message, error.Message);
        Assert.Equal(unfused.Sink.Events, fused.Sink.Events);
    }

    [Fact]
    public void ListSourceFuses_EndSelectorOrEnumerableTakeTheOrdinaryPath()
    {
        // An array or a list (speed10) of point events fuses; an ingress with an end selector, or a sequence that is not a list, copies
        // into batches as before.
        var input = Items(5_000, seed: 19);
        var list = Execute(new PipelineStream<Item, Item>(Harness.Source(input.ToList(), x => x.Time), [Where<Item>(x => x.Value < 50)]), Harness.Options(256));
        var enumerable = Execute(new PipelineStream<Item, Item>(Harness.Source(Enumerate(input), x => x.Time), [Where<Item>(x => x.Value < 50)]), Harness.Options(256));
        var withEnd = Execute(new PipelineStream<Item, Item>(Harness.Source(input, x => x.Time, end: x => x.Time + 5), [Where<Item>(x => x.Value < 50)]), Harness.Options(256));
        Assert.Equal(input.Length, list.FusedEvents);
        Assert.Equal(0, enumerable.FusedEvents);
        Assert.Equal(0, withEnd.FusedEvents);
        Assert.Equal(input.Where(x => x.Value < 50).Select(x => Point(x.Time, x)), list.Sink.Events);
        Assert.Equal(input.Where(x => x.Value < 50).Select(x => Point(x.Time, x)), enumerable.Sink.Events);
        Assert.Equal(input.Where(x => x.Value < 50).Select(x => new StreamEvent<Item>(x.Time, x.Time + 5, x)), withEnd.Sink.Events);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void FusedReplay_CompilesOnlyTheFusedKernel_TheChainAndTimeKernelsWhenASliceFallsBack(bool lateEvent)
    {
        // Issue #19: with the fused kernel, the chain's own kernel and the ingress's time kernel run only for a slice that falls
        // back, so the compiler's last stage compiles one kernel, and running compiles the other two only when a slice needs them.
        var input = Items(6_000, seed: lateEvent ? 23 : 29);
        if (lateEvent)
        {
            input[4_100] = input[4_100] with { Time = input[4_099].Time - 3 };
        }

        List<PipelineKernelStep> steps = [Where<Item>(x => x.Value < 45), Select<Item, Projected>(x => new Projected(x.Key * 3, x.Value))];
        var kernels = new KernelCompiler(new CompiledKernelCache(64));
        var plan = new PipelineStream<Item, Projected>(new IngressStream<Item>(input, (Expression<Func<Item, long>>)(x => x.Time), null, IngressPolicy.Drop, "test", kernels), steps, kernels);

        Assert.Equal(2, KernelCompilation.Process(plan));
        Assert.Equal(1L, kernels.Cache!.Misses + kernels.Cache.Hits); // the fused kernel only
        var (sink, execution) = Harness.Execute(plan, new QueryOptions { BatchSize = 1000, Strict = true });
        long fusedEvents = execution.Context.Sources.OfType<EnumerableSource<Item>>().Sum(s => s.FusedEvents);

        var unfused = Run<Projected>(input, steps, 1000, fuse: false, IngressPolicy.Drop);
        Assert.Equal(unfused.Sink.Events, sink.Events);
        Assert.Equal(unfused.Sink.Watermarks, sink.Watermarks);
        Assert.NotEmpty(sink.Events);
        Assert.Equal(lateEvent ? input.Length - 1_000 : input.Length, fusedEvents); // the late event's slice took the ordinary path
        Assert.Equal(lateEvent ? 3L : 1L, kernels.Cache.Misses + kernels.Cache.Hits);
    }

    [Fact]
    public void FusedReplay_WithFusionOffAtRunTime_CompilesTheDeferredKernelsAtWiring()
    {
        var input = Items(3_000, seed: 31);
        var kernels = new KernelCompiler(new CompiledKernelCache(64));
        var plan = new PipelineStream<Item, Item>(new IngressStream<Item>(input, (Expression<Func<Item, long>>)(x => x.Time), null, IngressPolicy.Throw, "test", kernels), [Where<Item>(x => x.Value < 70)], kernels);
        KernelCompilation.Process(plan);
        Assert.Equal(1L, kernels.Cache!.Misses);

        RecordingSink<Item>? sink = null;
        var execution = QueryExecution.Create(plan, c => sink = new RecordingSink<Item>(c), new QueryOptions { BatchSize = 256, Strict = true, Fuse = false });
        Assert.Equal(3L, kernels.Cache.Misses); // wiring compiled them: not mid-run
        execution.Run();

        Assert.Equal(3L, kernels.Cache.Misses + kernels.Cache.Hits);
        Assert.Equal(input.Where(x => x.Value < 70).Select(x => Point(x.Time, x)), sink!.Events);
        Assert.Equal(0, execution.Context.Sources.OfType<EnumerableSource<Item>>().Sum(s => s.FusedEvents));
    }

    /// <summary>Runs the chain fused and unfused; both must give <paramref name="expected"/> and the same watermarks, and only the fused run may skip the input batches.</summary>
    private static List<StreamEvent<TOut>> AssertSameAsUnfused<TOut>(Item[] input, List<PipelineKernelStep> steps, int batchSize, List<StreamEvent<TOut>> expected)
    {
        var fused = Run<TOut>(input, steps, batchSize, fuse: true);
        var unfused = Run<TOut>(input, steps, batchSize, fuse: false);
        Assert.Equal(expected, fused.Sink.Events);
        Assert.Equal(expected, unfused.Sink.Events);
        Assert.Equal(unfused.Sink.Watermarks, fused.Sink.Watermarks);
        Assert.Equal(input.Length, fused.FusedEvents);
        Assert.Equal(0, unfused.FusedEvents);
        Assert.Equal(input.Length, fused.EventsRead);
        return fused.Sink.Events;
    }

    private static Outcome<TOut> Run<TOut>(Item[] input, List<PipelineKernelStep> steps, int batchSize, bool fuse, IngressPolicy? policy = null, bool expectError = false) =>
        Execute(
            new PipelineStream<Item, TOut>(Harness.Source(input, x => x.Time, policy), steps),
            new QueryOptions { BatchSize = batchSize, Strict = true, Fuse = fuse },
            expectError);

    /// <summary>As <see cref="Harness.Run"/>, and counts the events read and those that went through the fused chain.</summary>
    private static Outcome<TOut> Execute<TOut>(PhysicalStream<TOut> plan, QueryOptions options, bool expectError = false)
    {
        var (sink, execution) = Harness.Execute(plan, options, expectError);
        long fusedEvents = execution.Context.Sources.OfType<EnumerableSource<Item>>().Sum(s => s.FusedEvents);
        return new Outcome<TOut>(sink, fusedEvents, execution.Context.Sources.Sum(s => s.EventsRead));
    }

    /// <summary>In start order with ties and gaps, values uniform in 0..99, keys anywhere in the range of long (also its ends).</summary>
    private static Item[] Items(int count, int seed, long firstTime = 0)
    {
        var random = new Random(seed);
        var items = new Item[count];
        long t = firstTime;
        for (int i = 0; i < count; i++)
        {
            t += random.Next(0, 3);
            long key = random.Next(20) switch { 0 => long.MaxValue, 1 => long.MinValue, _ => random.NextInt64(long.MinValue, long.MaxValue) };
            items[i] = new Item(t, random.Next(100), key);
        }

        return items;
    }

    private static IEnumerable<Item> Enumerate(Item[] items)
    {
        foreach (var item in items)
        {
            yield return item;
        }
    }

    private static StreamEvent<T> Point<T>(long time, T payload) => new(time, time == long.MaxValue ? long.MaxValue : time + 1, payload);

    private sealed record Outcome<TOut>(RecordingSink<TOut> Sink, long FusedEvents, long EventsRead);
}
