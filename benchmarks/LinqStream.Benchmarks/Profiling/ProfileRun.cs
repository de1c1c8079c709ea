using System.Diagnostics;
using System.Globalization;
using LinqStream.Benchmarks.Scenarios.Nexmark;

namespace LinqStream.Benchmarks.Profiling;

/// <summary>
/// <c>--profile QUERY [--seconds N]</c>: generates the benchmark input once, then runs only LinqStream's version of one NEXMark query
/// over it again and again for N seconds (default 20), so that a profiler attached to the process (<c>dotnet-trace collect -- ...</c>)
/// sees the engine and not Rx.NET, the model or the answer check. Prints events/s per run. With <c>--explain</c>, prints the
/// query's plans (<c>Explain()</c>) instead and runs nothing; with <c>--join-plan</c>, runs the query with the plan rewrites off;
/// with <c>--batch-size N</c>, with N events per batch instead of the default; with <c>--hand</c>, runs the hand-written loop instead;
/// with <c>--alloc</c>, prints after each run what it allocated by type and its collections (<see cref="AllocationListener"/>).
/// Each run's line ends with its collections per generation and the time they paused the process.
/// </summary>
/// <remarks>
/// With <c>--jit</c>, prints after each run what the JIT compiled during it (count and time from <see cref="System.Runtime.JitInfo"/>,
/// and the shared kernel cache's hits and misses), to see whether a warm query still compiles anything; <c>--jit-names</c> adds
/// the methods by name and tier (from the runtime's events, through an in-process listener that costs some CPU itself).
/// </remarks>
public static class ProfileRun
{
    /// <summary>Runs the profile loop.</summary>
    /// <returns>0, or 2 when the query name matches no NEXMark class (or several).</returns>
    public static int Run(IReadOnlyList<string> args, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        string name = args.Count > 0 ? args[0] : string.Empty;
        double seconds = 20;
        int at = args.ToList().IndexOf("--seconds");
        if (at >= 0 && (at + 1 >= args.Count || !double.TryParse(args[at + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out seconds) || seconds <= 0))
        {
            output.WriteLine("--seconds must be a positive number.");
            return 2;
        }

        var types = typeof(ProfileRun).Assembly.GetTypes()
            .Where(t => !t.IsAbstract && typeof(IProfiledQuery).IsAssignableFrom(t) && name.Length > 0 && t.Name.StartsWith(name, StringComparison.OrdinalIgnoreCase)
                && (t.Name.Length == name.Length || !char.IsDigit(t.Name[name.Length])))
            .ToList();
        if (types.Count != 1)
        {
            output.WriteLine($"--profile needs one NEXMark query such as Q5 or Q7HighestBid; '{name}' matches {types.Count}.");
            return 2;
        }

        var query = (IProfiledQuery)Activator.CreateInstance(types[0])!;
        if (args.Contains("--explain"))
        {
            output.Write(query.ExplainLinqStream(NexmarkInput.ForQuickCheck()));
            return 0;
        }

        var input = NexmarkInput.ForBenchmark();
        if (args.Contains("--join-plan"))
        {
            input = input.With(input.Options with { RewriteSubPlans = false }); // the plan before issue #19's rewrites
        }

        int batchAt = args.ToList().IndexOf("--batch-size");
        if (batchAt >= 0)
        {
            if (batchAt + 1 >= args.Count || !int.TryParse(args[batchAt + 1], NumberStyles.Integer, CultureInfo.InvariantCulture, out int batchSize) || batchSize < 1 || batchSize > 1 << 20)
            {
                output.WriteLine("--batch-size must be a whole number from 1 to 1048576.");
                return 2;
            }

            input = input.With(input.Options with { BatchSize = batchSize }); // a batch-size sweep (issue #19)
        }

        bool hand = args.Contains("--hand"); // the hand-written loop instead, as the reference in the same sitting (issue #19)
        output.WriteLine($"profiling {query.Name} ({types[0].Name}){(hand ? ", hand-written loop" : string.Empty)}: {input.Events.Length:N0} events per run, batch size {input.Options.BatchSize}, for {seconds} s");
        var total = Stopwatch.StartNew();
        bool jitNames = args.Contains("--jit-names"), jit = jitNames || args.Contains("--jit");
        bool alloc = args.Contains("--alloc"); // what each run allocated, by type, and its collections' pauses (runtime events, in process)
        var kernels = LinqStream.Physical.Kernels.KernelCompiler.Shared.Cache!;
        for (int run = 1; total.Elapsed.TotalSeconds < seconds; run++)
        {
            using var compiled = jitNames ? new JitListener() : null;
            long methods = System.Runtime.JitInfo.GetCompiledMethodCount();
            var compiling = System.Runtime.JitInfo.GetCompilationTime();
            long hits = kernels.Hits, misses = kernels.Misses;
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            long allocated = GC.GetTotalAllocatedBytes(precise: true);
            int gen0 = GC.CollectionCount(0), gen1 = GC.CollectionCount(1), gen2 = GC.CollectionCount(2);
            var paused = GC.GetTotalPauseDuration();
            using var allocations = alloc ? new AllocationListener() : null;
            var watch = Stopwatch.StartNew();
            long results = hand ? query.RunHandWritten(input) : query.RunLinqStream(input);
            double rate = input.Events.Length / watch.Elapsed.TotalSeconds;
            // CPU time of the whole process (every thread, GC included) per event: on a shared machine it moves less than the wall time.
            double cpuPerEvent = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalNanoseconds / input.Events.Length;
            // Every thread's allocations (the parallel tasks' too), per event: unlike the times, the same on a busy machine.
            double bytesPerEvent = (double)(GC.GetTotalAllocatedBytes(precise: true) - allocated) / input.Events.Length;
            // The collections during the run (gen 2 counted in gen 1 and 0 too, as the runtime counts them) and the time they paused it.
            string collections = string.Create(
                CultureInfo.InvariantCulture,
                $"GC {GC.CollectionCount(0) - gen0}/{GC.CollectionCount(1) - gen1}/{GC.CollectionCount(2) - gen2} (gen 0/1/2), paused {(GC.GetTotalPauseDuration() - paused).TotalMilliseconds:F0} ms");
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"run {run}: {watch.Elapsed.TotalSeconds:F2} s, {rate / 1e6:F1} M events/s, CPU {cpuPerEvent:F1} ns/event, {bytesPerEvent:F1} B/event, {results:N0} results, {collections}"));
            if (allocations is not null)
            {
                output.WriteLine("  " + allocations.Describe(input.Events.Length));
            }

            if (jit)
            {
                // Every thread's compilations (the tiering thread's included) while the run went.
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  jit in run {run}: {System.Runtime.JitInfo.GetCompiledMethodCount() - methods} methods, {(System.Runtime.JitInfo.GetCompilationTime() - compiling).TotalMilliseconds:F1} ms; kernel cache {kernels.Hits - hits} hits, {kernels.Misses - misses} misses{(compiled is null ? string.Empty : "; " + compiled.Describe(top: 12))}"));
            }
        }

        return 0;
    }
}
