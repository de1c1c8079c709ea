using System.Linq.Expressions;
using LinqStream.Physical.Lifetime;
using LinqStream.Physical.Multicast;
using LinqStream.Physical.Pipeline;
using LinqStream.Physical.Union;
using LinqStream.Plan;
using LinqStream.Runtime;
using LinqStream.Tests.Infrastructure;
using LinqStream.Tests.Physical.Lifetime;

namespace LinqStream.Tests.Physical.Multicast;

public sealed class MulticastStreamTests
{
    public static TheoryData<int, long> Cases => RandomEvents.BatchSizesAndBases();

    private static PipelineStream<Ev, Ev> Where(PhysicalStream<Ev> source, Expression<Func<Ev, bool>> predicate) => new(source, [new PipelineStep(true, predicate)]);

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
}
