// Compiled into every test project by tests/Directory.Build.props (with the [assembly: TestFramework] that names the framework below
// and the ClrMD package reference); not a project of its own. CONTRIBUTING.md ("Reading a hang report") tells how to read what it prints.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Runtime;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace LinqStream.TestHangReporting;

/// <summary>
/// xunit's own test framework, with one difference: every message of the run passes through a <see cref="HangWatchdog"/>, which
/// knows the tests that are running (from ITestStarting/ITestFinished, with their display names, theory rows included) and prints a
/// hang report when no test has finished for <see cref="HangWatchdog.QuietPeriodFromEnvironment"/> (8 minutes unless
/// LINQSTREAM_HANG_REPORT_AFTER says otherwise, in seconds): below the 10 minutes after which VSTest's blame collector kills the
/// test host, so the report reaches the console log before the host dies.
/// </summary>
public sealed class HangReportingTestFramework : XunitTestFramework
{
    /// <summary>Initializes a new instance of the <see cref="HangReportingTestFramework"/> class (xunit creates it).</summary>
    /// <param name="messageSink">xunit's diagnostic message sink.</param>
    public HangReportingTestFramework(IMessageSink messageSink)
        : base(new OnlyHangReports(messageSink))
    {
    }

    /// <summary>
    /// xunit's diagnostic messages are turned on (tests/Shared/xunit.runner.json) for the hang reports alone: its own ones
    /// ("Non-serializable data ... falling back to single test case", dozens per run) stay off, as they were before.
    /// </summary>
    private sealed class OnlyHangReports(IMessageSink inner) : LongLivedMarshalByRefObject, IMessageSink
    {
        public bool OnMessage(IMessageSinkMessage message) =>
            message is IDiagnosticMessage and not HangReportMessage || inner.OnMessage(message);
    }

    /// <inheritdoc/>
    protected override ITestFrameworkExecutor CreateExecutor(AssemblyName assemblyName) =>
        new HangReportingExecutor(assemblyName, SourceInformationProvider, DiagnosticMessageSink);
}

/// <summary>Runs the test cases as <see cref="XunitTestFrameworkExecutor"/> does, with the watchdog between the runner and the sink.</summary>
internal sealed class HangReportingExecutor(AssemblyName assemblyName, ISourceInformationProvider sourceInformationProvider, IMessageSink diagnosticMessageSink)
    : XunitTestFrameworkExecutor(assemblyName, sourceInformationProvider, diagnosticMessageSink)
{
    // async void like the base method it replaces: the runner learns of the end through the messages, not through a task.
    protected override async void RunTestCases(IEnumerable<IXunitTestCase> testCases, IMessageSink executionMessageSink, ITestFrameworkExecutionOptions executionOptions)
    {
        using var watchdog = HangWatchdog.StartFromEnvironment(TestAssembly.Assembly.Name.Split(',')[0], DiagnosticMessageSink);
        IMessageSink sink = watchdog is null ? executionMessageSink : new WatchingMessageSink(executionMessageSink, watchdog);
        using var assemblyRunner = new XunitTestAssemblyRunner(TestAssembly, testCases, DiagnosticMessageSink, sink, executionOptions);
        await assemblyRunner.RunAsync().ConfigureAwait(false);
    }

    /// <summary>Tells the watchdog of each test's start and end, and passes every message on unchanged.</summary>
    private sealed class WatchingMessageSink(IMessageSink inner, HangWatchdog watchdog) : LongLivedMarshalByRefObject, IMessageSink
    {
        public bool OnMessage(IMessageSinkMessage message)
        {
            switch (message)
            {
                case ITestStarting starting:
                    watchdog.TestStarted(starting.Test, starting.Test.DisplayName);
                    break;
                case ITestFinished finished:
                    watchdog.TestFinished(finished.Test);
                    break;
            }

            return inner.OnMessage(message);
        }
    }
}

/// <summary>A hang report, as a diagnostic message: the one kind that <see cref="HangReportingTestFramework"/> lets through.</summary>
internal sealed class HangReportMessage(string report) : DiagnosticMessage(report);

