using System.Linq.Expressions;
using LinqStream.Physical.Lifetime;
using LinqStream.Physical.Multicast;
using LinqStream.Physical.Pipeline;
using LinqStream.Physical.Union;
using LinqStream.Runtime;
using LinqStream.Tests.Infrastructure;
using LinqStream.Tests.Physical.Lifetime;

namespace LinqStream.Tests.Physical.Multicast;

public sealed class MulticastStreamTests
{
    public static TheoryData<int, long> Cases => RandomEvents.BatchSizesAndBases();

    private static PipelineStream<Ev, Ev> Where(PhysicalStream<Ev> source, Expression<Func<Ev, bool>> predicate) => new(source, [new PipelineKernelStep(true, predicate)]);

    private static List<StreamEvent<Ev>> Sorted(IEnumerable<StreamEvent<Ev>> events) =>
        events.OrderBy(e => e.Start).ThenBy(e => e.Payload.Id).ThenBy(e => e.End).ToList();

    [Theory]
    [MemberData(nameof(Cases))]
    public void Multicast_UnionOfTwoFilteredBranches_RunsUpstreamOnceAndMatchesLinqToObjects(int batchSize, long baseTime)
    {
        var input = RandomEvents.Generate(batchSize, 10_000, 10, baseTime);
        var counting = new CountingStream<Ev>(RandomEvents.Source(input));
        var shared = new MulticastStream<Ev>(counting);
        var plan = new UnionStream<Ev>(Where(shared, x => x.Id % 2 == 0), Where(shared, x => x.Id % 3 == 0));

        var output = Harness.Run(plan, Harness.Options(batchSize));

        var events = RandomEvents.AsEvents(input);
        Assert.Equal(Sorted(events.Where(e => e.Payload.Id % 2 == 0).Concat(events.Where(e => e.Payload.Id % 3 == 0))), Sorted(output.Events));
        Assert.Equal(1, counting.Connects);
        Assert.Equal(input.Length, counting.Events);
    }

    [Fact]
    public void Multicast_Absent_SharedSubPlanRunsOncePerConsumer()
    {
        var input = RandomEvents.Generate(1, 1_000, 10, 0);
        var counting = new CountingStream<Ev>(RandomEvents.Source(input));
        var plan = new UnionStream<Ev>(Where(counting, x => x.Id % 2 == 0), Where(counting, x => x.Id % 3 == 0));
        Harness.Run(plan);
        Assert.Equal(2, counting.Connects);
        Assert.Equal(2 * input.Length, counting.Events);
    }

