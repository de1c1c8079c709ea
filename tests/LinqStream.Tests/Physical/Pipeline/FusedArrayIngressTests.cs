using System.Linq.Expressions;
using LinqStream.Physical.Ingress;
using LinqStream.Physical.Pipeline;
using LinqStream.Query;
using LinqStream.Runtime;
using LinqStream.Runtime.Egress;
using LinqStream.Runtime.Ingress;
using LinqStream.Tests.Infrastructure;

namespace LinqStream.Tests.Physical.Pipeline;

/// <summary>
/// Issue #19: the fused ingress reads each batch's slice of a replayed array in place (a list's from a copy in one reused
/// array). Every run is made two ways — fused and unfused (<c>Fuse = false</c>: the copy into batches, the time pass and the
/// chain pass) — which must give the same events, watermarks, late counts, errors and positions, and LINQ to objects' answer
/// over the whole input; the caller's array is never written. (Session 15's staged read of an array, a copy of each slice
/// first, was removed in session 16: it did not win in both orders of a quiet A/B.)
/// </summary>
public sealed class FusedArrayIngressTests
{
    private const long Poison = 4_242_424_242L; // the key of the one event a selector throws for, in the scenarios that throw
    private const int Failing = 4_321; // the index of the event that is late (under Throw) or poisoned

    /// <summary>How a run reads the array.</summary>
    public enum Read
    {
        /// <summary>Fused: the kernel reads the slice in place (the default).</summary>
        InPlace,

        /// <summary>Not fused (<c>Fuse = false</c>).</summary>
        Unfused,
    }

    /// <summary>What the input holds besides events in start order (with ties).</summary>
    public enum Disorder
    {
        /// <summary>Every event in order.</summary>
        None,

        /// <summary>Now and then an event from the past, under <c>IngressPolicy.Drop</c>.</summary>
        LateDropped,

        /// <summary>The same under <c>IngressPolicy.Adjust</c>.</summary>
        LateAdjusted,

        /// <summary>One late event, at <see cref="Failing"/>, under <c>IngressPolicy.Throw</c>.</summary>
        LateThrows,

        /// <summary>The event-time selector throws for the event at <see cref="Failing"/>.</summary>
        TimeSelectorThrows,

        /// <summary>The chain's projection throws for the event at <see cref="Failing"/>.</summary>
        ChainThrows,
    }

    /// <summary>An input event of a value type (24 bytes): a time, a value uniform in 0..99 and a key anywhere in the range of long.</summary>
    public readonly record struct Tick(long Time, int Value, long Key);

    /// <summary>A projection's result.</summary>
    public readonly record struct Scaled(long Key, int Value);

    /// <summary>The same fields in a class.</summary>
    public sealed record TickObject(long Time, int Value, long Key);

