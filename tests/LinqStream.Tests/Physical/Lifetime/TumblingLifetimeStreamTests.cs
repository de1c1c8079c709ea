using LinqStream.Physical.Windows.Tumbling;
using LinqStream.Runtime;
using LinqStream.Tests.Infrastructure;

namespace LinqStream.Tests.Physical.Lifetime;

public sealed class TumblingLifetimeStreamTests
{
    public static TheoryData<int, long> Cases => RandomEvents.BatchSizesAndBases();

    [Theory]
    [MemberData(nameof(Cases))]
    public void TumblingLifetime_RandomInput_MatchesLinqToObjects(int batchSize, long baseTime)
    {
        var input = RandomEvents.Generate(batchSize, 10_000, 10, baseTime);
        foreach (long size in (long[])[1, 7, 1000])
        {
            var output = Harness.Run(new TumblingLifetimeStream<Ev>(RandomEvents.Source(input), size), Harness.Options(batchSize));
            var expected = RandomEvents.AsEvents(input)
                .Select(e => new StreamEvent<Ev>(WindowOracle.Floor(e.Start, size), WindowOracle.Floor(e.Start, size) + size, e.Payload))
                .ToList();
            Assert.Equal(expected, output.Events);
            Assert.All(output.Watermarks.Where(w => w != long.MaxValue), w => Assert.True(WindowOracle.IsAligned(w, size), $"watermark {w} is not aligned to {size}"));
        }
    }

    [Fact]
    public void TumblingLifetime_Watermark_MovesToItsWindowStart()
    {
        var source = new ManualStream<int>();
        var context = new QueryContext(Harness.Options());
        var sink = ManualStream<int>.Wire(new TumblingLifetimeStream<int>(source, 10), context);
        source.Watermark(long.MinValue);
        source.Watermark(WindowOracle.Epoch + 13);
        source.Watermark(WindowOracle.Epoch + 19);
        source.Watermark(WindowOracle.Epoch + 20);
        source.Watermark(-15);
        source.Complete();
        // -15 is below the previous watermark and a source would never send it; it maps below the last output and is dropped.
        Assert.Equal([WindowOracle.Epoch + 10, WindowOracle.Epoch + 20, long.MaxValue], sink.Watermarks);
        Assert.Null(sink.Violation);
    }

    [Fact]
    public void TumblingLifetime_EventOnBoundary_BelongsToNextWindow()
    {
        Ev[] input = [new(WindowOracle.Epoch + 9, 0, 0, 0), new(WindowOracle.Epoch + 10, 0, 0, 1)];
        var output = Harness.Run(new TumblingLifetimeStream<Ev>(RandomEvents.Source(input), 10));
        Assert.Equal([(WindowOracle.Epoch, WindowOracle.Epoch + 10), (WindowOracle.Epoch + 10, WindowOracle.Epoch + 20)], output.Events.Select(e => (e.Start, e.End)));
    }

    [Fact]
    public void TumblingLifetimeKernel_PresentEventsInOneWindow_AbsentOnesOutsideIt_GivesEachPresentEventItsWindow()
    {
        long e = WindowOracle.Epoch;
        var kernel = new TumblingLifetimeKernel(10);

        // The first and the last event are filtered out and lie in other windows: the present ones are all in [e + 10, e + 20).
        long[] start = [e + 3, e + 12, e + 15, e + 19, e + 25];
        var end = new long[5];
        Assert.False(kernel.Apply(start, end, [0b10001UL], 5));
        Assert.Equal([e + 10, e + 10, e + 10], start[1..4]);
        Assert.Equal([e + 20, e + 20, e + 20], end[1..4]);

        // Present events in three windows: each gets its own.
        long[] spread = [e + 3, e + 12, e + 19, e + 25];
        var spreadEnd = new long[4];
        Assert.False(kernel.Apply(spread, spreadEnd, [0UL], 4));
        Assert.Equal([e, e + 10, e + 10, e + 20], spread);
        Assert.Equal([e + 10, e + 20, e + 20, e + 30], spreadEnd);

        // Every event filtered out: nothing to keep, nothing fails.
        long[] none = [e + 1, e + 40];
        Assert.False(kernel.Apply(none, new long[2], [0b11UL], 2));
    }

    [Fact]
    public void TumblingLifetime_EmptyInput_CompletesWithNoEvents() =>
        Assert.Empty(Harness.Run(new TumblingLifetimeStream<Ev>(RandomEvents.Source([]), 10)).Events);

    [Fact]
    public void TumblingLifetime_ZeroSize_ThrowsNamingSize() =>
        Assert.Equal("size", Assert.Throws<ArgumentOutOfRangeException>(() => new TumblingLifetimeStream<Ev>(RandomEvents.Source([]), 0)).ParamName);
}
