using LinqStream.Runtime;
using LinqStream.Tests.Infrastructure;

namespace LinqStream.Tests.Runtime;

/// <summary>
/// A stop that lands between a runner's look at its sources and its wait for them ends the run. The hang these tests pin down
/// (session 22, Conformance <c>CrashRestoreTests</c> at parallelism 2, 2 runs in 8 with source threads that start at once): a
/// parallel run's source task stepped its live sources, found nothing, and was stopped before it built its wait; the stop had
/// disposed every source, so the wait held only the run's <see cref="QueryRunner.Wake"/> (a barrier request), which nothing
/// completes once the run has stopped, and the job's <c>DisposeAsync</c> waited for that thread forever.
/// </summary>
public sealed class QueryRunnerStopRaceTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task RunAsync_StoppedRightAfterAStepThatFoundNothing_EndsThoughWakeNeverCompletes(int sources)
    {
        var context = new QueryContext(Harness.Options());
        var runner = new QueryRunner(context);
        var never = new TaskCompletionSource();
        int wakes = 0;
        runner.Wake = () =>
        {
            Interlocked.Increment(ref wakes);
            return never.Task;
        };

        var drivers = Enumerable.Range(0, sources).Select(i => new QuietLiveSource($"s{i}")).ToArray();
        int asked = 0;
        foreach (var driver in drivers)
        {
            // The stop arrives (as from another thread) just after the last source was asked and had nothing.
            driver.OnEmptyStep = () =>
            {
                if (++asked == sources)
                {
                    runner.Stop();
                }
            };
        }

        context.Sources.AddRange(drivers);

        await runner.RunAsync(CancellationToken.None).WaitAsync(Limit); // before the fix: TimeoutException

        Assert.All(drivers, d => Assert.True(d.IsCompleted, $"{d.SourceName} was not disposed by the stop"));
        Assert.All(drivers, d => Assert.Equal(1, d.Steps));
        Assert.Equal(0, wakes); // no wait was built for a run that had stopped
    }

    [Fact]
    public async Task RunAsync_SourcesWithNothing_WaitsForWakeUntilASourceHasData()
    {
        // The other side of the fix: while a source is open, the runner still waits for it and for Wake together.
        var context = new QueryContext(Harness.Options());
        var runner = new QueryRunner(context);
        var wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int wakes = 0;
        runner.Wake = () =>
        {
            Interlocked.Increment(ref wakes);
            return wake.Task;
        };

        var source = new QuietLiveSource("s0");
        context.Sources.Add(source);
        var run = runner.RunAsync(CancellationToken.None);

        await source.Waiting.Task.WaitAsync(Limit);
        Assert.False(run.IsCompleted);
        Assert.Equal(1, wakes);

        runner.Stop();
        await run.WaitAsync(Limit);
        Assert.True(source.IsCompleted);
    }

    [Fact]
    public async Task StepAsync_StoppedRightAfterAStepThatFoundNothing_ReturnsWithoutWaitingForWake()
    {
        var context = new QueryContext(Harness.Options());
        var runner = new QueryRunner(context);
        var source = new QuietLiveSource("s0");
        source.OnEmptyStep = runner.Stop;
        context.Sources.Add(source);
        runner.Start();

        bool more = await runner.StepAsync(new TaskCompletionSource().Task, CancellationToken.None).AsTask().WaitAsync(Limit);
        Assert.True(more); // the step found a stopped query only after looking: the next one says so
        Assert.False(await runner.StepAsync(new TaskCompletionSource().Task, CancellationToken.None).AsTask().WaitAsync(Limit));
    }

    /// <summary>A live source that never has data; its wait for data completes only when it is disposed.</summary>
    private sealed class QuietLiveSource(string name) : SourceDriver
    {
        private readonly TaskCompletionSource _disposed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Action? OnEmptyStep { get; set; }

        public int Steps { get; private set; }

        public TaskCompletionSource Waiting { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override bool CanReplay => false;

        public override string SourceName => name;

        public override long EventsRead => 0;

        public override long MaxEventTime => Temporal.Ticks.MinusInfinity;

        public override long LateEvents => 0;

        public override bool IsLive => true;

        public override bool TryStep()
        {
            Steps++;
            var stop = OnEmptyStep;
            OnEmptyStep = null;
            stop?.Invoke();
            return false;
        }

        public override Task WaitForDataAsync(CancellationToken cancellationToken)
        {
            Waiting.TrySetResult();
            return _disposed.Task;
        }

        public override void WriteState(BinaryWriter writer)
        {
        }

        public override void ReadState(BinaryReader reader)
        {
        }

        public override void Dispose()
        {
            base.Dispose();
            _disposed.TrySetResult();
        }
    }
}
