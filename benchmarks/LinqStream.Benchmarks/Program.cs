using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using LinqStream.Benchmarks.Checks;
using LinqStream.Benchmarks.Profiling;
using LinqStream.Benchmarks.Reporting;

// --quick [filter...]   every answer check at a small scale, no timing (CI); non-zero exit on a wrong answer
//                       (--quick --full [filter...]: the same checks at the benchmarks' scale, as [GlobalSetup] runs them)
// --report [options]    results table (RESULTS.md) and chart (results.png) from BenchmarkDotNet's CSV reports
// --profile QUERY [--seconds N]   only LinqStream's version of one NEXMark query, over and over, for a profiler (no answer check)
// --checkpoint-pause [--gigabytes N] [--rounds N] [--changed PERCENT] [--dir DIR]   issue #18: RocksDB checkpoint pause at N GB of state
// --checkpoint-pause --job [--keys N] [--touches N] [--checkpoints N] [--state heap|rocksdb]   the pause of a job's loop at P = 1
// --profile QUERY --explain        the plans of LinqStream's version of one NEXMark query (Explain())
// --profile QUERY --join-plan      the same loop with the plan rewrites off (QueryOptions.RewriteSubPlans = false)
// --profile QUERY --alloc          each run's allocations by type and its collections' pauses (every run's line has its GC counts)
// --parallelism [--runs N] [CASE...]   ParallelismBenchmarks' cases at P = 1 and 2, alternating, answers checked: median wall
//                       and process CPU time per event (for a loaded machine, where BenchmarkDotNet's runs cannot finish)
// --connector-cpu [--runs N] [redis] [nats] [q0] [q5] [q7]   client CPU per event of the Redis/NATS source alone and of the
//                       job (source, query, sink), own reader vs the client library's, alternating: medians (issue #19), and
//                       the steady state from the 300,000th bid to the source's end (no per-job start-up)
// --cluster-q5 [--events N] [--runs N] [--parallelism P]   issue #17: q5 on a 3-silo Orleans cluster (in this process) as one job in
//                       one grain and spread over the silos, alternating: steady events/s and CPU per event, outputs compared
// --ingress [--runs N] [--warmup N] [--events N] [--batch-size N] [--sequential] [CASE...]   IngressBenchmarks' cases in one
//                       process in the order given (array, list, enumerable, observable, batch), round by round: order
//                       effects side by side, median ns/event, speed vs batch-to-batch (#19)
// anything else         BenchmarkDotNet's own command line (--filter, --job, ...); --inProcessMinutes N runs in process with N
//                       minutes per case (BenchmarkDotNet's --inProcess allows 5, too few for a NEXMark class's setup and a long warm-up under load)
return args.FirstOrDefault() switch
{
    "--quick" => QuickCheck.Run(args[1..], Console.Out),
    "--report" => ResultsReport.Run(args[1..], Console.Out),
    "--profile" => ProfileRun.Run(args[1..], Console.Out),
    "--checkpoint-pause" when args.Contains("--job") => LinqStream.Benchmarks.Scenarios.State.CheckpointPauseJobRun.Run(args[1..], Console.Out),
    "--checkpoint-pause" => LinqStream.Benchmarks.Scenarios.State.CheckpointPauseRun.Run(args[1..], Console.Out),
    "--parallelism" => LinqStream.Benchmarks.Scenarios.Parallel.ParallelismRun.Run(args[1..], Console.Out),
    "--connector-cpu" => LinqStream.Benchmarks.Scenarios.Connectors.ConnectorCpuRun.Run(args[1..], Console.Out),
    "--ingress" => LinqStream.Benchmarks.Operators.IngressRun.Run(args[1..], Console.Out),
    "--cluster-q5" => LinqStream.Benchmarks.Scenarios.Cluster.ClusterQ5Run.Run(args[1..], Console.Out),
    _ => RunBenchmarks(args),
};

static int RunBenchmarks(string[] args)
{
    // --inProcessMinutes N: in process (as --inProcess) with N minutes per case instead of BenchmarkDotNet's 5, which a case's
    // [GlobalSetup] (5M events generated, every version's answer checked) and a warm-up past the tier-up (~65 runs) exceed on a
    // loaded machine. BenchmarkDotNet's other options (--warmupCount, ...) apply to this job as to its default one.
    int at = Array.IndexOf(args, "--inProcessMinutes");
    if (at >= 0 && at + 1 < args.Length)
    {
        var timeout = TimeSpan.FromMinutes(double.Parse(args[at + 1], System.Globalization.CultureInfo.InvariantCulture));
        var job = Job.Default.WithToolchain(new BenchmarkDotNet.Toolchains.InProcess.Emit.InProcessEmitToolchain(timeout, logOutput: true)).AsDefault();
        BenchmarkSwitcher.FromAssembly(typeof(QuickCheck).Assembly).Run([.. args[..at], .. args[(at + 2)..]], DefaultConfig.Instance.AddJob(job));
        return 0;
    }

    BenchmarkSwitcher.FromAssembly(typeof(QuickCheck).Assembly).Run(args);
    return 0;
}
