using System.Diagnostics;
using System.Globalization;
using LinqStream.Benchmarks.Infrastructure;

namespace LinqStream.Benchmarks.Operators;

/// <summary>
/// <c>--ingress [--runs N] [--warmup N] [--events N] [--batch-size N] [--sequential] [--cold] [CASE...]</c>: <see cref="IngressBenchmarks"/>'
/// projection of every tick in one process, its cases in the order given, so that order effects (the first case of a process)
/// and an A/B of the engine's array paths are measured side by side (issue #19). The answers of every source kind are checked
/// first (at 100,000 events); then every case runs <c>--warmup</c> times (default 5) and <c>--runs</c> times (default 5), round by
/// round (each round runs each case once, in the order given), or with <c>--sequential</c> case after case (each case's warm-up
/// and runs together, as BenchmarkDotNet orders them). Prints the wall time and the process CPU time per event of every run, then
/// each case's median and best, and its speed against <c>batch</c>'s median (the issue's ratio: batch-to-batch time / replay time).
/// With <c>--cold</c> the process starts as a BenchmarkDotNet case's does instead: no check of every source kind first, but
/// <c>[GlobalSetup]</c>'s check of each named case over the whole input (<c>batch</c>: with the array, as BenchmarkDotNet's first
/// batch-to-batch case), all before the first run, so that one case alone is a BenchmarkDotNet case in its own process (issue
/// #19's cold start, session 16).
/// </summary>
/// <remarks>
/// CASE: <c>array</c>, <c>list</c>, <c>enumerable</c>, <c>observable</c> (<see cref="SourceKind"/>) and <c>batch</c>
/// (<see cref="IngressBenchmarks.EngineBatchToBatch"/>); default <c>array list batch</c>.
/// <c>--batch-size</c> sets every case's batch size (default the engine's). A full collection runs before every run (outside the
/// timed part); the CPU time has the kernel's clock-tick resolution (10 ms: ±20 % on a 50 ms run). Under a <c>perf record</c> or
/// <c>perf stat</c> started with <c>-D -1 --control fifo:CTL,ACK</c> and <c>LINQSTREAM_PERF_CTL</c>/<c>_ACK</c> naming the fifos
/// (<see cref="PerfControl"/>), only measured runs are counted: those of the case <c>LINQSTREAM_PERF_CASE</c> names, or of every case.
/// </remarks>
public static class IngressRun
{
    private static readonly string[] Known = ["array", "list", "enumerable", "observable", "batch"];

