using LinqStream.Testing;

namespace LinqStream.Conformance.Tests.Exact;

/// <summary>The representable time range: every long tick, from before year 1 to long.MaxValue, windowed exactly.</summary>
public sealed class TimeRangeTests
{
    public static TheoryData<ExecutionMode> Modes => [.. ExecutionMode.All];

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task TumblingAndHoppingWindows_AtBothEndsOfTheTickRange_KeepEveryEvent(ExecutionMode mode)
    {
        long[] times = [long.MinValue / 2, -TimeSpan.TicksPerDay, -1, 0, 1, DateTimeOffset.MaxValue.UtcTicks, long.MaxValue - 3, long.MaxValue, long.MaxValue];
        var size = TimeSpan.FromHours(1);
        foreach (var hop in new[] { size, TimeSpan.FromMinutes(30) })
        {
            var source = QStream.From(times, t => t).WithOptions(mode.Options);
            var windowed = hop == size ? source.TumblingWindow(size) : source.HoppingWindow(size, hop);
            var query = windowed.Select(w => new { w.Window.StartTicks, N = w.Count(), Max = w.Max(t => t) });

            var actual = (await query.ToListAsync()).Select(r => r.ToString()!).ToList();

            var expected = ReferenceWindows.Fixed(times.Select(t => (t, t)), size.Ticks, hop.Ticks, t => 0, w => new { w.Window.StartTicks, N = w.Count(), Max = w.Max(t => t) })
                .Select(r => r.Result.ToString()!).ToList();
            Assert.Equal(expected.Order(StringComparer.Ordinal), actual.Order(StringComparer.Ordinal));
            Assert.Contains(actual, r => r.Contains($"Max = {long.MaxValue}", StringComparison.Ordinal) && r.Contains("N = 3", StringComparison.Ordinal));
        }
    }
}
