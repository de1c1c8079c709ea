using LinqStream.Physical.Windows.Hopping;
using LinqStream.Tests.Infrastructure;

namespace LinqStream.Tests.Physical.Lifetime;

public sealed class HoppingLifetimeStreamTests
{
    public static TheoryData<int, long> Cases => RandomEvents.BatchSizesAndBases();

    [Theory]
    [MemberData(nameof(Cases))]
    public void HoppingLifetime_RandomInput_MatchesLinqToObjects(int batchSize, long baseTime)
    {
        var input = RandomEvents.Generate(batchSize, 10_000, 10, baseTime);
        foreach (var (size, hop) in ((long, long)[])[(10, 2), (1000, 250), (5, 5), (3, 7)])
        {
            var output = Harness.Run(new HoppingLifetimeStream<Ev>(RandomEvents.Source(input), size, hop), Harness.Options(batchSize));
            var expected = RandomEvents.AsEvents(input)
                .Select(e => new StreamEvent<Ev>(WindowOracle.Floor(e.Start, hop), WindowOracle.Add(WindowOracle.Floor(e.Start, hop), size), e.Payload))
                .ToList();
            Assert.Equal(expected, output.Events);
            Assert.All(output.Watermarks.Where(w => w != long.MaxValue), w => Assert.True(WindowOracle.IsAligned(w, hop), $"watermark {w} is not aligned to {hop}"));
        }
    }

    [Theory]
    [InlineData(10, 2)]
    [InlineData(12, 4)]
    [InlineData(4, 4)]
    public void HoppingLifetime_AliveAtHopBoundary_ExactlyTheEventsOfTheWindowEndingOneHopLater(long size, long hop)
    {
        var input = RandomEvents.Generate(1, 2_000, 1, WindowOracle.Epoch - 3_000, maxGap: 3);
        var output = Harness.Run(new HoppingLifetimeStream<Ev>(RandomEvents.Source(input), size, hop));
        for (long t = WindowOracle.Epoch - 3_000; t < WindowOracle.Epoch + 3_000; t += hop)
        {
            long windowEnd = t + hop;
            var alive = output.Events.Where(e => e.Start <= t && t < e.End).Select(e => e.Payload.Id);
            var inWindow = input.Where(x => windowEnd - size <= x.Time && x.Time < windowEnd).Select(x => x.Id);
            Assert.Equal(inWindow, alive);
        }
    }

    [Fact]
    public void HoppingLifetime_EmptyInput_CompletesWithNoEvents() =>
        Assert.Empty(Harness.Run(new HoppingLifetimeStream<Ev>(RandomEvents.Source([]), 10, 2)).Events);

    [Fact]
    public void HoppingLifetime_ZeroHop_ThrowsNamingHop() =>
        Assert.Equal("hop", Assert.Throws<ArgumentOutOfRangeException>(() => new HoppingLifetimeStream<Ev>(RandomEvents.Source([]), 10, 0)).ParamName);
}