    /// <summary>Runs the cases.</summary>
    /// <returns>0, or 2 on a bad argument.</returns>
    public static int Run(IReadOnlyList<string> args, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        var rest = args.ToList();
        if (!ConsoleOptions.TryTakeRuns(rest, output, out int runs)
            || !TryTakeCount(rest, "--warmup", 5, 0, output, out int warmup)
            || !TryTakeCount(rest, "--events", 10_000_000, 1, output, out int events)
            || !TryTakeCount(rest, "--batch-size", QueryOptions.Default.BatchSize, 1, output, out int batchSize))
        {
            return 2;
        }

        bool sequential = rest.Remove("--sequential");
        bool cold = rest.Remove("--cold");
        if (rest.FirstOrDefault(name => !Known.Contains(name)) is { } unknown)
        {
            output.WriteLine($"Unknown case '{unknown}'; the cases are {string.Join(", ", Known)}.");
            return 2;
        }

        List<string> names = rest.Count > 0 ? rest : ["array", "list", "batch"];
        if (names.Distinct().Count() != names.Count)
        {
            output.WriteLine("Name each case once.");
            return 2;
        }

        if (!cold)
        {
            output.WriteLine("answers (every source kind, at 100,000 events): " + IngressBenchmarks.CheckAll(100_000));
        }

        var data = Data.Ticks(events, 1000);
        if (cold)
        {
            foreach (string name in names)
            {
                IngressBenchmarks.Check(data, name == "batch" ? SourceKind.Array : Enum.Parse<SourceKind>(name, ignoreCase: true));
            }

            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"answers ([GlobalSetup]'s check of each case, at {events:N0} events): passed"));
        }

        var list = data.ToList();
        var batches = IngressBenchmarks.Batches(data);
        var options = new QueryOptions { BatchSize = batchSize };
        var cases = names.Select(name => (Name: name, Run: Case(name, data, list, batches, options))).ToList();
        var wall = names.ToDictionary(name => name, _ => new List<double>());
        var cpu = names.ToDictionary(name => name, _ => new List<double>());
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{events:N0} events per run, batch size {batchSize}, {warmup} warm-up and {runs} measured runs per case, {(sequential ? "case after case" : "round by round")}: {string.Join(", ", names)}"));

        string? perfCase = PerfControl.Attached ? Environment.GetEnvironmentVariable("LINQSTREAM_PERF_CASE") ?? string.Empty : null;

        void RunOnce(string name, Func<long> run, string label, bool measured)
        {
            bool record = measured && perfCase is not null && (perfCase.Length == 0 || perfCase == name);
            var (w, c) = Measure(run, events, name, record);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{label} {name}: {w:F2} ns/event, CPU {c:F2} ns/event"));
            if (measured)
            {
                wall[name].Add(w);
                cpu[name].Add(c);
            }
        }

        if (sequential)
        {
            foreach (var (name, run) in cases)
            {
                for (int i = 1; i <= warmup + runs; i++)
                {
                    RunOnce(name, run, i <= warmup ? $"warm-up {i}" : $"run {i - warmup}", i > warmup);
                }
            }
        }
        else
        {
            for (int i = 1; i <= warmup + runs; i++)
            {
                foreach (var (name, run) in cases)
                {
                    RunOnce(name, run, i <= warmup ? $"warm-up {i}" : $"run {i - warmup}", i > warmup);
                }
            }
        }

        double? baseline = wall.TryGetValue("batch", out var batchRuns) ? Median(batchRuns) : null;
        output.WriteLine("case: median (best) wall ns/event, median CPU ns/event, speed vs batch-to-batch (batch median / case median)");
        foreach (string name in names)
        {
            double median = Median(wall[name]);
            string ratio = baseline is { } b ? string.Create(CultureInfo.InvariantCulture, $"{b / median:F2}x") : "-";
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name}: {median:F2} ({wall[name].Min():F2}), CPU {Median(cpu[name]):F2}, {ratio}"));
        }

        return 0;
    }

    private static Func<long> Case(string name, Tick[] data, List<Tick> list, PrebuiltBatchStream<Tick> batches, QueryOptions options) => name switch
    {
        "array" => () => IngressBenchmarks.RunToEnd(IngressBenchmarks.LinqStream(data, list, SourceKind.Array, options)),
        "list" => () => IngressBenchmarks.RunToEnd(IngressBenchmarks.LinqStream(data, list, SourceKind.List, options)),
        "enumerable" => () => IngressBenchmarks.RunToEnd(IngressBenchmarks.LinqStream(data, list, SourceKind.Enumerable, options)),
        "observable" => () => IngressBenchmarks.RunToEnd(IngressBenchmarks.LinqStream(data, list, SourceKind.Observable, options)),
        _ => () => IngressBenchmarks.BatchToBatch(batches, new IngressBenchmarks.IngressObserver(), options).Count,
    };

    /// <summary>One run of <paramref name="run"/> after a full collection: wall and process CPU nanoseconds per event.</summary>
    private static (double Wall, double Cpu) Measure(Func<long> run, int events, string name, bool record)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        if (record)
        {
            PerfControl.Set(enable: true);
        }

        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        long start = Stopwatch.GetTimestamp();
        long results = run();
        var elapsed = Stopwatch.GetElapsedTime(start);
        var cpuUsed = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        if (record)
        {
            PerfControl.Set(enable: false);
        }

        if (results != events)
        {
            throw new AnswerMismatchException(string.Create(CultureInfo.InvariantCulture, $"ingress case {name}: {results:N0} results from {events:N0} events."));
        }

        return (elapsed.TotalNanoseconds / events, cpuUsed.TotalNanoseconds / events);
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        int mid = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    /// <summary>Takes <c>NAME N</c> out of <paramref name="args"/> (<paramref name="absent"/> when missing); false, with a message, when N is not an integer of at least <paramref name="least"/>.</summary>
    private static bool TryTakeCount(List<string> args, string name, int absent, int least, TextWriter output, out int value)
    {
        value = absent;
        int at = args.IndexOf(name);
        if (at < 0)
        {
            return true;
        }

        if (at + 1 >= args.Count || !int.TryParse(args[at + 1], NumberStyles.Integer, CultureInfo.InvariantCulture, out value) || value < least)
        {
            output.WriteLine($"{name} must be an integer of at least {least}.");
            return false;
        }

        args.RemoveRange(at, 2);
        return true;
    }
}
