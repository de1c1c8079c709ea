using System.Linq.Expressions;
using System.Runtime.CompilerServices;
using LinqStream.Physical.Ingress;
using LinqStream.Physical.Pipeline;
using LinqStream.Query;
using LinqStream.Runtime;
using LinqStream.Runtime.Egress;
using LinqStream.Runtime.Ingress;
using LinqStream.Tests.Infrastructure;

namespace LinqStream.Tests.Physical.Pipeline;

/// <summary>
/// Issue #19 (replay15): the fused ingress of an array of a value type reads each batch's slice from a copy in one reused array
/// (up to <c>QueryOptions.ArrayStagingBytes</c> per slice), as it reads a list's, instead of in place. Every run here is checked against
/// LINQ to objects over the whole input, against the same plan reading the array in place (<c>ArrayStagingBytes = 0</c>) and against
/// <c>Fuse = false</c> (the copy into batches, the time pass and the chain pass): the same events, watermarks, late-event counts,
/// errors and positions; and the caller's array is never written.
/// </summary>
public sealed class StagedArrayIngressTests
{
    /// <summary>How the run reads the array.</summary>
    public enum Read
    {
        /// <summary>Fused, each slice copied first (the default).</summary>
        Staged,

        /// <summary>Fused, the slice read in place (<c>ArrayStagingBytes = 0</c>).</summary>
        InPlace,

        /// <summary>Not fused (<c>Fuse = false</c>): copied into batches, then the time pass and the chain pass.</summary>
        Unfused,
    }

    /// <summary>An input event of a value type: a time, a value uniform in 0..99 and a key anywhere in the range of long.</summary>
    public readonly record struct Tick(long Time, int Value, long Key);

    /// <summary>A projection's result.</summary>
    public readonly record struct Scaled(long Key, int Value);

    /// <summary>The same fields in a class: arrays of reference types are read in place whatever the option says.</summary>
    public sealed record TickObject(long Time, int Value, long Key);

    public static TheoryData<int, int> BatchSizesAndShares()
    {
        var data = new TheoryData<int, int>();
        foreach (int batchSize in (int[])[1, 7, 64, 333, 2048])
        {
            foreach (int keepPercent in (int[])[0, 3, 26, 100])
            {
                data.Add(batchSize, keepPercent);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(BatchSizesAndShares))]
    public void WhereSelect_RandomInput_MatchesLinqToObjects_StagedInPlaceAndUnfused(int batchSize, int keepPercent)
    {
        var input = Ticks(9_000, seed: batchSize * 101 + keepPercent);
        var original = (Tick[])input.Clone();
        List<PipelineKernelStep> steps =
        [
            Where<Tick>(x => x.Value < keepPercent),
            Select<Tick, Scaled>(x => new Scaled(x.Key * 31, x.Value)),
        ];

        var expected = input.Where(x => x.Value < keepPercent).Select(x => Point(x.Time, new Scaled(x.Key * 31, x.Value))).ToList();
        AssertEveryReadAgrees(input, steps, batchSize, expected);
        Assert.Equal(original, input);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(64)]
    [InlineData(4096)]
    public void WhereOnly_AndALongChain_MatchLinqToObjects(int batchSize)
    {
        var input = Ticks(10_000, seed: batchSize + 7);
        AssertEveryReadAgrees(input, [Where<Tick>(x => x.Value % 4 != 1)], batchSize, input.Where(x => x.Value % 4 != 1).Select(x => Point(x.Time, x)).ToList());

        List<PipelineKernelStep> chain =
        [
            Where<Tick>(x => x.Value % 3 != 0),
            Select<Tick, long>(x => (long)x.Value * 7 - x.Key % 1000),
            Where<long>(v => v > -500),
            Select<long, string>(v => "v" + v),
        ];
        var expected = input.Where(x => x.Value % 3 != 0).Select(x => (x.Time, V: (long)x.Value * 7 - x.Key % 1000)).Where(x => x.V > -500)
            .Select(x => Point(x.Time, "v" + x.V)).ToList();
        AssertEveryReadAgrees(input, chain, batchSize, expected);
    }

    [Fact]
    public void EmptyShortAndEndOfTimeArrays_MatchLinqToObjects()
    {
        AssertEveryReadAgrees<Tick>([], [Where<Tick>(x => x.Value < 50)], 64, []);

        var shortInput = Ticks(5, seed: 3);
        AssertEveryReadAgrees(shortInput, [Where<Tick>(x => x.Value < 101)], 2048, shortInput.Select(x => Point(x.Time, x)).ToList());

        // The last events one tick before the end of time end at the end of time.
        var input = Ticks(3_000, seed: 5, firstTime: long.MaxValue - 10_000);
        for (int i = input.Length - 100; i < input.Length; i++)
        {
            input[i] = input[i] with { Time = long.MaxValue - 1 };
        }

        var expected = input.Where(x => x.Value < 50).Select(x => Point(x.Time, x)).ToList();
        AssertEveryReadAgrees(input, [Where<Tick>(x => x.Value < 50)], 64, expected);
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
        var input = Ticks(20_000, seed: batchSize);
        for (int i = 1; i < input.Length; i++)
        {
            if (random.Next(300) == 0)
            {
                input[i] = input[i] with { Time = input[i - 1].Time - random.Next(0, 40) }; // late unless a tie saves it
            }
        }

        var expected = new List<StreamEvent<Scaled>>();
        var lateBatches = new HashSet<int>();
        long max = long.MinValue, late = 0;
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
                lateBatches.Add(i / batchSize);
                if (kind == IngressPolicyKind.Drop)
                {
                    continue;
                }
            }

            if (x.Value < 40)
            {
                expected.Add(Point(Math.Max(x.Time, max), new Scaled(x.Key * 31, x.Value)));
            }
        }

