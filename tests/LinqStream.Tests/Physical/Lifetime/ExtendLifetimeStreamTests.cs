using LinqStream.Physical.Lifetime;
using LinqStream.Runtime;
using LinqStream.Tests.Infrastructure;

namespace LinqStream.Tests.Physical.Lifetime;

public sealed class ExtendLifetimeStreamTests
{
    public static TheoryData<int, long> Cases => RandomEvents.BatchSizesAndBases();

    private static List<StreamEvent<Ev>> Oracle(Ev[] input, long delta) =>
        RandomEvents.AsEvents(input)
            .Select(e => e with { End = e.End == long.MaxValue ? long.MaxValue : e.End + delta })
            .Where(e => e.End > e.Start)
            .ToList();

    [Theory]
    [MemberData(nameof(Cases))]
    public void ExtendLifetime_PositiveDelta_MatchesLinqToObjects(int batchSize, long baseTime)
    {
        var input = RandomEvents.Generate(batchSize, 10_000, 10, baseTime);
        var output = Harness.Run(new ExtendLifetimeStream<Ev>(RandomEvents.Source(input), 15), Harness.Options(batchSize));
        Assert.Equal(Oracle(input, 15), output.Events);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ExtendLifetime_NegativeDelta_ShortensAndDropsEmptyLifetimes(int batchSize, long baseTime)
    {
        var input = RandomEvents.Generate(batchSize + 1, 10_000, 10, baseTime);
        var output = Harness.Run(new ExtendLifetimeStream<Ev>(RandomEvents.Source(input), -10), Harness.Options(batchSize));
        var expected = Oracle(input, -10);
        Assert.InRange(expected.Count, 1, input.Length - 1);
        Assert.Equal(expected, output.Events);
    }

    [Fact]
    public void ExtendLifetime_NegativeDeltaLongerThanEveryLifetime_EmitsNothingAndReturnsBatches()
    {
        var input = RandomEvents.Generate(3, 5_000, 10, 0, infiniteRate: 0);
        var output = Harness.Run(new ExtendLifetimeStream<Ev>(RandomEvents.Source(input), -100), Harness.Options(7));
        Assert.Empty(output.Events);
    }

    [Fact]
    public void ExtendLifetime_EmptyInput_CompletesWithNoEvents()
    {
        var output = Harness.Run(new ExtendLifetimeStream<Ev>(RandomEvents.Source([]), 5));
        Assert.Empty(output.Events);
    }

    [Fact]
    public void ExtendLifetime_EndNearInfinity_SaturatesAndInfiniteEndStaysInfinite()
    {
        Ev[] input = [new(long.MaxValue - 100, long.MaxValue - 50, 0, 0), new(long.MaxValue - 90, long.MaxValue, 0, 1)];
        var grown = Harness.Run(new ExtendLifetimeStream<Ev>(RandomEvents.Source(input), long.MaxValue / 2));
        Assert.Equal([long.MaxValue, long.MaxValue], grown.Events.Select(e => e.End));

        var shrunk = Harness.Run(new ExtendLifetimeStream<Ev>(RandomEvents.Source(input), -long.MaxValue));
        Assert.Equal([(long.MaxValue - 90, long.MaxValue)], shrunk.Events.Select(e => (e.Start, e.End)));
    }

    [Fact]
    public void ExtendLifetime_Watermarks_PassThroughUnchanged()
    {
        var source = new ManualStream<int>();
        var context = new QueryContext(Harness.Options());
        var sink = ManualStream<int>.Wire(new ExtendLifetimeStream<int>(source, -3), context);
        source.Push((10, 12, 1), (11, 20, 2));
        source.Watermark(15);
        source.Complete();
        Assert.Equal([(11L, 17L)], sink.Events.Select(e => (e.Start, e.End)));
        Assert.Equal([15, long.MaxValue], sink.Watermarks);
        Assert.True(sink.Completed);
        Assert.Equal(0, context.OutstandingBatches());
    }
}
