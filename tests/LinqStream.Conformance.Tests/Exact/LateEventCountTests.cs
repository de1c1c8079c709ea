using LinqStream.Testing.Io;

namespace LinqStream.Conformance.Tests.Exact;

/// <summary>Late events leave a trace without an <see cref="IngressStatistics"/>: the job result and the progress report count them.</summary>
public sealed class LateEventCountTests
{
    // Times in ticks; 5, 3 and 6 arrive after a later event (late under an in-order policy), 6 after 9.
    private static readonly long[] Times = [1, 2, 10, 5, 11, 3, 12, 9, 13, 6, 14];

    private sealed class Recorder : IProgress<QueryProgress>
    {
        public List<QueryProgress> Reports { get; } = [];

        public void Report(QueryProgress value)
        {
            lock (Reports)
            {
                Reports.Add(value);
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4096)]
    public async Task Drop_WithoutStatistics_JobResultCountsTheDroppedEvents(int batchSize)
    {
        var sink = new MemorySink<long>();
        var query = QStream.From(new ArrayEventSource<long>(Times, "times"), t => t, IngressPolicy.Drop).WithOptions(new QueryOptions { BatchSize = batchSize });
        await using var job = query.ToJob(sink);

        var result = await job.RunAsync();

        Assert.Equal([1L, 2, 10, 11, 12, 13, 14], sink.Items);
        Assert.Equal((4L, 4L, 0L), (result.LateEvents, result.LateEventsDropped, result.LateEventsAdjusted));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4096)]
    public async Task DropAndAdjust_WithoutStatistics_TheLastProgressReportCountsThem(int batchSize)
    {
        foreach (var policy in new[] { IngressPolicy.Drop, IngressPolicy.Adjust })
        {
            var recorder = new Recorder();
            var query = QStream.From(Times, t => t, policy).WithOptions(new QueryOptions { BatchSize = batchSize, Progress = recorder, ProgressInterval = TimeSpan.Zero });

            var results = await query.ToListAsync();

            var last = recorder.Reports[^1];
            Assert.True(last.IsCompleted);
            Assert.Equal(4, last.LateEvents);
            Assert.Equal(policy == IngressPolicy.Drop ? (4L, 0L) : (0L, 4L), (last.LateEventsDropped, last.LateEventsAdjusted));
            Assert.Equal(policy == IngressPolicy.Drop ? 7 : Times.Length, results.Count);
        }
    }
}
