using LinqStream.Physical.Lifetime;
using LinqStream.Tests.Infrastructure;

namespace LinqStream.Tests.Physical.Lifetime;

public sealed class PointEventsStreamTests
{
    public static TheoryData<int, long> Cases => RandomEvents.BatchSizesAndBases();

    [Theory]
    [MemberData(nameof(Cases))]
    public void PointEvents_RandomInput_MatchesLinqToObjects(int batchSize, long baseTime)
    {
        var input = RandomEvents.Generate(batchSize, 10_000, 10, baseTime);
        var output = Harness.Run(new PointEventsStream<Ev>(RandomEvents.Source(input)), Harness.Options(batchSize));
        Assert.Equal(RandomEvents.AsEvents(input).Select(e => e with { End = e.Start + 1 }), output.Events);
    }

    [Fact]
    public void PointEvents_EmptyInput_CompletesWithNoEvents() =>
        Assert.Empty(Harness.Run(new PointEventsStream<Ev>(RandomEvents.Source([]))).Events);
}
