using LinqStream.Conformance.Tests.Infrastructure;
using LinqStream.Testing;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Conformance.Tests.Ingress;

/// <summary>
/// Ingress policies on out-of-order bids (500 ms of disorder), against a per-event oracle: an event is late when its time is
/// below the watermark at its arrival, the watermark being the latest time seen so far (minus the reorder delay).
/// Late events are counted, never silently lost, and the answer must not depend on the batch size.
/// </summary>
public sealed class IngressPolicyTests
{
    private static readonly Bid[] Disordered = NexmarkData.Get(10_000, Scenario.Disorder).Bids;

    public static TheoryData<ExecutionMode> Modes => [.. ExecutionMode.All];

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Drop_DisorderedInput_DropsAndCountsEveryEventBelowTheLatestTime(ExecutionMode mode)
    {
        var statistics = new IngressStatistics();
        var query = QStream.From(Disordered, b => b.DateTime, IngressPolicy.Drop.WithStatistics(statistics)).Select(b => b.Price).WithOptions(mode.Options);

        var actual = await query.ToStreamEvents().ToListAsync();

        var late = LateFlags(Disordered, 0);
        var expected = Disordered.Where((b, i) => !late[i]).Select(b => Run.Point(b.DateTime, b.Price));
        Assert.True(late.Count(l => l) > 100, "The data set should have many late events.");
        Run.AssertSequence(expected, actual);
        Assert.Equal(late.Count(l => l), statistics.Dropped);
        Assert.Equal(statistics.Dropped, statistics.Late);
        Assert.Equal(Disordered.Length, statistics.Events);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Adjust_DisorderedInput_MovesEveryLateEventToTheWatermark(ExecutionMode mode)
    {
        var statistics = new IngressStatistics();
        var query = QStream.From(Disordered, b => b.DateTime, IngressPolicy.Adjust.WithStatistics(statistics)).Select(b => b.Price).WithOptions(mode.Options);

        var actual = await query.ToStreamEvents().ToListAsync();

        var expected = new List<StreamEvent<long>>();
        long max = long.MinValue;
        foreach (var b in Disordered)
        {
            long t = b.DateTime.Ticks;
            max = Math.Max(max, t);
            expected.Add(Run.Event(max, max + 1, b.Price));
        }

        Run.AssertSequence(expected, actual);
        Assert.Equal(LateFlags(Disordered, 0).Count(l => l), statistics.Adjusted);
    }

    [Fact]
    public async Task Throw_DisorderedInput_FailsAtTheFirstLateEventNamingPositionLatenessAndPolicy()
    {
        var query = QStream.From(Disordered, b => b.DateTime, name: "bids").Select(b => b.Price);

        var error = await Assert.ThrowsAsync<LateEventException>(() => query.ToListAsync());

        var late = LateFlags(Disordered, 0);
        int first = Array.IndexOf(late, true);
        long maxBefore = Disordered.Take(first).Max(b => b.DateTime.Ticks);
        Assert.Equal("bids", error.SourceName);
        Assert.Equal(first, error.Position);
        Assert.Equal(TimeSpan.FromTicks(maxBefore - Disordered[first].DateTime.Ticks), error.Lateness);
        Assert.Contains("IngressPolicy.Reorder", error.Message, StringComparison.Ordinal);
        Assert.Contains(first.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Reorder_DelaySmallerThanTheDisorder_DropsTheSameLateEventsInEveryBatchSize(ExecutionMode mode)
    {
        var delay = TimeSpan.FromMilliseconds(100);
        var statistics = new IngressStatistics();
        var query = QStream.From(Disordered, b => b.DateTime, IngressPolicy.Reorder(delay).WithStatistics(statistics)).Select(b => b.Price).WithOptions(mode.Options);

        var actual = await query.ToStreamEvents().ToListAsync();

        var late = LateFlags(Disordered, delay.Ticks);
        var expected = Disordered.Where((b, i) => !late[i]).OrderBy(b => b.DateTime).Select(b => Run.Point(b.DateTime, b.Price));
        Assert.True(late.Count(l => l) > 10, "The delay should be too small for some events.");
        Assert.Equal(late.Count(l => l), statistics.Dropped);
        Run.AssertSequence(expected, actual);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Reorder_DelayCoveringTheDisorder_SortsEveryEventAndDropsNone(ExecutionMode mode)
    {
        var statistics = new IngressStatistics();
        var query = QStream.From(Disordered, b => b.DateTime, IngressPolicy.Reorder(Scenario.Disorder).WithStatistics(statistics)).Select(b => b.Price).WithOptions(mode.Options);

        var actual = await query.ToStreamEvents().ToListAsync();

        Run.AssertSequence(Disordered.OrderBy(b => b.DateTime).Select(b => Run.Point(b.DateTime, b.Price)), actual);
        Assert.Equal(0, statistics.Late);
        Assert.Equal(Disordered.Length, statistics.Events);
    }

    /// <summary>Which events are late: below (latest time so far − <paramref name="delay"/>) when they arrive.</summary>
    private static bool[] LateFlags(Bid[] bids, long delay)
    {
        var late = new bool[bids.Length];
        long max = long.MinValue;
        for (int i = 0; i < bids.Length; i++)
        {
            long t = bids[i].DateTime.Ticks;
            late[i] = max != long.MinValue && t < max - delay;
            if (!late[i])
            {
                max = Math.Max(max, t);
            }
        }

        return late;
    }
}