        Assert.True(late > 10, "the input must have late events");
        List<PipelineKernelStep> steps = [Where<Tick>(x => x.Value < 40), Select<Tick, Scaled>(x => new Scaled(x.Key * 31, x.Value))];
        var policy = kind == IngressPolicyKind.Drop ? IngressPolicy.Drop : IngressPolicy.Adjust;
        var stats = new Dictionary<Read, IngressStatistics>();
        var runs = new Dictionary<Read, Outcome<Scaled>>();
        foreach (var read in Enum.GetValues<Read>())
        {
            stats[read] = new IngressStatistics();
            runs[read] = Run<Scaled>(input, steps, batchSize, read, policy.WithStatistics(stats[read]));
        }

        long inOrder = Enumerable.Range(0, (input.Length + batchSize - 1) / batchSize).Where(b => !lateBatches.Contains(b))
            .Sum(b => (long)Math.Min(batchSize, input.Length - (b * batchSize)));
        foreach (var read in Enum.GetValues<Read>())
        {
            Assert.Equal(expected, runs[read].Sink.Events);
            Assert.Equal(runs[Read.Unfused].Sink.Watermarks, runs[read].Sink.Watermarks);
            Assert.Equal((late, (long)input.Length, late), (stats[read].Late, stats[read].Events, stats[read].Dropped + stats[read].Adjusted));
            Assert.Equal((stats[Read.Unfused].Dropped, stats[Read.Unfused].Adjusted), (stats[read].Dropped, stats[read].Adjusted));
            Assert.Equal(input.Length, runs[read].EventsRead);
        }