    [Fact]
    public void Multicast_ConsumerRewritesItsBatch_OtherConsumersSeeTheOriginal()
    {
        var input = RandomEvents.Generate(2, 5_000, 10, 0);
        var shared = new MulticastStream<Ev>(RandomEvents.Source(input));
        var plan = new UnionStream<Ev>([new ShiftTimeStream<Ev>(shared, 1_000), new ExtendLifetimeStream<Ev>(shared, -1_000), shared]);

        var output = Harness.Run(plan, Harness.Options(7));

        var events = RandomEvents.AsEvents(input);
        var shifted = events.Select(e => new StreamEvent<Ev>(e.Start + 1_000, e.End == long.MaxValue ? long.MaxValue : e.End + 1_000, e.Payload));
        var infiniteOnly = events.Where(e => e.End == long.MaxValue);
        Assert.Equal(Sorted(shifted.Concat(infiniteOnly).Concat(events)), Sorted(output.Events));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Multicast_ChainsAreLentTheSharedBatch_NoConsumerSeesAnotherOnesFilters(int batchSize, long baseTime)
    {
        // Consumer 1 owns the batch; 2 and 3 are filter/projection chains, lent the same batch before 1 gets it (one sparse, one
        // dense); 4 is not a chain and gets a copy. A chain that marked the lent batch would take events from 1 and 4.
        var input = RandomEvents.Generate(batchSize, 10_000, 10, baseTime);
        var shared = new MulticastStream<Ev>(RandomEvents.Source(input));
        var plan = new UnionStream<Ev>(
        [
            Where(shared, x => x.Id % 2 == 0),
            Where(shared, x => x.Key == 3),
            new PipelineStream<Ev, Ev>(shared, [new PipelineKernelStep(true, (Expression<Func<Ev, bool>>)(x => x.Id % 5 != 0)), new PipelineKernelStep(false, (Expression<Func<Ev, Ev>>)(x => new Ev(x.Time, x.End, -x.Key, x.Id)))]),
            new ShiftTimeStream<Ev>(shared, 0),
        ]);

        var output = Harness.Run(plan, Harness.Options(batchSize));

        var events = RandomEvents.AsEvents(input);
        var expected = events.Where(e => e.Payload.Id % 2 == 0)
            .Concat(events.Where(e => e.Payload.Key == 3))
            .Concat(events.Where(e => e.Payload.Id % 5 != 0).Select(e => e with { Payload = e.Payload with { Key = -e.Payload.Key } }))
            .Concat(events);
        Assert.Equal(Sorted(expected), Sorted(output.Events));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    public void Multicast_LentChainThrows_SkipPolicyDeadLettersItsEventsOnly(int batchSize)
    {
        var input = RandomEvents.Generate(batchSize, 2_000, 10, 0);
        var shared = new MulticastStream<Ev>(RandomEvents.Source(input));
        var plan = new UnionStream<Ev>(Where(shared, x => x.Id % 2 == 0), Where(shared, x => x.Id / (x.Id % 97) >= 0 && x.Key == 3));
        var letters = new Letters();

        var output = Harness.Run(plan, Harness.Options(batchSize) with { OnError = ErrorPolicy.SkipAndDeadLetter, DeadLetters = letters });

        var events = RandomEvents.AsEvents(input);
        var expected = events.Where(e => e.Payload.Id % 2 == 0).Concat(events.Where(e => e.Payload.Id % 97 != 0 && e.Payload.Key == 3));
        Assert.Equal(Sorted(expected), Sorted(output.Events));
        Assert.Equal(input.Count(x => x.Id % 97 == 0), letters.Written.Count);
    }

    [Fact]
    public void Multicast_LentChainThrows_FailPolicyStopsWithTheChainsError()
    {
        var input = RandomEvents.Generate(5, 2_000, 10, 0);
        var shared = new MulticastStream<Ev>(RandomEvents.Source(input));
        var plan = new UnionStream<Ev>(Where(shared, x => x.Id % 2 == 0), Where(shared, x => 10 / (x.Id - 1_500) > 0));

        var output = Harness.Run(plan, Harness.Options(64), expectError: true);

        var error = Assert.IsType<QueryExecutionException>(output.Error);
        Assert.Contains("1500", error.Message, StringComparison.Ordinal);
        Assert.IsType<DivideByZeroException>(error.InnerException);
    }

    [Fact]
    public void Multicast_SecondRun_WiresTheSourceAgain()
    {
        var counting = new CountingStream<Ev>(RandomEvents.Source(RandomEvents.Generate(3, 100, 10, 0)));
        var shared = new MulticastStream<Ev>(counting);
        var plan = new UnionStream<Ev>(shared, shared);
        Assert.Equal(200, Harness.Run(plan).Events.Count);
        Assert.Equal(200, Harness.Run(plan).Events.Count);
        Assert.Equal(2, counting.Connects);
        Assert.Equal(200, counting.Events);
    }

    [Fact]
    public void Multicast_EmptyInput_CompletesEveryConsumer()
    {
        var shared = new MulticastStream<Ev>(RandomEvents.Source([]));
        Assert.Empty(Harness.Run(new UnionStream<Ev>(shared, shared)).Events);
    }

    [Fact]
    public void Multicast_SourceFails_EveryConsumerSeesTheErrorAndItGoesDownstreamOnce()
    {
        var shared = new MulticastStream<int>(Harness.Source(Failing(), x => (long)x));
        var output = Harness.Run(new UnionStream<int>(shared, shared), Harness.Options(7), expectError: true);
        var error = Assert.IsType<QueryExecutionException>(output.Error);
        Assert.Equal("boom", error.InnerException?.Message);
    }

    private static IEnumerable<int> Failing()
    {
        for (int i = 0; i < 50; i++)
        {
            yield return i;
        }

        throw new InvalidOperationException("boom");
    }

    private sealed class Letters : IDeadLetterSink
    {
        public List<DeadLetter> Written { get; } = [];

        public void Write(DeadLetter letter) => Written.Add(letter);
    }
}