    public static TheoryData<Disorder, int> DisordersAndBatchSizes()
    {
        var data = new TheoryData<Disorder, int>();
        foreach (var disorder in Enum.GetValues<Disorder>())
        {
            foreach (int batchSize in (int[])[1, 7, 64, 333, 2048])
            {
                data.Add(disorder, batchSize);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(DisordersAndBatchSizes))]
    public void FusedAndUnfused_GiveTheSameOutcome_AndLinqToObjectsAnswer(Disorder disorder, int batchSize)
    {
        var random = new Random((batchSize * 37) + (int)disorder);
        var input = Ticks(6_000, random);
        switch (disorder)
        {
            case Disorder.LateDropped or Disorder.LateAdjusted:
                foreach (int i in Enumerable.Range(1, input.Length - 1).Where(_ => random.Next(250) == 0))
                {
                    input[i] = new Tick(input[i - 1].Time - random.Next(40), input[i].Value, input[i].Key); // late unless a tie saves it
                }

                break;
            case Disorder.LateThrows:
                input[Failing] = new Tick(input[Failing - 1].Time - 3, input[Failing].Value, input[Failing].Key);
                break;
            case Disorder.TimeSelectorThrows or Disorder.ChainThrows:
                input[Failing] = new Tick(input[Failing].Time, 10, Poison); // kept by the filter
                break;
        }

        Assert.Equal(disorder is Disorder.TimeSelectorThrows or Disorder.ChainThrows ? 1 : 0, input.Count(x => x.Key == Poison));
        var original = (Tick[])input.Clone();
        var policy = disorder switch { Disorder.LateDropped => IngressPolicy.Drop, Disorder.LateAdjusted => IngressPolicy.Adjust, _ => IngressPolicy.Throw };
        Expression<Func<Tick, long>> time = disorder == Disorder.TimeSelectorThrows ? (x => x.Key == Poison ? 1 / (x.Time - x.Time) : x.Time) : (x => x.Time);
        List<PipelineKernelStep> steps =
        [
            Where<Tick>(x => x.Value < 50),
            Select<Tick, Scaled>(x => x.Key == Poison ? new Scaled(x.Key, 1 / (x.Value - x.Value)) : new Scaled(x.Key * 31, x.Value)),
        ];

        bool fails = disorder is Disorder.LateThrows or Disorder.TimeSelectorThrows or Disorder.ChainThrows;
        var runs = Enum.GetValues<Read>().ToDictionary(read => read, read => Run<Scaled>(input, time, steps, batchSize, read, policy, fails));

        // LINQ to objects: each event at its time, or the latest time before it when late (Adjust); late events gone under Drop;
        // a run that fails stops after the slices before the failing event's.
        var latestBefore = new long[input.Length];
        for (int i = 1; i < input.Length; i++)
        {
            latestBefore[i] = Math.Max(latestBefore[i - 1], input[i - 1].Time);
        }

        bool IsLate(int i) => i > 0 && input[i].Time < latestBefore[i];
        int end = fails ? (Failing / batchSize) * batchSize : input.Length;
        var expected = Enumerable.Range(0, end)
            .Where(i => input[i].Value < 50 && !(IsLate(i) && disorder == Disorder.LateDropped))
            .Select(i => Point(IsLate(i) ? latestBefore[i] : input[i].Time, new Scaled(input[i].Key * 31, input[i].Value)))
            .ToList();
        var slicesWithALateEvent = Enumerable.Range(0, input.Length).Where(IsLate).Select(i => i / batchSize).ToHashSet();
        long fusedExpected = Enumerable.Range(0, end).Count(i => !slicesWithALateEvent.Contains(i / batchSize));

        foreach (var read in Enum.GetValues<Read>())
        {
            var run = runs[read];
            Assert.Equal(expected, run.Sink.Events);
            Assert.Equal(runs[Read.Unfused].Sink.Watermarks, run.Sink.Watermarks);
            Assert.Equal(runs[Read.Unfused].Sink.Error?.GetType(), run.Sink.Error?.GetType());
            Assert.Equal(runs[Read.Unfused].Sink.Error?.Message, run.Sink.Error?.Message);
            Assert.Equal(runs[Read.Unfused].Counts, run.Counts);
        }

        Assert.Equal(original, input);
        if (disorder is Disorder.LateDropped or Disorder.LateAdjusted)
        {
            long late = Enumerable.Range(0, input.Length).LongCount(IsLate);
            Assert.True(late > 5, "the input must have late events");
            Assert.Equal((late, (long)input.Length), (runs[Read.InPlace].Counts.Late, runs[Read.InPlace].Counts.Events));
        }
        else if (disorder == Disorder.LateThrows)
        {
            Assert.Equal(Failing, Assert.IsType<LateEventException>(runs[Read.InPlace].Sink.Error).Position);
        }
        else if (fails)
        {
            Assert.IsType<DivideByZeroException>(Assert.IsType<QueryExecutionException>(runs[Read.InPlace].Sink.Error).InnerException);
        }

        // The slices without a late or failing event went through the fused chain; unfused, none did.
        Assert.Equal((fusedExpected, 0L), (runs[Read.InPlace].FusedEvents, runs[Read.Unfused].FusedEvents));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(64)]
    [InlineData(4096)]
    public void AFilterAlone_AndAFourStepChain_MatchLinqToObjects(int batchSize)
    {
        var input = Ticks(10_000, new Random(batchSize + 3));
        AssertEveryReadGives(input, [Where<Tick>(x => (x.Key & 3) != 0)], batchSize, input.Where(x => (x.Key & 3) != 0).Select(x => Point(x.Time, x)).ToList());

        List<PipelineKernelStep> chain =
        [
            Select<Tick, Scaled>(x => new Scaled(x.Key >> 7, x.Value + 1)),
            Where<Scaled>(s => s.Value % 5 != 0),
            Select<Scaled, string>(s => s.Value + ":" + s.Key),
            Where<string>(s => s.Length < 18),
        ];
        List<StreamEvent<string>> expected =
        [
            .. from x in input
               let s = new Scaled(x.Key >> 7, x.Value + 1)
               where s.Value % 5 != 0
               let text = s.Value + ":" + s.Key
               where text.Length < 18
               select Point(x.Time, text),
        ];
        Assert.NotEmpty(expected);
        AssertEveryReadGives(input, chain, batchSize, expected);
    }

    [Fact]
    public void EmptyAndShortArrays_AndTimesAtTheEndOfTime_MatchLinqToObjects()
    {
        AssertEveryReadGives<Tick>([], [Where<Tick>(x => x.Value < 50)], 64, []);

        var few = Ticks(5, new Random(3));
        AssertEveryReadGives(few, [Where<Tick>(x => x.Value >= 0)], 2048, few.Select(x => Point(x.Time, x)).ToList());

        // Events one tick before the end of time end at the end of time.
        var late = Ticks(3_000, new Random(5));
        for (int i = 0; i < late.Length; i++)
        {
            late[i] = late[i] with { Time = i < 2_900 ? long.MaxValue - 10_000 + late[i].Time % 5_000 : long.MaxValue - 1 };
        }

        Array.Sort(late, (a, b) => a.Time.CompareTo(b.Time));
        var expected = late.Where(x => x.Value < 50).Select(x => Point(x.Time, x)).ToList();
        AssertEveryReadGives(late, [Where<Tick>(x => x.Value < 50)], 64, expected);
        Assert.Equal(long.MaxValue, expected[^1].End);
    }

    [Fact]
    public void AnArrayOfAClass_AndAListOfAStruct_AreFused_AndMatchLinqToObjects()
    {
        var ticks = Ticks(5_000, new Random(19));
        var expected = ticks.Where(x => x.Value < 50).Select(x => Point(x.Time, x.Key)).ToList();

        // An array of a class: its slice read in place (the kernel reads the objects the references point to).
        var objects = ticks.Select(x => new TickObject(x.Time, x.Value, x.Key)).ToArray();
        var (objectSink, objectExecution) = Harness.Execute(new PipelineStream<TickObject, long>(Harness.Source(objects, x => x.Time), [Where<TickObject>(x => x.Value < 50), Select<TickObject, long>(x => x.Key)]), Options(256, Read.InPlace));
        var objectSource = Assert.Single(objectExecution.Context.Sources.OfType<EnumerableSource<TickObject>>());
        Assert.Equal(expected, objectSink.Events);
        Assert.Equal(5_000L, objectSource.FusedEvents);

        // A list of a value type: each slice copied into the source's reused array, then the same kernel.
        foreach (var read in Enum.GetValues<Read>())
        {
            var outcome = Execute<long>(new PipelineStream<Tick, long>(Harness.Source(ticks.ToList(), x => x.Time), [Where<Tick>(x => x.Value < 50), Select<Tick, long>(x => x.Key)]), Options(256, read));
            Assert.Equal(expected, outcome.Sink.Events);
            Assert.Equal(read == Read.InPlace ? 5_000L : 0L, outcome.FusedEvents);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(64)]
    [InlineData(4096)]
    public void AMulticastToTwoChains_ReadsTheSliceInPlace_AndMatchesLinqToObjects(int batchSize)
    {
        // One source, two chains (a multicast whose one kernel reads the slice for both), their results in one stream.
        var input = Ticks(12_000, new Random(batchSize * 23));
        static IQStream<long> Query(IQStream<Tick> ticks) =>
            ticks.Where(x => x.Value < 30).Select(x => x.Key).Union(ticks.Where(x => x.Value >= 60).Select(x => (x.Value * 1_000L) + (x.Time % 1_000)));
        List<long> expected =
        [
            .. input.Where(x => x.Value < 30).Select(x => x.Key),
            .. input.Where(x => x.Value >= 60).Select(x => (x.Value * 1_000L) + (x.Time % 1_000)),
        ];

        var runs = Enum.GetValues<Read>().ToDictionary(read => read, read => Compiled(Query(QStream.From(input, x => x.Time, IngressPolicy.Throw, "ticks").WithOptions(Options(batchSize, read)))));
        foreach (var read in Enum.GetValues<Read>())
        {
            Assert.Equal(runs[Read.Unfused].Sink.Events, runs[read].Sink.Events);
            Assert.Equal(runs[Read.Unfused].Sink.Watermarks, runs[read].Sink.Watermarks);
        }

        Assert.Equal(expected.Order(), runs[Read.InPlace].Sink.Events.Select(e => e.Payload).Order());
        Assert.Equal((12_000L, 0L), (runs[Read.InPlace].FusedEvents, runs[Read.Unfused].FusedEvents));
    }

    /// <summary>Runs the chain fused and unfused: each must give <paramref name="expected"/> and the same watermarks, each reading every event its own way.</summary>
    private static void AssertEveryReadGives<TOut>(Tick[] input, List<PipelineKernelStep> steps, int batchSize, List<StreamEvent<TOut>> expected)
    {
        var runs = Enum.GetValues<Read>().ToDictionary(read => read, read => Run<TOut>(input, x => x.Time, steps, batchSize, read, IngressPolicy.Throw, fails: false));
        foreach (var read in Enum.GetValues<Read>())
        {
            Assert.Equal(expected, runs[read].Sink.Events);
            Assert.Equal(runs[Read.Unfused].Sink.Watermarks, runs[read].Sink.Watermarks);
            Assert.Equal(input.Length, runs[read].EventsRead);
        }

        Assert.Equal(((long)input.Length, 0L), (runs[Read.InPlace].FusedEvents, runs[Read.Unfused].FusedEvents));
    }

    private static QueryOptions Options(int batchSize, Read read) =>
        new() { BatchSize = batchSize, Strict = true, Fuse = read != Read.Unfused };

    private static Outcome<TOut> Run<TOut>(Tick[] input, Expression<Func<Tick, long>> time, List<PipelineKernelStep> steps, int batchSize, Read read, IngressPolicy policy, bool fails)
    {
        var statistics = new IngressStatistics();
        var source = new IngressStream<Tick>(input, EventTimeKernel.Compile<Tick>(time, null), policy.WithStatistics(statistics), "ticks");
        var outcome = Execute<TOut>(new PipelineStream<Tick, TOut>(source, steps), Options(batchSize, read), fails);
        return outcome with { Counts = (statistics.Events, statistics.Late, statistics.Dropped, statistics.Adjusted) };
    }

    private static Outcome<TOut> Execute<TOut>(PhysicalStream<TOut> plan, QueryOptions options, bool expectError = false)
    {
        var (sink, execution) = Harness.Execute(plan, options, expectError);
        var sources = execution.Context.Sources.OfType<EnumerableSource<Tick>>().ToList();
        return new Outcome<TOut>(sink, sources.Sum(s => s.FusedEvents), execution.Context.Sources.Sum(s => s.EventsRead), default);
    }

    private static Outcome<T> Compiled<T>(IQStream<T> query)
    {
        var compiled = QueryCompiler.Compile<T>(query.Expression);
        return Execute<T>(compiled.Root, compiled.Options);
    }

    private static PipelineKernelStep Where<T>(Expression<Func<T, bool>> f) => new(true, f);

    private static PipelineKernelStep Select<T, TR>(Expression<Func<T, TR>> f) => new(false, f);

    /// <summary>In start order, a third of the steps ties; values uniform in 0..99; keys anywhere in the range of long, its ends a fifth of the time.</summary>
    private static Tick[] Ticks(int count, Random random)
    {
        long time = 1_000;
        return
        [
            .. Enumerable.Range(0, count).Select(_ =>
            {
                time += random.Next(3) == 0 ? 0 : random.Next(1, 4);
                long key = random.Next(10) switch { 0 => long.MinValue, 1 => long.MaxValue, _ => random.NextInt64(long.MinValue, long.MaxValue) };
                return new Tick(time, random.Next(100), key);
            }),
        ];
    }

    private static StreamEvent<T> Point<T>(long time, T payload) => new(time, time == long.MaxValue ? long.MaxValue : time + 1, payload);

    private sealed record Outcome<TOut>(RecordingSink<TOut> Sink, long FusedEvents, long EventsRead, (long Events, long Late, long Dropped, long Adjusted) Counts);
}
