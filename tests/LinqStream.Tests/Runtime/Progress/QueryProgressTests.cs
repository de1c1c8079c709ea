using System.Reactive.Linq;

namespace LinqStream.Tests.Runtime.Progress;

public sealed class QueryProgressTests
{
    private static readonly DateTime s_origin = new(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private static (DateTime Time, int Id)[] InOrder(int count, TimeSpan step) =>
        Enumerable.Range(0, count).Select(i => (s_origin + (step * i), i)).ToArray();

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(256)]
    public async Task Replay_ReportsArriveInOrder_WatermarkMonotone_FinalCountIsTheInput(int batchSize)
    {
        var input = InOrder(20_000, TimeSpan.FromMilliseconds(10));
        var recorder = new Recorder();
        var query = QStream.From(input, x => x.Time, IngressPolicy.Throw, "ticks")
            .Where(x => x.Id % 2 == 0)
            .WithOptions(new QueryOptions { BatchSize = batchSize, Progress = recorder, ProgressInterval = TimeSpan.Zero });

        var results = await query.ToListAsync();

        Assert.Equal(10_000, results.Count);
        var reports = recorder.Reports;
        // Zero interval: a report every few steps (a step is one batch), and the last one when the run ends.
        int steps = (input.Length + batchSize - 1) / batchSize;
        Assert.InRange(reports.Count, (steps / ProgressReporterSteps) - 1, (steps / ProgressReporterSteps) + 2);
        AssertMonotone(reports);
        var last = reports[^1];
        Assert.True(last.IsCompleted);
        Assert.Equal(input.Length, last.EventsRead);
        Assert.Equal(long.MaxValue, last.WatermarkTicks);
        Assert.Null(last.Watermark);
        Assert.Equal(new DateTimeOffset(input[^1].Time), last.MaxEventTime);
        Assert.All(reports.Take(reports.Count - 1), r => Assert.False(r.IsCompleted));
        var source = Assert.Single(last.Sources);
        Assert.Equal(("ticks", input.Length, true), (source.Name, source.EventsRead, source.IsCompleted));
    }

    [Fact]
    public async Task Reorder_LagIsTheDisorderBound_WatermarkTrailsTheLatestEvent()
    {
        var input = InOrder(50_000, TimeSpan.FromMilliseconds(1));
        var bound = TimeSpan.FromSeconds(2);
        var recorder = new Recorder();
        var query = QStream.From(input, x => x.Time, IngressPolicy.Reorder(bound))
            .WithOptions(new QueryOptions { BatchSize = 64, Progress = recorder, ProgressInterval = TimeSpan.Zero });

        await query.ToListAsync();

        var running = recorder.Reports.Where(r => !r.IsCompleted).ToList();
        Assert.NotEmpty(running);
        foreach (var report in running)
        {
            // In-order input under Reorder(2 s): the watermark is always the latest event time minus the bound.
            Assert.Equal(bound, report.WatermarkLag);
            Assert.Equal(report.MaxEventTime!.Value - bound, report.Watermark);
            Assert.Equal(report.EventsRead, report.Sources[0].EventsRead);
        }

        Assert.Null(recorder.Reports[^1].WatermarkLag);
    }

    [Fact]
    public async Task Join_TwoSources_WatermarkIsTheLowest_LagIsHowFarTheSlowerTrails()
    {
        var left = InOrder(30_000, TimeSpan.FromMilliseconds(1));
        var right = InOrder(3_000, TimeSpan.FromMilliseconds(10));
        var recorder = new Recorder();
        var query =
            (from l in QStream.From(left, x => x.Time, IngressPolicy.Throw, "left")
             join r in QStream.From(right, x => x.Time, IngressPolicy.Throw, "right") on l.Id equals r.Id
             select l.Id)
            .WithOptions(new QueryOptions { BatchSize = 100, Progress = recorder, ProgressInterval = TimeSpan.Zero });

        await query.ToListAsync();

        var reports = recorder.Reports;
        AssertMonotone(reports);
        Assert.Equal(["left", "right"], reports[^1].Sources.Select(s => s.Name).Order());
        Assert.Equal(33_000, reports[^1].EventsRead);
        foreach (var report in reports.Where(r => !r.IsCompleted && r.Sources.All(s => s.Watermark is not null)))
        {
            Assert.Equal(report.Sources.Min(s => s.WatermarkTicks), report.WatermarkTicks);
            Assert.Equal(report.Sources.Max(s => s.MaxEventTimeTicks), report.MaxEventTimeTicks);
            Assert.Equal(report.Sources.Sum(s => s.EventsRead), report.EventsRead);
            Assert.Equal(TimeSpan.FromTicks(report.MaxEventTimeTicks - report.WatermarkTicks), report.WatermarkLag);
        }
    }

    [Fact]
    public async Task LiveSource_ReportsThroughTheAsyncRunLoop()
    {
        var input = InOrder(5_000, TimeSpan.FromMilliseconds(1));
        var recorder = new Recorder();
        var query = QStream.From(input.ToObservable(), x => x.Time, IngressPolicy.Throw, "live")
            .WithOptions(new QueryOptions { BatchSize = 16, Progress = recorder, ProgressInterval = TimeSpan.Zero });

        var results = await query.ToListAsync();

        Assert.Equal(input.Length, results.Count);
        AssertMonotone(recorder.Reports);
        Assert.True(recorder.Reports[^1].IsCompleted);
        Assert.Equal(input.Length, recorder.Reports[^1].EventsRead);
    }