/// <summary>
/// Watches for a quiet period (no test finished) on a thread of its own, not a timer of the thread pool: a hang is often a starved
/// pool, and a pool timer would then never fire. Prints one report per quiet period: the next one only after another full period
/// without a test finishing.
/// </summary>
internal sealed class HangWatchdog : IDisposable
{
    /// <summary>The environment variable that sets the quiet period, in seconds; 0 or "off" turns the reporter off.</summary>
    public const string QuietPeriodVariable = "LINQSTREAM_HANG_REPORT_AFTER";

    /// <summary>8 minutes: below the 10 minutes of LinqStreamTestHangTimeout, after which the blame collector kills the host.</summary>
    public static readonly TimeSpan DefaultQuietPeriod = TimeSpan.FromMinutes(8);

    private readonly ConcurrentDictionary<object, RunningTest> _running = new(ReferenceEqualityComparer.Instance);
    private readonly ManualResetEventSlim _stop = new();
    private readonly Thread _thread;
    private readonly string _source;
    private readonly long _periodMs;
    private readonly Func<string> _captureStacks;
    private readonly Action<string> _write;
    private long _lastFinished;
    private long _lastReport;

    public HangWatchdog(string source, TimeSpan quietPeriod, Func<string> captureStacks, Action<string> write)
    {
        _source = source;
        _periodMs = Math.Max(1, (long)quietPeriod.TotalMilliseconds);
        _captureStacks = captureStacks;
        _write = write;
        _lastFinished = _lastReport = Environment.TickCount64;
        _thread = new Thread(Watch) { IsBackground = true, Name = "hang-reporter" };
        _thread.Start();
    }

    /// <summary>Gets the quiet period that LINQSTREAM_HANG_REPORT_AFTER sets, the default when unset, or null when it turns the reporter off.</summary>
    public static TimeSpan? QuietPeriodFromEnvironment => ParseQuietPeriod(Environment.GetEnvironmentVariable(QuietPeriodVariable));

