using System.Diagnostics;
using System.Globalization;

namespace LinqStream.Benchmarks.Scenarios.Parallel;

/// <summary>
/// <c>--parallelism [--runs N] [--rounds R [--recopy]] [--no-settle] [--warm-min N] [--p2-first | --only P] [--threads] [--barriers] [--jit] [--alloc] [--cold] [CASE...]</c>: a small console mode of <see cref="ParallelismBenchmarks"/> for a machine where
/// BenchmarkDotNet's generated project cannot be built or its in-process runs time out (a loaded machine): the input is made
/// and every answer checked once at P = 1 and at P = 2 ([GlobalSetup]'s checks), then each case runs N times (default 5) at
/// P = 1 and at P = 2, alternating, and prints the median wall time and the median process CPU time (user + sys of all
/// threads, GC included) per event of each, and their ratios. <c>--threads</c> adds the CPU time per thread name; <c>--barriers</c>
/// prints, after each P = 2 run of a job, when each checkpoint barrier passed each point of the run (<see cref="LinqStream.Parallel.BarrierTimeline"/>);
/// <c>--jit</c> the methods compiled during each measured run; <c>--alloc</c> what each measured run allocated (sampled, by type and
/// thread) and each collection's or runtime suspension's pause (<see cref="Profiling.AllocationListener"/>).
/// A CASE selects the cases whose name contains it; <c>=NAME</c> selects the case of exactly that name; the cases run in the order
/// of the CASEs that select them. Each case is warmed at
/// each P until the JIT is done with it (<see cref="WarmUp"/>; at least 40 runs, <c>--warm-min N</c> to change it) before it is
/// measured; the JIT time left in the measured runs is printed, and the CPU time less it. <c>--cold</c> measures a case's first run instead (<see cref="RunCold"/>).
/// Before the measured runs of each case a blocking full collection settles the heap (<see cref="Settle"/>; <c>--no-settle</c>: not).
/// <c>--rounds R</c> does all of that R times over in one process (each round warms and measures every selected case again), so
/// a case measured as the first of its process and the same case measured after it ran can be compared in one launch, under the
/// same load (with <c>LINQSTREAM_PERF_ROUND=r</c> and the perf fifos, only round r's measured runs are recorded); with <c>--recopy</c>
/// each round after the first reads a new copy of the NEXMark partitions (the old one dropped and collected), so a round's q5 reads
/// its input at other addresses (issue #16: is the spread between launches where the input lies?). Each case's lines
/// also give every measured run's wall time, and the process's minor page faults and context switches per run (Linux).
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

        if (!Infrastructure.ConsoleOptions.TryTakeCount(list, "--rounds", 1, output, out int rounds))
        {
            return 2;
        }

        bool settle = !list.Remove("--no-settle");
        bool recopy = list.Remove("--recopy");
        bool threads = list.Remove("--threads");
        bool barriers = list.Remove("--barriers");
        bool jitNames = list.Remove("--jit");
        if (!Infrastructure.ConsoleOptions.TryTakeCount(list, "--warm-min", 40, output, out int warmMin))
        {
            return 2;
        }

        bool allocations = list.Remove("--alloc");
        // LINQSTREAM_PERF_P=1|2 with a perf record's control fifos (Infrastructure.PerfControl): only the measured runs at that P are recorded.
        int profileAt = Infrastructure.PerfControl.Attached && int.TryParse(Environment.GetEnvironmentVariable("LINQSTREAM_PERF_P"), NumberStyles.Integer, CultureInfo.InvariantCulture, out int perfP) ? perfP : 0;
        int profileRound = int.TryParse(Environment.GetEnvironmentVariable("LINQSTREAM_PERF_ROUND"), NumberStyles.Integer, CultureInfo.InvariantCulture, out int perfRound) ? perfRound : 0;
        bool cold = list.Remove("--cold");
        // --p2-first: P = 2 is warmed and measured before P = 1 (each measured round too); --only P: this process warms and measures P alone.
        // Both for the launch-to-launch spread of q5 (issue #16): the runtime's dynamic PGO profiles the methods both P share while the
        // first P warms, so which P comes first may decide which one gets the better code (one P per process is what a deployment runs).
        bool p2First = list.Remove("--p2-first");
        if (!Infrastructure.ConsoleOptions.TryTakeCount(list, "--only", 0, output, out int only) || only > 2)
        {
            output.WriteLine("--only takes 1 or 2.");
            return 2;
        }

        int[] order = only != 0 ? [only] : p2First ? [2, 1] : [1, 2];
        // Checks the answers at P = 1, then at P = 2 (--only P: at P alone, so the other P's code never runs in this process; --cold: the other modes check them).
        var bench = new ParallelismBenchmarks { Parallelism = only == 2 ? 2 : 1 };
        bench.Setup(check: !cold);
        bench.Parallelism = 2;
        if (!cold && only == 0)
        {
            bench.CheckAnswers();
        }

        var cases = new (string Name, long Events, Func<long> Run)[]
        {
            ("TumblingCountPerKey (array: 2 parts in chunks at P = 2)", 10_000_000, bench.TumblingCountPerKey),
            ("TumblingCountPerKeyCheckpointed (job, one source task)", 10_000_000, bench.TumblingCountPerKeyCheckpointed),
            ("TumblingCountPerKeyPartitioned", 10_000_000, bench.TumblingCountPerKeyPartitioned),
            ("TumblingCountPerKeyPartitionedCheckpointed (job)", 10_000_000, bench.TumblingCountPerKeyPartitionedCheckpointed),
            ("TumblingCountPerKeyForward (2 partitions by key, declared: forward exchange)", 10_000_000, bench.TumblingCountPerKeyForward),
            ("TumblingCountPerKeyForwardArrays (2 arrays by key, declared: forward exchange, chained)", 10_000_000, bench.TumblingCountPerKeyForwardArrays),
            ("TumblingCountPerKeyForwardArrays, not chained (2 arrays by key, declared: forward exchange, a thread per task)", 10_000_000, () => Unchained(bench, bench.TumblingCountPerKeyForwardArrays)),
            ("TumblingCountPerKeyKeyPartitionedArraysHashed (the same 2 arrays, not declared: hash exchange, two phases)", 10_000_000, bench.TumblingCountPerKeyKeyPartitionedArraysHashed),
            ("TumblingCountPerKeyForwardArrays, channels spin before they block (as before session 21; chained)", 10_000_000, () => Spinning(bench, bench.TumblingCountPerKeyForwardArrays)),
            ("TumblingCountPerKeyKeyPartitionedArraysHashed, channels spin before they block (as before session 21)", 10_000_000, () => Spinning(bench, bench.TumblingCountPerKeyKeyPartitionedArraysHashed)),
            ("TumblingCountPerKeyKeyPartitionedArraysHashed, one phase (the same 2 arrays, not declared)", 10_000_000, () => OnePhase(bench, bench.TumblingCountPerKeyKeyPartitionedArraysHashed)),
            ("TumblingCountPerKeyKeyPartitionedHashed (the same 2 partitions, not declared: hash exchange, two phases)", 10_000_000, bench.TumblingCountPerKeyKeyPartitionedHashed),
            ("TumblingCountPerKeyKeyPartitionedHashed, one phase (the same 2 partitions, not declared)", 10_000_000, () => OnePhase(bench, bench.TumblingCountPerKeyKeyPartitionedHashed)),
            ("TumblingCountPerKeyPartitionedCheckpointed, key groups written before the barrier is passed on (job)", 10_000_000, () => SnapshotFirst(bench, bench.TumblingCountPerKeyPartitionedCheckpointed)),
            ("TumblingCountPerKeyPartitionedCheckpointed, source tasks read on after their barrier (job)", 10_000_000, () => AtBarriers(bench, LinqStream.SourceBarrierWait.ReadOn, bench.TumblingCountPerKeyPartitionedCheckpointed)),
            ("ShareOfWindowPartitioned (the broadcast exchange: keyed counts on P tasks, the total on the source task)", 10_000_000, bench.ShareOfWindowPartitioned),
            ("ShareOfWindowPartitioned, no broadcast exchange (one task at every P, as before)", 10_000_000, () => SwitchedOff(on => bench.BroadcastExchange = on, bench.ShareOfWindowPartitioned)),
            ("Q5HotItemsPartitioned", Nexmark.NexmarkInput.BenchmarkEvents, bench.Q5HotItemsPartitioned),
            ("Q5HotItemsPartitioned, partitions interleaved in one array (diagnostic: each source task reads every other object)", Nexmark.NexmarkInput.BenchmarkEvents, () => PartitionsInterleaved(bench, bench.Q5HotItemsPartitioned)),
            ("Q5HotItemsPartitionedCheckpointed, partitions interleaved in one array (diagnostic, job)", Nexmark.NexmarkInput.BenchmarkEvents, () => PartitionsInterleaved(bench, bench.Q5HotItemsPartitionedCheckpointed)),
            ("Q5HotItemsPartitioned, the first fifth of each partition (against the whole case: a run's fixed time and its time per event)", bench.NexmarkFifthEvents, () => FirstFifth(bench, bench.Q5HotItemsPartitioned)),
            ("Q5HotItemsPartitioned, channels spin before they block (as before session 21)", Nexmark.NexmarkInput.BenchmarkEvents, () => Spinning(bench, bench.Q5HotItemsPartitioned)),
            ("Q5HotItemsPartitioned, maximum after the merge only", Nexmark.NexmarkInput.BenchmarkEvents, () => WithoutLocalSteps(bench, bench.Q5HotItemsPartitioned)),
            ("Q5HotItems (one source task: the array is out of order)", Nexmark.NexmarkInput.BenchmarkEvents, bench.Q5HotItems),
            ("Q5HotItemsPartitionedCheckpointed (job)", Nexmark.NexmarkInput.BenchmarkEvents, bench.Q5HotItemsPartitionedCheckpointed),
            ("Q5HotItemsPartitionedCheckpointed, key groups written before the barrier is passed on (job)", Nexmark.NexmarkInput.BenchmarkEvents, () => SnapshotFirst(bench, bench.Q5HotItemsPartitionedCheckpointed)),
            ("Q5HotItemsPartitionedCheckpointed, source tasks read on after their barrier (job)", Nexmark.NexmarkInput.BenchmarkEvents, () => AtBarriers(bench, LinqStream.SourceBarrierWait.ReadOn, bench.Q5HotItemsPartitionedCheckpointed)),
            ("Q5HotItemsPartitionedCheckpointed, source tasks wait only until the tasks are aligned (job)", Nexmark.NexmarkInput.BenchmarkEvents, () => AtBarriers(bench, LinqStream.SourceBarrierWait.UntilTasksAligned, bench.Q5HotItemsPartitionedCheckpointed)),
            ("Q5HotItemsPartitionedCheckpointed, checkpoint code not warmed before the start (job)", Nexmark.NexmarkInput.BenchmarkEvents, () => NotWarmed(bench, bench.Q5HotItemsPartitionedCheckpointed)),
            ("StatelessSinkPerTaskCheckpointed (job, 2 partitions)", 10_000_000, bench.StatelessSinkPerTaskCheckpointed),
            ("StatelessOneSinkCheckpointed (job, 2 partitions, one sink)", 10_000_000, bench.StatelessOneSinkCheckpointed),
            ("TumblingCountPerKeySinkPerTaskCheckpointed (job, 2 partitions, keyed, a sink per task)", 10_000_000, bench.TumblingCountPerKeySinkPerTaskCheckpointed),
            ("TumblingCountPerKey, one phase (array: 2 parts in chunks at P = 2)", 10_000_000, () => OnePhase(bench, bench.TumblingCountPerKey)),
            ("TumblingCountPerKeyPartitioned, one phase", 10_000_000, () => OnePhase(bench, bench.TumblingCountPerKeyPartitioned)),
            ("TumblingCountPerKeyPartitioned, one phase, ordered task input", 10_000_000, () => OnePhase(bench, () => Ordered(bench, bench.TumblingCountPerKeyPartitioned))),
            ("TumblingCountPerKeyPartitionedCheckpointed, one phase (job)", 10_000_000, () => OnePhase(bench, bench.TumblingCountPerKeyPartitionedCheckpointed)),
        };
        // In the order of the filters that select them (then of the list), so a script can alternate two cases' order between launches.
        var selected = cases
            .Select((c, index) => (Case: c, Index: index, Filter: list.FindIndex(f => f.StartsWith('=') ? c.Name == f[1..] : c.Name.Contains(f, StringComparison.OrdinalIgnoreCase))))
            .Where(x => list.Count == 0 || x.Filter >= 0)
            .OrderBy(x => x.Filter)
            .ThenBy(x => x.Index)
            .Select(x => x.Case)
            .ToList();
        for (int round = 1; round <= rounds; round++)
        {
            if (rounds > 1)
            {
                // The monotonic clock's seconds (Stopwatch on Linux), to cut a perf record -k CLOCK_MONOTONIC of several rounds with perf report --time.
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"// round {round} of {rounds}, from monotonic {(double)Stopwatch.GetTimestamp() / Stopwatch.Frequency:F3} s{(recopy && round > 1 ? ", NEXMark partitions copied again" : string.Empty)}"));
            }

            if (recopy && round > 1)
            {
                bench.RecopyPartitions();
            }

            foreach (var (name, events, run) in selected)
            {
                if (cold)
                {
                    RunCold(bench, name, run, barriers, output);
                    continue;
                }

                var wall = new List<double>[] { [], [] };
                var cpu = new List<double>[] { [], [] };
                var pause = new List<double>[] { [], [] };
                var allocated = new List<double>[] { [], [] };
                var gen2 = new List<double>[] { [], [] };
                var faults = new List<double>[] { [], [] };
                var waits = new List<double>[] { [], [] };
                var preempted = new List<double>[] { [], [] };
                var gen0 = new List<double>[] { [], [] };
                var gen1 = new List<double>[] { [], [] };
                var warmups = new int[2];
                foreach (int p in order)
                {
                    bench.Parallelism = p;
                    warmups[p - 1] = WarmUp(run, warmMin);
                }

                if (settle)
                {
                    Settle();
                }

                var jit = new List<double>[] { [], [] };
                for (int r = 0; r < runs; r++)
                {
                    foreach (int p in order)
                    {
                        bench.Parallelism = p;
                        var process = Process.GetCurrentProcess();
                        var cpuStart = process.TotalProcessorTime;
                        var pauseStart = GC.GetTotalPauseDuration();
                        var jitStart = System.Runtime.JitInfo.GetCompilationTime();
                        long allocatedStart = GC.GetTotalAllocatedBytes(precise: false);
                        int gen2Start = GC.CollectionCount(2);
                        int gen0Start = GC.CollectionCount(0), gen1Start = GC.CollectionCount(1);
                        using var sampler = threads ? new ThreadCpuSampler() : null;
                        using var compiled = jitNames ? new Profiling.JitListener() : null;
                        using var allocationListener = allocations ? new Profiling.AllocationListener() : null;
                        bool profiled = profileAt == p && (profileRound == 0 || profileRound == round);
                        if (profiled)
                        {
                            Infrastructure.PerfControl.Set(enable: true);
                        }

                        var usageStart = Infrastructure.ResourceUsage.Now();
                        long start = Stopwatch.GetTimestamp();
                        long results = run();
                        var elapsed = Stopwatch.GetElapsedTime(start);
                        var usage = Infrastructure.ResourceUsage.Now() - usageStart;
                        if (profiled)
                        {
                            Infrastructure.PerfControl.Set(enable: false);
                        }
                        if (sampler is not null)
                        {
                            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"//   threads at P = {p}, CPU ns/event: {sampler.Report(events)}"));
                        }

                        if (compiled is not null)
                        {
                            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"//   compiled during the run at P = {p}: {compiled.Describe()}"));
                        }

                        if (allocationListener is not null)
                        {
                            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"//   allocated during the run at P = {p}: {allocationListener.Describe(events)}"));
                        }

                        if (barriers && p > 1 && name.Contains("job", StringComparison.Ordinal))
                        {
                            foreach (var timeline in bench.LastBarriers)
                            {
                                output.WriteLine("//   " + timeline.Describe());
                            }
                        }

                        process.Refresh();
                        var cpuUsed = process.TotalProcessorTime - cpuStart;
                        if (results <= 0)
                        {
                            throw new InvalidOperationException($"{name} at P = {p} gave no results.");
                        }

                        wall[p - 1].Add(elapsed.TotalNanoseconds / events);
                        cpu[p - 1].Add(cpuUsed.TotalNanoseconds / events);
                        pause[p - 1].Add((GC.GetTotalPauseDuration() - pauseStart).TotalNanoseconds / events);
                        jit[p - 1].Add((System.Runtime.JitInfo.GetCompilationTime() - jitStart).TotalNanoseconds / events);
                        allocated[p - 1].Add((double)(GC.GetTotalAllocatedBytes(precise: false) - allocatedStart) / events);
                        gen2[p - 1].Add(GC.CollectionCount(2) - gen2Start);
                        faults[p - 1].Add(usage.MinorFaults);
                        waits[p - 1].Add(usage.VoluntarySwitches);
                        preempted[p - 1].Add(usage.InvoluntarySwitches);
                        gen0[p - 1].Add(GC.CollectionCount(0) - gen0Start);
                        gen1[p - 1].Add(GC.CollectionCount(1) - gen1Start);
                    }
                }

                if (only != 0)
                {
                    int at = only - 1;
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"| {name} (P = {only} only) | wall {Median(wall[at]):F1} | CPU {Median(cpu[at]):F1} ns/event | runs: wall {string.Join(", ", wall[at].Select(w => w.ToString("F1", CultureInfo.InvariantCulture)))}; CPU {string.Join(", ", cpu[at].Select(w => w.ToString("F1", CultureInfo.InvariantCulture)))}; JIT {Median(jit[at]):F1} ns/event after {warmups[at]} warm-up runs; gen 0 / 1 per run {Median(gen0[at]):F0} / {Median(gen1[at]):F0}; involuntary switches {Median(preempted[at]):F0} |"));
                    continue;
                }

                double w1 = Median(wall[0]), w2 = Median(wall[1]), c1 = Median(cpu[0]), c2 = Median(cpu[1]);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {name} | {w1:F1} | {w2:F1} | {w1 / w2:F2}× | {c1:F1} | {c2:F1} | {c2 / c1:F2}× |{(name.Contains("job", StringComparison.Ordinal) ? bench.LastJob : string.Empty)}"));
                // Where a thread of the run may have waited for the collector: GC pause per event, bytes allocated per event, gen 2 collections per run.
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"//   GC: pause {Median(pause[0]):F1} / {Median(pause[1]):F1} ns/event, allocated {Median(allocated[0]):F1} / {Median(allocated[1]):F1} B/event, gen 2 collections {Median(gen2[0]):F0} / {Median(gen2[1]):F0} per run (P = 1 / P = 2)"));
                // The JIT still compiling during the measured runs (tier-up, OSR) is CPU of neither P's query: its share per event, and the warm-up runs it took.
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"//   JIT: {Median(jit[0]):F1} / {Median(jit[1]):F1} ns/event during the measured runs after {warmups[0]} / {warmups[1]} warm-up runs; CPU less JIT {c1 - Median(jit[0]):F1} / {c2 - Median(jit[1]):F1} ns/event ({(c2 - Median(jit[1])) / (c1 - Median(jit[0])):F2}×)"));
                // Every measured run (the medians hide a slow one), and what the kernel saw per run: first touches of fresh memory, waits, preemptions.
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"//   runs: wall P = 1 {string.Join(", ", wall[0].Select(w => w.ToString("F1", CultureInfo.InvariantCulture)))}; P = 2 {string.Join(", ", wall[1].Select(w => w.ToString("F1", CultureInfo.InvariantCulture)))} ns/event; CPU P = 1 {string.Join(", ", cpu[0].Select(w => w.ToString("F1", CultureInfo.InvariantCulture)))}; P = 2 {string.Join(", ", cpu[1].Select(w => w.ToString("F1", CultureInfo.InvariantCulture)))}"));
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"//   OS per run: minor faults {Median(faults[0]):F0} / {Median(faults[1]):F0}, voluntary context switches {Median(waits[0]):F0} / {Median(waits[1]):F0}, involuntary {Median(preempted[0]):F0} / {Median(preempted[1]):F0}; collections gen 0 {Median(gen0[0]):F0} / {Median(gen0[1]):F0}, gen 1 {Median(gen1[0]):F0} / {Median(gen1[1]):F0} (P = 1 / P = 2)"));
            }
        }

        return 0;
    }

    /// <summary>
    /// <c>--cold</c>: runs the case once at P = 2 with no warm-up run and no answer check before it (select one job case per launch: a
    /// fresh process pays the first run of the query's and the checkpoint's code, as a job's first launch does), and prints its first barrier against the others: the
    /// alignment, the longest time a source task took from noticing the request to sending the barrier (writing its parts), and
    /// the longest a task took from passing it on to having written its key groups.
    /// </summary>
    private static void RunCold(ParallelismBenchmarks bench, string name, Func<long> run, bool barriers, TextWriter output)
    {
        bench.Parallelism = 2;
        long start = Stopwatch.GetTimestamp();
        if (run() <= 0)
        {
            throw new InvalidOperationException($"{name} at P = 2 gave no results.");
        }

        var elapsed = Stopwatch.GetElapsedTime(start);
        var timelines = bench.LastBarriers.Where(t => Array.TrueForAll(t.MergeSeen, seen => seen != 0)).ToList();
        if (barriers)
        {
            foreach (var timeline in timelines)
            {
                output.WriteLine("//   " + timeline.Describe());
            }
        }

        if (timelines.Count == 0)
        {
            output.WriteLine($"| {name} (cold, P = 2) | no barrier reached the merge from every task |");
            return;
        }

        var first = timelines[0];
        var rest = timelines.Skip(1).ToList();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {name} (cold, P = 2) | {elapsed.TotalSeconds:F2} s | first barrier: alignment {first.Alignment.TotalMilliseconds:F1} ms, sources' parts {Longest(first.SourceNoticed, first.SourceSent):F1} ms, tasks' key groups {Longest(first.TaskPassed, first.TaskWritten):F1} ms "
            + $"| other {rest.Count}: median alignment {(rest.Count == 0 ? double.NaN : Median([.. rest.Select(t => t.Alignment.TotalMilliseconds)])):F1} ms, max {(rest.Count == 0 ? double.NaN : rest.Max(t => t.Alignment.TotalMilliseconds)):F1} ms, sources' parts {(rest.Count == 0 ? double.NaN : rest.Max(t => Longest(t.SourceNoticed, t.SourceSent))):F1} ms, tasks' key groups {(rest.Count == 0 ? double.NaN : rest.Max(t => Longest(t.TaskPassed, t.TaskWritten))):F1} ms |{bench.LastJob}"));

        // The longest time from one mark to the next at any source task or task that has both (ms).
        static double Longest(long[] from, long[] to)
        {
            double longest = 0;
            for (int i = 0; i < from.Length; i++)
            {
                if (from[i] != 0 && to[i] != 0)
                {
                    longest = Math.Max(longest, Stopwatch.GetElapsedTime(from[i], Math.Max(from[i], to[i])).TotalMilliseconds);
                }
            }

            return longest;
        }
    }

    /// <summary>Runs a case with the tasks' checkpoint code not run before the job starts (as before issue #16's tenth part).</summary>
    private static long NotWarmed(ParallelismBenchmarks bench, Func<long> run) => SwitchedOff(on => bench.WarmParallelCheckpoints = on, run);

    /// <summary>Runs a case with source task t and task t of a forward plan on two threads (as before issue #16's twelfth part).</summary>
    private static long Unchained(ParallelismBenchmarks bench, Func<long> run) => SwitchedOff(on => bench.ChainForwardTasks = on, run);

    /// <summary>Runs a case with two-phase aggregation off (events cross the exchange, as before issue #16's fifth part).</summary>
    private static long OnePhase(ParallelismBenchmarks bench, Func<long> run) => SwitchedOff(on => bench.TwoPhase = on, run);

    /// <summary>Runs a case with each task's input through the ordering union even when the aggregate does not need it (as before issue #16's ninth part).</summary>
    private static long Ordered(ParallelismBenchmarks bench, Func<long> run) => SwitchedOff(on => bench.UnorderedTaskInput = on, run);

    /// <summary>Runs a case with each task writing its key groups before it passes a barrier on (as before issue #16's eighth part).</summary>
    private static long SnapshotFirst(ParallelismBenchmarks bench, Func<long> run) => SwitchedOff(on => bench.BarrierBeforeSnapshot = on, run);

    /// <summary>Runs a case with source tasks waiting for <paramref name="wait"/> after they sent a barrier (the default: until it is through).</summary>
    private static long AtBarriers(ParallelismBenchmarks bench, LinqStream.SourceBarrierWait wait, Func<long> run) =>
        Switched(value => bench.SourcesWaitAtBarrier = value, wait, LinqStream.SourceBarrierWait.UntilThrough, run);

    /// <summary>Runs a q5 case over round-robin views of the one generated array (see <see cref="ParallelismBenchmarks.NexmarkPartitionsInterleaved"/>).</summary>
    private static long PartitionsInterleaved(ParallelismBenchmarks bench, Func<long> run) =>
        Switched(on => bench.NexmarkPartitionsInterleaved = on, true, false, run);

    /// <summary>Runs a case with q5's per-window maximum only after the merge (as before issue #16's sixth part).</summary>
    private static long WithoutLocalSteps(ParallelismBenchmarks bench, Func<long> run) => SwitchedOff(on => bench.TaskLocalSteps = on, run);

    /// <summary>Runs a q5 case over the first fifth of each partition (see <see cref="ParallelismBenchmarks.NexmarkFifth"/>).</summary>
    private static long FirstFifth(ParallelismBenchmarks bench, Func<long> run) => Switched(on => bench.NexmarkFifth = on, true, false, run);

    /// <summary>Runs a case with every channel's waiting side spinning before it blocks, whatever the run's thread count (the engine's choice before session 21).</summary>
    private static long Spinning(ParallelismBenchmarks bench, Func<long> run) => Switched<bool?>(value => bench.SpinBeforeBlocking = value, true, null, run);

    /// <summary>Runs a case with one of the benchmark's plan switches off, and turns it on again.</summary>
    private static long SwitchedOff(Action<bool> set, Func<long> run) => Switched(set, false, true, run);

    /// <summary>Runs a case with one of the benchmark's settings at <paramref name="during"/>, then sets it to <paramref name="after"/> (its default).</summary>
    private static long Switched<TValue>(Action<TValue> set, TValue during, TValue after, Func<long> run)
    {
        set(during);
        try
        {
            return run();
        }
        finally
        {
            set(after);
        }
    }

    /// <summary>
    /// Runs a case until the JIT is done with it: tiered compilation promotes hot methods to optimized code in the background
    /// (after 30 calls and a 100 ms delay, loops through on-stack replacement), and one run of a case is only a few hundred
    /// milliseconds, so a single warm-up left the compiler busy during the measured runs, and its CPU time was counted in the
    /// process's. Warms until a run spends under 1 % of its wall time in the JIT (at least 2 runs, at most 30: with 10, the first case of a
    /// process still had 4–17 ns/event of JIT in its measured runs, session 14), and at least <paramref name="minimum"/> runs (default
    /// 40): what a query runs once per run (its compile, wiring, thread starts) reaches the 30 calls that promote a method only
    /// after ~30 runs, so a warm-up that stopped after a quiet run or two left those compiles to the measured runs (q5: 2.4–6.2
    /// ns/event of JIT at P = 2, 176 methods in one run, session 20). They cost P = 1 nothing (its second core is idle) and take
    /// a core from P = 2's tasks; with 40 the measured runs had 0.0–0.2 ns/event of JIT at both P, and q5's CPU at P = 2 was
    /// 0.98–1.01× P = 1's instead of 1.10–1.29× (benchmarks/RESULTS.md, "Session 20").
    /// </summary>
    /// <returns>The number of warm-up runs.</returns>
    /// <param name="run">One run of the case.</param>
    /// <param name="minimum">The fewest warm-up runs.</param>
    private static int WarmUp(Func<long> run, int minimum)
    {
        for (int i = 1; ; i++)
        {
            var jitStart = System.Runtime.JitInfo.GetCompilationTime();
            long start = Stopwatch.GetTimestamp();
            run();
            var elapsed = Stopwatch.GetElapsedTime(start);
            var compiling = System.Runtime.JitInfo.GetCompilationTime() - jitStart;
            if (i >= Math.Max(30, minimum + 10) || (i >= minimum && compiling < elapsed / 100))
            {
                return i;
            }
        }
    }

    /// <summary>
    /// Before a case's measured runs: one blocking, compacting full collection. The set-up allocates the inputs (15M events, their
    /// partitions and copies) and the answer checks' garbage; the background collection of generation 2 that this starts ran on the
    /// ".NET BGC" thread during the first case's measured runs (18 % of P = 2's CPU samples in round 1 of a --rounds 2 launch, none in
    /// round 2; issue #16, par17): free at P = 1, whose second core is idle, but taken from P = 2's tasks. Here it ends (or is done
    /// blocking) before the clock starts, for every case alike, and the engine's own collections stay in the measured runs.
    /// <c>--no-settle</c> leaves it out (as before).
    /// </summary>
    private static void Settle()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>
    /// <c>--threads</c> (Linux): samples the CPU time (user + sys) of every thread of this process from /proc/self/task every
    /// 20 ms while a run goes, so threads that end with the run are counted too, and adds them up by thread name (the kernel
    /// keeps 15 characters: "LinqStream sour" are source tasks, "LinqStream task" aggregate tasks). Where the CPU of a run
    /// went, per stage: the critical path of a P = 2 run is its busiest thread, whatever the machine's load.
    /// </summary>
    private sealed class ThreadCpuSampler : IDisposable
    {
        private readonly Dictionary<int, (string Name, long Start, long Last)> _threads = [];
        private readonly Thread _thread;
        private volatile bool _stop;

        public ThreadCpuSampler()
        {
            Sample(first: true);
            _thread = new Thread(() =>
            {
                while (!_stop)
                {
                    Thread.Sleep(20);
                    Sample(first: false);
                }
            })
            { IsBackground = true, Name = "cpu sampler" };
            _thread.Start();
        }

        public string Report(long events)
        {
            _stop = true;
            _thread.Join();
            Sample(first: false);
            lock (_threads)
            {
                double tick = 1e9 / 100; // USER_HZ: clock ticks of /proc are 10 ms
                var byName = _threads.Values
                    .Where(t => t.Last > t.Start)
                    .GroupBy(t => t.Name)
                    .Select(g => (Name: g.Key, Count: g.Count(), PerEvent: g.Sum(t => (t.Last - t.Start) * tick) / events, Max: g.Max(t => (t.Last - t.Start) * tick) / events))
                    .OrderByDescending(g => g.PerEvent);
                return string.Join("; ", byName.Select(g => string.Create(CultureInfo.InvariantCulture, $"{g.Name} ×{g.Count} {g.PerEvent:F1} (busiest {g.Max:F1})")));
            }
        }

        public void Dispose() => _stop = true;

        private void Sample(bool first)
        {
            string[] tasks;
            try
            {
                tasks = Directory.GetDirectories("/proc/self/task");
            }
            catch (IOException)
            {
                return;
            }

            foreach (var directory in tasks)
            {
                try
                {
                    int id = int.Parse(Path.GetFileName(directory), CultureInfo.InvariantCulture);
                    string stat = File.ReadAllText(Path.Combine(directory, "stat"));
                    int open = stat.IndexOf('('), close = stat.LastIndexOf(')');
                    string name = stat[(open + 1)..close];
                    var fields = stat[(close + 2)..].Split(' ');
                    long cpu = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture); // utime + stime
                    lock (_threads)
                    {
                        // A thread is named after it starts (until then it has the process's name): keep the latest name.
                        _threads[id] = _threads.TryGetValue(id, out var known) ? known with { Name = name, Last = cpu } : (name, first ? cpu : 0, cpu);
                    }
                }
                catch (IOException)
                {
                    // the thread ended between the listing and the read
                }
                catch (UnauthorizedAccessException)
                {
                }
            }
        }
    }
}