    [Fact]
    public async Task LongInterval_OnlyTheFinalReport()
    {
        var recorder = new Recorder();
        var query = QStream.From(InOrder(10_000, TimeSpan.FromSeconds(1)), x => x.Time)
            .WithOptions(new QueryOptions { BatchSize = 10, Progress = recorder, ProgressInterval = TimeSpan.FromHours(1) });

        await query.ToListAsync();

        var report = Assert.Single(recorder.Reports);
        Assert.True(report.IsCompleted);
        Assert.Equal(10_000, report.EventsRead);
    }

    [Fact]
    public async Task NoEvents_FinalReportHasNoEventTimeAndNoLag()
    {
        var recorder = new Recorder();
        await QStream.From(Array.Empty<(DateTime Time, int Id)>(), x => x.Time)
            .WithOptions(new QueryOptions { Progress = recorder }).ToListAsync();

        var report = Assert.Single(recorder.Reports);
        Assert.Equal((0L, long.MinValue, true), (report.EventsRead, report.MaxEventTimeTicks, report.IsCompleted));
        Assert.Null(report.MaxEventTime);
        Assert.Null(report.WatermarkLag);
    }

    [Fact]
    public async Task PulledToTheEnd_TheLastReportHasArrivedWhenTheLoopEnds()
    {
        // The consumer used to stop the run as soon as the last result arrived, before the runner sent its last report.
        var input = InOrder(300, TimeSpan.FromSeconds(1));
        for (int attempt = 0; attempt < 50; attempt++)
        {
            var recorder = new Recorder();
            var query = QStream.From(input, x => x.Time)
                .WithOptions(new QueryOptions { BatchSize = 1, Progress = recorder, ProgressInterval = TimeSpan.FromHours(1) });
            int results = 0;
            await foreach (var _ in query.ToAsyncEnumerable())
            {
                results++;
            }

            var report = Assert.Single(recorder.Reports);
            Assert.Equal((input.Length, input.Length, true), (results, report.EventsRead, report.IsCompleted));
        }
    }

    [Fact]
    public async Task StoppedByAFailure_StillSendsALastReportThatIsNotCompleted()
    {
        var recorder = new Recorder();
        var query = QStream.From(InOrder(1_000, TimeSpan.FromSeconds(1)), x => x.Time)
            .Select(x => 1_000 / (500 - x.Id))
            .WithOptions(new QueryOptions { BatchSize = 10, Progress = recorder, ProgressInterval = TimeSpan.FromHours(1) });

        await Assert.ThrowsAsync<QueryExecutionException>(() => query.ToListAsync());

        var report = Assert.Single(recorder.Reports);
        Assert.False(report.IsCompleted);
        Assert.Equal(510, report.EventsRead);
    }

    [Fact]
    public async Task ReportThrows_TheQueryStopsWithThatException()
    {
        var query = QStream.From(InOrder(10_000, TimeSpan.FromSeconds(1)), x => x.Time)
            .WithOptions(new QueryOptions { BatchSize = 10, Progress = new Throwing(), ProgressInterval = TimeSpan.Zero });

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => query.ToListAsync());
        Assert.Equal("progress sink failed", error.Message);
    }

    [Fact]
    public void NegativeInterval_IsRejected() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new QueryOptions { ProgressInterval = TimeSpan.FromMilliseconds(-1) });

    [Fact]
    public void Lag_IsNullUntilBothTimesAreFinite_AndNeverNegative()
    {
        var t = new DateTimeOffset(s_origin).UtcTicks;
        Assert.Null(new QueryProgress(0, long.MinValue, t, TimeSpan.Zero, false, []).WatermarkLag);
        Assert.Null(new QueryProgress(0, long.MaxValue, t, TimeSpan.Zero, true, []).WatermarkLag);
        Assert.Equal(TimeSpan.FromSeconds(3), new QueryProgress(0, t, t + TimeSpan.TicksPerSecond * 3, TimeSpan.Zero, false, []).WatermarkLag);
        // An idle live source may advance its watermark past the events it read.
        Assert.Equal(TimeSpan.Zero, new QueryProgress(0, t + 5, t, TimeSpan.Zero, false, []).WatermarkLag);
        // Long ticks outside DateTimeOffset's range are still ordered, but have no time.
        Assert.Null(new SourceProgress("s", 1, -1_000_000_000_000_000, -999_999_999_000_000, false).Watermark);
        Assert.Equal(TimeSpan.FromTicks(1_000_000), new SourceProgress("s", 1, -1_000_000_000_000_000, -999_999_999_000_000, false).WatermarkLag);
    }

    private const int ProgressReporterSteps = LinqStream.Runtime.ProgressReporter.StepsPerClockRead;

    private static void AssertMonotone(IReadOnlyList<QueryProgress> reports)
    {
        Assert.NotEmpty(reports);
        for (int i = 1; i < reports.Count; i++)
        {
            Assert.True(reports[i].WatermarkTicks >= reports[i - 1].WatermarkTicks, $"report {i}: watermark went back from {reports[i - 1].WatermarkTicks} to {reports[i].WatermarkTicks}");
            Assert.True(reports[i].EventsRead >= reports[i - 1].EventsRead, $"report {i}: events read went back");
            Assert.True(reports[i].Elapsed >= reports[i - 1].Elapsed, $"report {i}: elapsed went back");
        }
    }

    /// <summary>Keeps every report in arrival order (Report runs on the query's thread).</summary>
    private sealed class Recorder : IProgress<QueryProgress>
    {
        private readonly List<QueryProgress> _reports = [];

        public IReadOnlyList<QueryProgress> Reports
        {
            get
            {
                lock (_reports)
                {
                    return [.. _reports];
                }
            }
        }

        public void Report(QueryProgress value)
        {
            lock (_reports)
            {
                _reports.Add(value);
            }
        }
    }

    private sealed class Throwing : IProgress<QueryProgress>
    {
        public void Report(QueryProgress value) => throw new InvalidOperationException("progress sink failed");
    }
}
