using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using LinqStream.TestHangReporting;

namespace LinqStream.Tests.Infrastructure;

/// <summary>
/// The hang reporter compiled into every test project (tests/Shared/TestHangReporter.cs): its stacks come from a real dump of this
/// test host, and its watchdog reports only after a full quiet period.
/// </summary>
public sealed class HangReporterTests
{
    [Fact]
    public void CaptureAllThreads_ThreadBlockedInAWait_ReportShowsTheBlockedMethodUnderThatThread()
    {
        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var thread = new Thread(() => BlockedInHangReporterProbe(entered, release)) { IsBackground = true, Name = "hang-probe" };
        thread.Start();
        try
        {
            Assert.True(entered.Wait(TimeSpan.FromSeconds(30)), "the probe thread did not start");
            Assert.True(
                SpinWait.SpinUntil(() => (thread.ThreadState & ThreadState.WaitSleepJoin) != 0, TimeSpan.FromSeconds(30)),
                "the probe thread did not block");

            var report = StackReport.CaptureAllThreads();

            var frames = FramesOfThread(report, "\"hang-probe\"");
            Assert.Contains(frames, frame => frame.Contains($"{nameof(HangReporterTests)}.{nameof(BlockedInHangReporterProbe)}(", StringComparison.Ordinal));
            Assert.Contains(frames, frame => frame.Contains("ManualResetEventSlim.Wait", StringComparison.Ordinal));
            Assert.DoesNotContain("could not be captured", report, StringComparison.Ordinal);
        }
        finally
        {
            release.Set();
            thread.Join();
        }
    }

    [Fact]
    public async Task CaptureAllThreads_AsyncMethodAwaitingForever_ReportListsItsStateMachineAsPending()
    {
        var never = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var pending = AwaitsInHangReporterProbeAsync(never.Task);

        var report = StackReport.CaptureAllThreads();

        never.SetResult();
        await pending;
        var section = report[report.IndexOf("Pending async methods", StringComparison.Ordinal)..];
        Assert.Contains($"{nameof(HangReporterTests)}+<{nameof(AwaitsInHangReporterProbeAsync)}>", section, StringComparison.Ordinal);
    }

    [Fact]
    public void Watchdog_NoTestFinishes_ReportsAfterEachQuietPeriodNamingTheRunningTests()
    {
        using var reports = new BlockingCollection<string>();
        using (var watchdog = new HangWatchdog("probe", TimeSpan.FromMilliseconds(300), () => "STACKS\n", reports.Add))
        {
            var test = new object();
            watchdog.TestStarted(test, "Probe.Hangs(row: 1)");

            Assert.True(reports.TryTake(out var first, TimeSpan.FromSeconds(30)), "no report");
            Assert.True(reports.TryTake(out var second, TimeSpan.FromSeconds(30)), "no second report after another quiet period");

            foreach (var report in new[] { first, second })
            {
                Assert.StartsWith("==== HANG REPORT (probe, test host pid", report, StringComparison.Ordinal);
                Assert.Contains("Tests running (1):\n  Probe.Hangs(row: 1)  (for ", report.ReplaceLineEndings("\n"), StringComparison.Ordinal);
                Assert.Contains("STACKS", report, StringComparison.Ordinal);
                Assert.Contains("==== END OF HANG REPORT (probe) ====", report, StringComparison.Ordinal);
            }
        }

        // Disposed: no report after it.
        Thread.Sleep(600);
        while (reports.TryTake(out _))
        {
        }

        Thread.Sleep(600);
        Assert.Empty(reports);
    }

    [Fact]
    public void Watchdog_TestsKeepFinishingWithinThePeriod_DoesNotReport()
    {
        var reports = 0;
        var period = TimeSpan.FromSeconds(3);
        using (var watchdog = new HangWatchdog("probe", period, () => string.Empty, _ => Interlocked.Increment(ref reports)))
        {
            // Longer than one period in all: without the finishes resetting the watch, it would have reported.
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (clock.Elapsed < period + TimeSpan.FromSeconds(1))
            {
                var test = new object();
                watchdog.TestStarted(test, "Probe.Quick");
                Thread.Sleep(50);
                watchdog.TestFinished(test);
            }
        }

        Assert.Equal(0, Volatile.Read(ref reports));
    }

    [Theory]
    [InlineData(null, 480.0)]
    [InlineData("", 480.0)]
    [InlineData("5", 5.0)]
    [InlineData("0.5", 0.5)]
    [InlineData("not a number", 480.0)]
    [InlineData("0", null)]
    [InlineData("off", null)]
    public void ParseQuietPeriod_VariableValue_GivesSecondsDefaultOrOff(string? value, double? expectedSeconds)
    {
        Assert.Equal(expectedSeconds, HangWatchdog.ParseQuietPeriod(value)?.TotalSeconds);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void BlockedInHangReporterProbe(ManualResetEventSlim entered, ManualResetEventSlim release)
    {
        entered.Set();
        release.Wait();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task AwaitsInHangReporterProbeAsync(Task never)
    {
        await never.ConfigureAwait(false);
    }

    /// <summary>The frames printed under the header of the thread whose header contains <paramref name="threadMarker"/>.</summary>
    private static List<string> FramesOfThread(string report, string threadMarker)
    {
        var lines = report.ReplaceLineEndings("\n").Split('\n');
        var header = Array.FindIndex(lines, line => line.StartsWith("  Thread #", StringComparison.Ordinal) && line.Contains(threadMarker, StringComparison.Ordinal));
        Assert.True(header >= 0, $"no thread {threadMarker} in the report:\n{report}");

        // Threads with the same stack share one list of frames, printed after the last of their headers.
        var first = header + 1;
        while (first < lines.Length && lines[first].StartsWith("  Thread #", StringComparison.Ordinal))
        {
            first++;
        }

        return lines.Skip(first).TakeWhile(line => line.StartsWith("      at ", StringComparison.Ordinal)).ToList();
    }
}