        // The batches without a late event went through the fused chain (from a copy when staged), the others through the ordinary path.
        Assert.Equal((inOrder, inOrder), (runs[Read.Staged].FusedEvents, runs[Read.Staged].StagedEvents));
        Assert.Equal((inOrder, 0L), (runs[Read.InPlace].FusedEvents, runs[Read.InPlace].StagedEvents));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(64)]
    [InlineData(2048)]
    public void LateEvent_UnderThrow_FailsAtTheSamePositionAfterTheSameEvents(int batchSize)
    {
        var input = Ticks(5_000, seed: 11);
        input[3_333] = input[3_333] with { Time = input[3_332].Time - 5 };
        List<PipelineKernelStep> steps = [Where<Tick>(x => x.Value < 60)];
        var unfused = Run<Tick>(input, steps, batchSize, Read.Unfused, expectError: true);
        foreach (var read in (Read[])[Read.Staged, Read.InPlace])
        {
            var outcome = Run<Tick>(input, steps, batchSize, read, expectError: true);
            var error = Assert.IsType<LateEventException>(outcome.Sink.Error);
            Assert.Equal(3_333, error.Position);
            Assert.Equal(unfused.Sink.Error!.Message, error.Message);
            Assert.Equal(unfused.Sink.Events, outcome.Sink.Events);
            Assert.Equal(input.Take(3_333 / batchSize * batchSize).Where(x => x.Value < 60).Select(x => Point(x.Time, x)), outcome.Sink.Events);
            Assert.Equal(3_333 / batchSize * batchSize, outcome.FusedEvents);
        }
    }

    [Fact]
    public void EventTimeSelectorThrows_FailsAsTheUnfusedIngressDoes()
    {
        var input = Ticks(3_000, seed: 13);
        const long target = 4_242_424_242L;
        input[2_500] = input[2_500] with { Key = target };
        Assert.Single(input, x => x.Key == target);
        Outcome<Tick> RunWith(Read read)
        {
            var time = EventTimeKernel.Compile<Tick>((Expression<Func<Tick, long>>)(x => x.Key == target ? 1 / (x.Time - x.Time) : x.Time), null);
            var plan = new PipelineStream<Tick, Tick>(new IngressStream<Tick>(input, time, IngressPolicy.Throw, "test"), [Where<Tick>(x => x.Value < 50)]);
            return Execute<Tick>(plan, Options(1000, read), expectError: true);
        }

        var unfused = RunWith(Read.Unfused);
        foreach (var read in (Read[])[Read.Staged, Read.InPlace])
        {
            var outcome = RunWith(read);
            var error = Assert.IsType<QueryExecutionException>(outcome.Sink.Error);
            Assert.Contains("event-time selector", error.Message, StringComparison.Ordinal);
            Assert.Equal(unfused.Sink.Error!.Message, error.Message);
            Assert.Equal(unfused.Sink.Events, outcome.Sink.Events);
            Assert.Equal(input.Take(2_000).Where(x => x.Value < 50).Select(x => Point(x.Time, x)), outcome.Sink.Events);
            Assert.Equal(2_000, outcome.FusedEvents);
        }
    }

    [Fact]
    public void ChainThrows_FailsAsTheUnfusedChainDoes()
    {
        var input = Ticks(3_000, seed: 17);
        int index = Array.FindIndex(input, 1_234, x => x.Value < 50);
        const long target = 4_242_424_243L;
        input[index] = input[index] with { Key = target };
        Assert.Single(input, x => x.Key == target);
        List<PipelineKernelStep> steps = [Where<Tick>(x => x.Value < 50), Select<Tick, int>(x => x.Key == target ? 10 / (x.Value - x.Value) : x.Value)];
        var unfused = Run<int>(input, steps, 512, Read.Unfused, expectError: true);
        foreach (var read in (Read[])[Read.Staged, Read.InPlace])
        {
            var outcome = Run<int>(input, steps, 512, read, expectError: true);
            var error = Assert.IsType<QueryExecutionException>(outcome.Sink.Error);
            Assert.IsType<DivideByZeroException>(error.InnerException);
            Assert.Equal(((QueryExecutionException)unfused.Sink.Error!).Operator, error.Operator);
            Assert.Equal(unfused.Sink.Error!.Message, error.Message);
            Assert.Equal(unfused.Sink.Events, outcome.Sink.Events);
            Assert.NotEmpty(outcome.Sink.Events);
        }
    }

    [Fact]
    public void OnlyValueTypeArraysAreStaged_ListsAlwaysAre()
    {
        var ticks = Ticks(5_000, seed: 19);
        var objects = ticks.Select(x => new TickObject(x.Time, x.Value, x.Key)).ToArray();
        var expected = ticks.Where(x => x.Value < 50).Select(x => Point(x.Time, x.Key)).ToList();

        // An array of a class: read in place with the option on (a copy would move references, not the objects the kernel reads).
        var (objectSink, objectExecution) = Harness.Execute(new PipelineStream<TickObject, long>(Harness.Source(objects, x => x.Time), [Where<TickObject>(x => x.Value < 50), Select<TickObject, long>(x => x.Key)]), Options(256, Read.Staged));
        var objectSource = Assert.Single(objectExecution.Context.Sources.OfType<EnumerableSource<TickObject>>());
        Assert.Equal(expected, objectSink.Events);
        Assert.Equal((5_000L, 0L), (objectSource.FusedEvents, objectSource.StagedEvents));

        // A list of a value type: copied whatever the option says, as before.
        foreach (var read in (Read[])[Read.Staged, Read.InPlace])
        {
            var outcome = Execute<long>(new PipelineStream<Tick, long>(Harness.Source(ticks.ToList(), x => x.Time), [Where<Tick>(x => x.Value < 50), Select<Tick, long>(x => x.Key)]), Options(256, read));
            Assert.Equal(expected, outcome.Sink.Events);
            Assert.Equal((5_000L, 5_000L), (outcome.FusedEvents, outcome.StagedEvents));
        }
    }

    [Theory]
    [InlineData(64, -1, false)]
    [InlineData(64, 0, true)]
    [InlineData(333, -1, false)]
    [InlineData(2048, 0, true)]
    public void ASliceLargerThanTheStagingLimit_IsReadInPlace(int batchSize, int slack, bool staged)
    {
        // The limit is in bytes of a slice: the batch size times the size of an event, here plus slack.
        int limit = batchSize * Unsafe.SizeOf<Tick>() + slack;
        var input = Ticks(5_000, seed: batchSize + slack);
        var expected = input.Where(x => x.Value < 50).Select(x => Point(x.Time, x.Key)).ToList();
        var plan = new PipelineStream<Tick, long>(Harness.Source(input, x => x.Time), [Where<Tick>(x => x.Value < 50), Select<Tick, long>(x => x.Key)]);
        var outcome = Execute<long>(plan, new QueryOptions { BatchSize = batchSize, Strict = true, ArrayStagingBytes = limit });
        Assert.Equal(expected, outcome.Sink.Events);
        Assert.Equal((5_000L, staged ? 5_000L : 0L), (outcome.FusedEvents, outcome.StagedEvents));
    }

    [Fact]
    public void ANegativeStagingLimit_IsRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new QueryOptions { ArrayStagingBytes = -1 });
        Assert.Equal(0, new QueryOptions { ArrayStagingBytes = 0 }.ArrayStagingBytes);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(64)]
    [InlineData(4096)]
    public void AMulticastToTwoChains_ReadsTheStagedSlice_AndMatchesLinqToObjects(int batchSize)
    {
        // One source, two chains (a multicast whose one kernel reads the slice for both), their results in one stream.
        var input = Ticks(12_000, seed: batchSize * 23);
        static IQStream<long> Query(IQStream<Tick> ticks) =>
            ticks.Where(x => x.Value < 30).Select(x => x.Key).Union(ticks.Where(x => x.Value >= 60).Select(x => (long)x.Value * 1_000 + x.Time % 1_000));
        List<long> expected =
        [
            .. input.Where(x => x.Value < 30).Select(x => x.Key),
            .. input.Where(x => x.Value >= 60).Select(x => (long)x.Value * 1_000 + x.Time % 1_000),
        ];

        var runs = Enum.GetValues<Read>().ToDictionary(read => read, read => RunQuery(Query(QStream.From(input, x => x.Time, IngressPolicy.Throw, "ticks").WithOptions(Options(batchSize, read)))));
        foreach (var read in Enum.GetValues<Read>())
        {
            Assert.Equal(runs[Read.Unfused].Sink.Events, runs[read].Sink.Events);
            Assert.Equal(runs[Read.Unfused].Sink.Watermarks, runs[read].Sink.Watermarks);
        }

        Assert.Equal(expected.Order(), runs[Read.Staged].Sink.Events.Select(e => e.Payload).Order());
        Assert.Equal((12_000L, 12_000L), (runs[Read.Staged].FusedEvents, runs[Read.Staged].StagedEvents));
        Assert.Equal((12_000L, 0L), (runs[Read.InPlace].FusedEvents, runs[Read.InPlace].StagedEvents));
        Assert.Equal((0L, 0L), (runs[Read.Unfused].FusedEvents, runs[Read.Unfused].StagedEvents));
    }

    /// <summary>Runs the chain staged, in place and unfused: each must give <paramref name="expected"/>, the same watermarks, and read every event by its own path.</summary>
    private static void AssertEveryReadAgrees<TOut>(Tick[] input, List<PipelineKernelStep> steps, int batchSize, List<StreamEvent<TOut>> expected)
    {
        var staged = Run<TOut>(input, steps, batchSize, Read.Staged);
        var inPlace = Run<TOut>(input, steps, batchSize, Read.InPlace);
        var unfused = Run<TOut>(input, steps, batchSize, Read.Unfused);
        Assert.Equal(expected, staged.Sink.Events);
        Assert.Equal(expected, inPlace.Sink.Events);
        Assert.Equal(expected, unfused.Sink.Events);
        Assert.Equal(unfused.Sink.Watermarks, staged.Sink.Watermarks);
        Assert.Equal(unfused.Sink.Watermarks, inPlace.Sink.Watermarks);
        long length = input.Length;
        Assert.Equal((length, length, length), (staged.FusedEvents, staged.StagedEvents, staged.EventsRead));
        Assert.Equal((length, 0L, length), (inPlace.FusedEvents, inPlace.StagedEvents, inPlace.EventsRead));
        Assert.Equal((0L, 0L, length), (unfused.FusedEvents, unfused.StagedEvents, unfused.EventsRead));
    }

    private static QueryOptions Options(int batchSize, Read read) =>
        new() { BatchSize = batchSize, Strict = true, Fuse = read != Read.Unfused, ArrayStagingBytes = read == Read.InPlace ? 0 : QueryOptions.Default.ArrayStagingBytes };

    private static Outcome<TOut> Run<TOut>(Tick[] input, List<PipelineKernelStep> steps, int batchSize, Read read, IngressPolicy? policy = null, bool expectError = false) =>
        Execute<TOut>(new PipelineStream<Tick, TOut>(Harness.Source(input, x => x.Time, policy), steps), Options(batchSize, read), expectError);

    private static Outcome<TOut> Execute<TOut>(PhysicalStream<TOut> plan, QueryOptions options, bool expectError = false)
    {
        var (sink, execution) = Harness.Execute(plan, options, expectError);
        var sources = execution.Context.Sources.OfType<EnumerableSource<Tick>>().ToList();
        return new Outcome<TOut>(sink, sources.Sum(s => s.FusedEvents), sources.Sum(s => s.StagedEvents), execution.Context.Sources.Sum(s => s.EventsRead));
    }

    private static Outcome<T> RunQuery<T>(IQStream<T> query)
    {
        var compiled = QueryCompiler.Compile<T>(query.Expression);
        return Execute<T>(compiled.Root, compiled.Options);
    }

    private static PipelineKernelStep Where<T>(Expression<Func<T, bool>> f) => new(true, f);

    private static PipelineKernelStep Select<T, TR>(Expression<Func<T, TR>> f) => new(false, f);

    /// <summary>In start order with ties and gaps, values uniform in 0..99, keys anywhere in the range of long (also its ends).</summary>
    private static Tick[] Ticks(int count, int seed, long firstTime = 0)
    {
        var random = new Random(seed);
        var ticks = new Tick[count];
        long t = firstTime;
        for (int i = 0; i < count; i++)
        {
            t += random.Next(0, 3);
            long key = random.Next(20) switch { 0 => long.MaxValue, 1 => long.MinValue, _ => random.NextInt64(long.MinValue, long.MaxValue) };
            ticks[i] = new Tick(t, random.Next(100), key);
        }

        return ticks;
    }

    private static StreamEvent<T> Point<T>(long time, T payload) => new(time, time == long.MaxValue ? long.MaxValue : time + 1, payload);

    private sealed record Outcome<TOut>(RecordingSink<TOut> Sink, long FusedEvents, long StagedEvents, long EventsRead);
}
