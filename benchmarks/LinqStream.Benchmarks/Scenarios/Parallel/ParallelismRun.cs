using System.Diagnostics;
using System.Globalization;

namespace LinqStream.Benchmarks.Scenarios.Parallel;

/// <summary>
/// <c>--parallelism [--runs N] [CASE...]</c>: a small console mode of <see cref="ParallelismBenchmarks"/> for a machine where
/// BenchmarkDotNet's generated project cannot be built or its in-process runs time out (a loaded machine): the input is made
/// and every answer checked once at P = 1 and at P = 2 ([GlobalSetup]'s checks), then each case runs N times (default 5) at
/// P = 1 and at P = 2, alternating, and prints the median wall time and the median process CPU time (user + sys of all
/// threads, GC included) per event of each, and their ratios.
/// </summary>
public static class ParallelismRun
{
    /// <summary>Runs the cases.</summary>
    /// <returns>0, or 2 on a bad argument.</returns>
    public static int Run(IReadOnlyList<string> args, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        var list = args.ToList();
        if (!Infrastructure.ConsoleOptions.TryTakeRuns(list, output, out int runs))
        {
            return 2;
        }

        var bench = new ParallelismBenchmarks { Parallelism = 1 };
        bench.Setup(); // checks the answers at P = 1
        bench.Parallelism = 2;
        bench.CheckAnswers();
        var cases = new (string Name, long Events, Func<long> Run)[]
        {
            ("TumblingCountPerKey (array: 2 parts in chunks at P = 2)", 10_000_000, bench.TumblingCountPerKey),
            ("TumblingCountPerKeyCheckpointed (job, one source task)", 10_000_000, bench.TumblingCountPerKeyCheckpointed),
            ("TumblingCountPerKeyPartitioned", 10_000_000, bench.TumblingCountPerKeyPartitioned),
            ("TumblingCountPerKeyPartitionedCheckpointed (job)", 10_000_000, bench.TumblingCountPerKeyPartitionedCheckpointed),
            ("Q5HotItemsPartitioned", Nexmark.NexmarkInput.BenchmarkEvents, bench.Q5HotItemsPartitioned),
            ("Q5HotItemsPartitioned, maximum after the merge only", Nexmark.NexmarkInput.BenchmarkEvents, () => WithoutLocalSteps(bench, bench.Q5HotItemsPartitioned)),
            ("Q5HotItems (one source task: the array is out of order)", Nexmark.NexmarkInput.BenchmarkEvents, bench.Q5HotItems),
            ("Q5HotItemsPartitionedCheckpointed (job)", Nexmark.NexmarkInput.BenchmarkEvents, bench.Q5HotItemsPartitionedCheckpointed),
            ("StatelessSinkPerTaskCheckpointed (job, 2 partitions)", 10_000_000, bench.StatelessSinkPerTaskCheckpointed),
            ("StatelessOneSinkCheckpointed (job, 2 partitions, one sink)", 10_000_000, bench.StatelessOneSinkCheckpointed),
            ("TumblingCountPerKey, one phase (array: 2 parts in chunks at P = 2)", 10_000_000, () => OnePhase(bench, bench.TumblingCountPerKey)),
            ("TumblingCountPerKeyPartitioned, one phase", 10_000_000, () => OnePhase(bench, bench.TumblingCountPerKeyPartitioned)),
            ("TumblingCountPerKeyPartitionedCheckpointed, one phase (job)", 10_000_000, () => OnePhase(bench, bench.TumblingCountPerKeyPartitionedCheckpointed)),
        };
        foreach (var (name, events, run) in cases.Where(c => list.Count == 0 || list.Any(f => c.Name.Contains(f, StringComparison.OrdinalIgnoreCase))))
        {
            var wall = new List<double>[] { [], [] };
            var cpu = new List<double>[] { [], [] };
            bench.Parallelism = 1;
            run(); // warm-up (JIT)
            for (int r = 0; r < runs; r++)
            {
                foreach (int p in new[] { 1, 2 })
                {
                    bench.Parallelism = p;
                    var process = Process.GetCurrentProcess();
                    var cpuStart = process.TotalProcessorTime;
                    long start = Stopwatch.GetTimestamp();
                    long results = run();
                    var elapsed = Stopwatch.GetElapsedTime(start);
                    process.Refresh();
                    var cpuUsed = process.TotalProcessorTime - cpuStart;
                    if (results <= 0)
                    {
                        throw new InvalidOperationException($"{name} at P = {p} gave no results.");
                    }

                    wall[p - 1].Add(elapsed.TotalNanoseconds / events);
                    cpu[p - 1].Add(cpuUsed.TotalNanoseconds / events);
                }
            }

            double w1 = Median(wall[0]), w2 = Median(wall[1]), c1 = Median(cpu[0]), c2 = Median(cpu[1]);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {w1:F1} | {w2:F1} | {w1 / w2:F2}× | {c1:F1} | {c2:F1} | {c2 / c1:F2}× |{(name.Contains("job", StringComparison.Ordinal) ? bench.LastJob : string.Empty)}"));
        }

        return 0;
    }

    /// <summary>Runs a case with two-phase aggregation off (events cross the exchange, as before issue #16's fifth part).</summary>
    private static long OnePhase(ParallelismBenchmarks bench, Func<long> run)
    {
        bench.TwoPhase = false;
        try
        {
            return run();
        }
        finally
        {
            bench.TwoPhase = true;
        }
    }

    /// <summary>Runs a case with q5's per-window maximum only after the merge (as before issue #16's sixth part).</summary>
    private static long WithoutLocalSteps(ParallelismBenchmarks bench, Func<long> run)
    {
        bench.TaskLocalSteps = false;
        try
        {
            return run();
        }
        finally
        {
            bench.TaskLocalSteps = true;
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