    /// <summary>Reads a quiet period in seconds: unset or unreadable is the default, 0 (or less) or "off" is off.</summary>
    public static TimeSpan? ParseQuietPeriod(string? seconds)
    {
        if (string.IsNullOrWhiteSpace(seconds))
        {
            return DefaultQuietPeriod;
        }

        if (string.Equals(seconds.Trim(), "off", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        return double.TryParse(seconds, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            ? value > 0 ? TimeSpan.FromSeconds(value) : null
            : DefaultQuietPeriod;
    }

    /// <summary>
    /// Starts a watchdog that reports with ClrMD's stacks, or returns null when the variable turns it off. The report goes to
    /// xunit's diagnostic messages, which xunit.runner.visualstudio turns into warnings (diagnosticMessages is on in
    /// tests/Shared/xunit.runner.json): `dotnet test` prints those at once. It keeps the test host's standard error instead until
    /// the host exits, and then prints its first 8 KB only, as the reason of the crash when the blame collector kills the host:
    /// standard error gets the report's head (the tests running) for that line.
    /// </summary>
    public static HangWatchdog? StartFromEnvironment(string source, IMessageSink diagnostics) =>
        QuietPeriodFromEnvironment is { } period
            ? new HangWatchdog(source, period, StackReport.CaptureAllThreads, report =>
            {
                diagnostics.OnMessage(new HangReportMessage(report));
                var head = report.IndexOf(StackReport.ThreadsHeading, StringComparison.Ordinal);
                StackReport.WriteToStandardError(head < 0 ? report : report[..head] + "(the threads' stacks: see the [xUnit.net] warning with this report above)\n");
            })
            : null;

    public void TestStarted(object test, string displayName) => _running[test] = new RunningTest(displayName, Environment.TickCount64);

    public void TestFinished(object test)
    {
        _running.TryRemove(test, out _);
        Volatile.Write(ref _lastFinished, Environment.TickCount64);
    }

    public void Dispose()
    {
        _stop.Set();

        // A report under way (a capture takes seconds) is left to end on its own: the thread is a background thread.
        _thread.Join(TimeSpan.FromSeconds(1));
    }

    /// <summary>Builds the report: the tests running, the thread pool's counts (both as they are before the stacks are captured), then the stacks.</summary>
    private string BuildReport(long now, long lastFinished, Func<string> captureStacks)
    {
        var quiet = TimeSpan.FromMilliseconds(now - lastFinished);
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"==== HANG REPORT ({_source}, test host pid {Environment.ProcessId}, {DateTime.UtcNow:yyyy-MM-dd HH:mm:ss} UTC): no test has finished for {quiet.TotalSeconds:F0} s ({QuietPeriodVariable}={_periodMs / 1000.0:0.###} s) ====");
        var running = _running.Values.OrderBy(test => test.StartedAt).ToList();
        text.AppendLine(CultureInfo.InvariantCulture, $"Tests running ({running.Count}):");
        foreach (var test in running)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  {test.DisplayName}  (for {(now - test.StartedAt) / 1000.0:F0} s)");
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"Thread pool: {ThreadPool.ThreadCount} threads, {ThreadPool.PendingWorkItemCount} work items queued, {ThreadPool.CompletedWorkItemCount} completed");
        text.Append(captureStacks());
        text.AppendLine(CultureInfo.InvariantCulture, $"==== END OF HANG REPORT ({_source}) ====");
        return text.ToString();
    }

    private void Watch()
    {
        while (true)
        {
            var now = Environment.TickCount64;
            var lastFinished = Volatile.Read(ref _lastFinished);
            var due = Math.Max(lastFinished, _lastReport) + _periodMs;
            if (now < due)
            {
                if (_stop.Wait(TimeSpan.FromMilliseconds(Math.Min(due - now, int.MaxValue))))
                {
                    return;
                }

                continue;
            }

            try
            {
                _write(BuildReport(now, lastFinished, _captureStacks));
            }
            catch (Exception e)
            {
                // An exception that left this thread would end the test host: report it instead.
                try
                {
                    _write($"==== HANG REPORT ({_source}) failed: {e} ====");
                }
                catch
                {
                    // Nowhere left to tell.
                }
            }

            _lastReport = Environment.TickCount64;
        }
    }

    private readonly record struct RunningTest(string DisplayName, long StartedAt);
}

/// <summary>The managed stacks of every thread of this process, read by ClrMD from a dump that the runtime writes of itself.</summary>
internal static class StackReport
{
    /// <summary>The heading of the threads' stacks in the report.</summary>
    public const string ThreadsHeading = "Managed threads";

    private const int MaxFramesPerThread = 150;
    private const int MaxStateMachineLines = 60;
    private static readonly TimeSpan s_heapWalkBudget = TimeSpan.FromSeconds(40);
    private static readonly TimeSpan s_captureTimeout = TimeSpan.FromSeconds(90);

    /// <summary>Writes to the test host's standard error, the real one even when a test has swapped <see cref="Console.Error"/>.</summary>
    public static void WriteToStandardError(string report)
    {
        using var stderr = new StreamWriter(Console.OpenStandardError(), new UTF8Encoding(false), 1 << 16);
        stderr.Write(report);
        stderr.Flush();
    }

    private static readonly BlockingCollection<CaptureRequest> s_requests = [];
    private static readonly Lazy<Thread> s_captureThread = new(() =>
    {
        var thread = new Thread(ServeCaptures) { IsBackground = true, Name = "hang-capture" };
        thread.Start();
        return thread;
    });

    /// <summary>
    /// Captures every managed thread's stack, grouped by identical stacks, and the async methods still awaiting something. Always
    /// on one thread that lives as long as the process: ClrMD loads the runtime's DAC into this process, and a thread that has used
    /// it brings the process down with SIGSEGV when it ends (exit code 139, seen with a plain thread and with the test host).
    /// </summary>
    public static string CaptureAllThreads()
    {
        _ = s_captureThread.Value;
        var request = new CaptureRequest();
        s_requests.Add(request);
        return request.Done.Wait(s_captureTimeout)
            ? request.Report
            : $"(the stacks were not captured within {s_captureTimeout.TotalSeconds:F0} s)\n";
    }

    private static void ServeCaptures()
    {
        foreach (var request in s_requests.GetConsumingEnumerable())
        {
            try
            {
                request.Report = Capture();
            }
            catch (Exception e)
            {
                // This thread must not end (see above).
                request.Report = $"(the stacks could not be captured: {e})\n";
            }

            request.Done.Set();
        }
    }

