using LinqStream.Physical.Lifetime;
using LinqStream.Runtime;
using LinqStream.Tests.Infrastructure;

namespace LinqStream.Tests.Physical.Lifetime;

public sealed class ShiftTimeStreamTests
{
    public static TheoryData<int, long> Cases => RandomEvents.BatchSizesAndBases();

    [Theory]
    [MemberData(nameof(Cases))]
    public void ShiftTime_RandomDelta_MatchesLinqToObjects(int batchSize, long baseTime)
    {
        var input = RandomEvents.Generate(batchSize, 10_000, 10, baseTime);
        foreach (long delta in (long[])[0, 7, -1_000_000_007])
        {
            var output = Harness.Run(new ShiftTimeStream<Ev>(RandomEvents.Source(input), delta), Harness.Options(batchSize));
            var expected = RandomEvents.AsEvents(input)
                .Select(e => new StreamEvent<Ev>(e.Start + delta, e.End == long.MaxValue ? long.MaxValue : e.End + delta, e.Payload))
                .ToList();
            Assert.Equal(expected, output.Events);
        }
    }

    [Fact]
    public void ShiftTime_Watermarks_ShiftWithTheEventsAndInfinityStays()
    {
        var source = new ManualStream<int>();
        var context = new QueryContext(Harness.Options());
        var sink = ManualStream<int>.Wire(new ShiftTimeStream<int>(source, -5), context);
        source.Watermark(long.MinValue);
        source.Push((10, 12, 1));
        source.Watermark(10);
        source.Watermark(30);
        source.Complete();
        Assert.Equal([(5L, 7L)], sink.Events.Select(e => (e.Start, e.End)));
        Assert.Equal([5, 25, long.MaxValue], sink.Watermarks);
    }

    [Fact]
    public void ShiftTime_PastTheLargestTime_DropsCollapsedEventsAndSaturates()
    {
        Ev[] input = [new(100, 200, 0, 0), new(long.MaxValue - 10, long.MaxValue - 5, 0, 1), new(long.MaxValue - 10, long.MaxValue, 0, 2)];
        var output = Harness.Run(new ShiftTimeStream<Ev>(RandomEvents.Source(input), long.MaxValue - 150));
        // The second event's start and end both saturate to infinity: an empty lifetime, dropped.
        Assert.Equal([(long.MaxValue - 50, long.MaxValue, 0)], output.Events.Select(e => (e.Start, e.End, e.Payload.Id)));
    }

    [Fact]
    public void ShiftTime_EmptyInput_CompletesWithNoEvents() =>
        Assert.Empty(Harness.Run(new ShiftTimeStream<Ev>(RandomEvents.Source([]), 5)).Events);
}