    private static string Capture()
    {
        var text = new StringBuilder();
        var clock = Stopwatch.StartNew();
        var dumpPath = Path.Combine(Path.GetTempPath(), $"linqstream-hang-{Environment.ProcessId}-{Guid.NewGuid():N}.dmp");
        DataTarget? target = null;
        try
        {
            // The runtime's diagnostic server runs createdump on this process (it suspends every thread while it writes);
            // ClrMD then reads the file. A heap dump: the pending async methods below are found on the heap.
            try
            {
                new DiagnosticsClient(Environment.ProcessId).WriteDump(DumpType.WithHeap, dumpPath, logDumpGeneration: false);
                target = DataTarget.LoadDump(dumpPath);
            }
            catch (Exception e)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"(DiagnosticsClient.WriteDump failed: {e.GetType().Name}: {e.Message}; trying DataTarget.CreateSnapshotAndAttach)");
                target = DataTarget.CreateSnapshotAndAttach(Environment.ProcessId);
            }

            var dumped = clock.Elapsed;
            using var runtime = target.ClrVersions[0].CreateRuntime();
            AppendThreads(text, runtime);
            AppendPendingStateMachines(text, runtime);
            text.AppendLine(CultureInfo.InvariantCulture, $"(captured in {clock.Elapsed.TotalSeconds:F1} s: dump {dumped.TotalSeconds:F1} s)");
        }
        catch (Exception e)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"(the stacks could not be captured: {e})");
        }
        finally
        {
            target?.Dispose();
            try
            {
                File.Delete(dumpPath);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return text.ToString();
    }

    private static void AppendThreads(StringBuilder text, ClrRuntime runtime)
    {
        var self = Environment.CurrentManagedThreadId;
        var groups = runtime.Threads
            .Where(thread => thread.IsAlive)
            .Select(thread => (Header: Describe(thread, self), Frames: string.Join('\n', Frames(thread))))
            .GroupBy(thread => thread.Frames, StringComparer.Ordinal)
            .ToList();
        text.Append(ThreadsHeading).AppendLine(CultureInfo.InvariantCulture, $" ({groups.Sum(group => group.Count())}; threads with the same stack shown once):");
        foreach (var group in groups.OrderByDescending(group => group.Key.Length))
        {
            foreach (var (header, _) in group)
            {
                text.Append("  ").AppendLine(header);
            }

            if (group.Key.Length == 0)
            {
                text.AppendLine("      (no managed frames)");
                continue;
            }

            foreach (var frame in group.Key.Split('\n'))
            {
                text.Append("      at ").AppendLine(frame);
            }
        }
    }

    private static string Describe(ClrThread thread, int self)
    {
        var header = new StringBuilder();
        header.Append(CultureInfo.InvariantCulture, $"Thread #{thread.ManagedThreadId} (OS {thread.OSThreadId}");
        var name = OsThreadName(thread.OSThreadId);
        if (name is not null)
        {
            header.Append(CultureInfo.InvariantCulture, $", \"{name}\"");
        }

        if (thread.IsFinalizer)
        {
            header.Append(", finalizer");
        }

        if (thread.ManagedThreadId == self)
        {
            header.Append(", this hang reporter");
        }

        header.Append(')');
        if (thread.CurrentException is { } exception)
        {
            header.Append(CultureInfo.InvariantCulture, $" last exception: {exception.Type?.Name}: {exception.Message}");
        }

        return header.ToString();
    }

    private static IEnumerable<string> Frames(ClrThread thread)
    {
        string? previous = null;
        foreach (var frame in thread.EnumerateStackTrace().Take(MaxFramesPerThread))
        {
            var line = frame.Kind switch
            {
                ClrStackFrameKind.ManagedMethod => frame.Method?.Signature ?? frame.Method?.Name,
                ClrStackFrameKind.Runtime => frame.FrameName is { Length: > 0 } frameName ? $"[{frameName}]" : null,
                _ => null,
            };

            // The async builders' Start frames between two frames of an async method say nothing.
            if (line is null
                || (line.StartsWith("System.Runtime.CompilerServices.Async", StringComparison.Ordinal) && line.Contains(".Start[", StringComparison.Ordinal)))
            {
                continue;
            }

            line = WithoutInstantiations(line);
            if (line != previous)
            {
                yield return line;
            }

            previous = line;
        }
    }

    /// <summary>Drops the "[[System.__Canon, System.Private.CoreLib]]" of generic instantiations: the method's name says enough.</summary>
    private static string WithoutInstantiations(string signature)
    {
        var text = new StringBuilder(signature.Length);
        var depth = 0;
        for (var i = 0; i < signature.Length; i++)
        {
            if (signature[i] == '[' && i + 1 < signature.Length && signature[i + 1] == '[')
            {
                depth++;
                i++;
            }
            else if (depth > 0 && signature[i] == ']' && i + 1 < signature.Length && signature[i + 1] == ']')
            {
                depth--;
                i++;
            }
            else if (depth == 0)
            {
                text.Append(signature[i]);
            }
        }

        return text.ToString();
    }

    /// <summary>The thread's name as Linux knows it: .NET gives a named thread's first 15 characters to the OS ("hang-reporter", ".NET TP Worker").</summary>
    private static string? OsThreadName(uint osThreadId)
    {
        try
        {
            var path = $"/proc/self/task/{osThreadId}/comm";
            return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>One capture asked of the capture thread (its event is left to the GC: a late capture may still set it).</summary>
    private sealed class CaptureRequest
    {
        public ManualResetEventSlim Done { get; } = new();

        public string Report { get; set; } = string.Empty;
    }

    /// <summary>
    /// Async methods not yet completed, by state machine: a hang in an await has no thread of ours on any stack, but its state
    /// machine box is on the heap. Framework, xunit and this reporter's machines are left out; boxes not yet collected may include
    /// abandoned ones.
    /// </summary>
    private static void AppendPendingStateMachines(StringBuilder text, ClrRuntime runtime)
    {
        // Task's m_stateFlags: TASK_STATE_FAULTED | TASK_STATE_CANCELED | TASK_STATE_RAN_TO_COMPLETION.
        const int Completed = 0x200000 | 0x400000 | 0x1000000;
        if (!runtime.Heap.CanWalkHeap)
        {
            text.AppendLine("Pending async methods: the heap cannot be walked in this dump.");
            return;
        }

        var clock = Stopwatch.StartNew();
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var walked = 0L;
        var complete = true;
        foreach (var obj in runtime.Heap.EnumerateObjects())
        {
            if ((++walked & 0xFFF) == 0 && clock.Elapsed > s_heapWalkBudget)
            {
                complete = false;
                break;
            }

            var typeName = obj.Type?.Name;
            var start = typeName?.IndexOf("StateMachineBox<", StringComparison.Ordinal) ?? -1;
            if (typeName is null || start < 0 || !typeName.EndsWith('>'))
            {
                continue;
            }

            var stateMachine = typeName[(start + "StateMachineBox<".Length)..^1];
            if (stateMachine.StartsWith("System.", StringComparison.Ordinal)
                || stateMachine.StartsWith("Microsoft.", StringComparison.Ordinal)
                || stateMachine.StartsWith("Xunit.", StringComparison.Ordinal)
                || stateMachine.StartsWith("LinqStream.TestHangReporting.", StringComparison.Ordinal))
            {
                continue;
            }

            if (obj.TryReadField<int>("m_stateFlags", out var flags) && (flags & Completed) != 0)
            {
                continue;
            }

            counts[stateMachine] = counts.GetValueOrDefault(stateMachine) + 1;
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"Pending async methods ({counts.Values.Sum()} state machines of {counts.Count} methods; {walked} heap objects walked in {clock.Elapsed.TotalSeconds:F1} s{(complete ? string.Empty : ", walk cut short")}):");
        foreach (var (stateMachine, count) in counts.OrderBy(pair => pair.Key, StringComparer.Ordinal).Take(MaxStateMachineLines))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  {count,4} x {stateMachine}");
        }

        if (counts.Count > MaxStateMachineLines)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  ... and {counts.Count - MaxStateMachineLines} more");
        }
    }
}
