using System.Diagnostics;
using System.Globalization;

namespace LinqStream.Benchmarks.Scenarios.Connectors;

/// <summary>
/// <c>--connector-cpu [--runs N] [--decoder record,full,query,stj,hand] [--reader own,client] [redis|nats] [q0|q5|q7...]</c>: client CPU per event of
/// <see cref="RedisNexmark"/> and <see cref="NatsNexmark"/> as a console mode, for a shared machine where BenchmarkDotNet's runs take
/// too long. For each connector and query, every reader × decoder case (default: both readers, decoders <c>record</c> and
/// <c>stj</c>, so before and after the record decoder in one run) is set up (bids written once, every answer checked), then the
/// source alone (<c>ReadAndDecodeOnly</c>) and the job (source, query, sink) run N times each (default 5), the cases alternating,
/// and the median process CPU time (user + sys of every thread, GC included) and wall time per event are printed, with the
/// server's CPU per event, and the steady-state client CPU per event: from the 300,000th bid read to the source's end
/// (<see cref="CpuMarkingSource{T}"/>), which leaves out each job's start-up (connecting, compiling the query, tier-1 JIT). Needs the servers of <c>.ci/servers.sh</c> (or starts its own).
/// </summary>
public static class ConnectorCpuRun
{
    private static readonly string[] s_readers = ["own", "client"];

    /// <summary>Runs the measurements.</summary>
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

        if (!TakeList(list, "--decoder", ["record", "full", "query", "stj", "hand"], ["record", "stj"], output, out var decoders)
            || !TakeList(list, "--reader", s_readers, s_readers, output, out var readers))
        {
            return 2;
        }

        string[] connectors = [.. list.Where(a => a is "redis" or "nats").Distinct()];
        connectors = connectors.Length > 0 ? connectors : ["redis", "nats"];
        string[] queries = list.Where(a => a is "q0" or "q5" or "q7").DefaultIfEmpty("q5").Distinct().ToArray();
        if (list.Any(a => a is not ("redis" or "nats" or "q0" or "q5" or "q7")))
        {
            output.WriteLine("usage: --connector-cpu [--runs N] [--decoder record,full,query,stj,hand] [--reader own,client] [redis] [nats] [q0] [q5] [q7]");
            return 2;
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"// load average at start: {LoadAverage()}"));
        foreach (var connector in connectors)
        {
            foreach (var query in queries)
            {
                var cases = Cases(connector, query, readers, decoders);
                foreach (var method in (string[])["ReadAndDecodeOnly", "Job"])
                {
                    var cpu = cases.ToDictionary(c => c.Name, _ => new List<double>());
                    var wall = cases.ToDictionary(c => c.Name, _ => new List<double>());
                    var server = cases.ToDictionary(c => c.Name, _ => new List<double>());
                    var steady = cases.ToDictionary(c => c.Name, _ => new List<double>());
                    var steadyNoTiering = cases.ToDictionary(c => c.Name, _ => new List<double>());
                    var noTiering = cases.ToDictionary(c => c.Name, _ => new List<double>());
                    var workItems = cases.ToDictionary(c => c.Name, _ => new List<double>());
                    foreach (var c in cases)
                    {
                        Measure(c, method); // warm-up (JIT, tiering)
                    }

                    for (int run = 0; run < runs; run++)
                    {
                        foreach (var c in cases)
                        {
                            Profiler(method, enable: true);
                            var tiering = TieringCpu();
                            long items = ThreadPool.CompletedWorkItemCount;
                            var (cpuPerEvent, wallPerEvent, serverPerEvent) = Measure(c, method);
                            workItems[c.Name].Add(ThreadPool.CompletedWorkItemCount - items);
                            double tieringPerEvent = TieringCpuBetween(tiering, TieringCpu()).TotalMilliseconds * 1000 / ConnectorNexmark.Bids;
                            Profiler(method, enable: false);
                            steady[c.Name].Add(c.Steady());
                            steadyNoTiering[c.Name].Add(c.SteadyWithoutTiering());
                            noTiering[c.Name].Add(cpuPerEvent - tieringPerEvent);
                            cpu[c.Name].Add(cpuPerEvent);
                            wall[c.Name].Add(wallPerEvent);
                            server[c.Name].Add(serverPerEvent);
                        }
                    }

                    foreach (var c in cases)
                    {
                        if (c.ReaderStats() is { } stats)
                        {
                            output.WriteLine($"{connector} {query} {c.Name,-13} {method,-17}: last run: {stats}");
                        }

                        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"{connector} {query} {c.Name,-13} {method,-17}: client CPU {Median(cpu[c.Name]):0.000} µs/event (runs {string.Join(" ", cpu[c.Name].Select(v => v.ToString("0.000", CultureInfo.InvariantCulture)))}), wall {Median(wall[c.Name]):0.000} µs/event, server CPU {Median(server[c.Name]):0.000} µs/event; steady client CPU {Median(steady[c.Name]):0.000} µs/event (runs {string.Join(" ", steady[c.Name].Select(v => v.ToString("0.000", CultureInfo.InvariantCulture)))})"));
                        // Each work item is a hand-off to a pool worker (a wake-up, and the spinning of a worker that then runs dry).
                        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"{connector} {query} {c.Name,-13} {method,-17}: thread-pool work items per run {Median(workItems[c.Name]):0} (runs {string.Join(" ", workItems[c.Name].Select(v => v.ToString("0", CultureInfo.InvariantCulture)))})"));
                        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"{connector} {query} {c.Name,-13} {method,-17}: without the tier-up thread: client CPU {Median(noTiering[c.Name]):0.000} µs/event (runs {string.Join(" ", noTiering[c.Name].Select(v => v.ToString("0.000", CultureInfo.InvariantCulture)))}), steady {Median(steadyNoTiering[c.Name]):0.000} µs/event (runs {string.Join(" ", steadyNoTiering[c.Name].Select(v => v.ToString("0.000", CultureInfo.InvariantCulture)))})"));
                    }
                }

                foreach (var c in cases)
                {
                    c.Dispose();
                }
            }
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"// load average at end: {LoadAverage()}"));
        return 0;
    }

    /// <summary>
    /// The user + system CPU time of each of the runtime's tiered-compilation threads (<c>.NET Tiered Compilation</c>, the JIT's
    /// background tier-1 and OSR work) by thread id, from <c>/proc/self/task</c> (Linux; empty elsewhere). The runtime ends that thread
    /// when it has been idle for a while and starts another later, so two readings are compared with <see cref="TieringCpuBetween"/>.
    /// </summary>
    /// <returns>Each tier-up thread's CPU time, in ticks of 1/100 s, by thread id.</returns>
    public static Dictionary<string, long> TieringCpu()
    {
        const string Tasks = "/proc/self/task";
        var threads = new Dictionary<string, long>();
        if (!Directory.Exists(Tasks))
        {
            return threads;
        }

        foreach (var task in Directory.EnumerateDirectories(Tasks))
        {
            try
            {
                // comm is the thread's name cut to 15 characters.
                if (!File.ReadAllText(Path.Combine(task, "comm")).StartsWith(".NET Tiered Com", StringComparison.Ordinal))
                {
                    continue;
                }

                var fields = File.ReadAllText(Path.Combine(task, "stat")).Split(')')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                threads[Path.GetFileName(task)] = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            }
            catch (IOException)
            {
                // The thread ended while being read.
            }
        }

        return threads;
    }

    /// <summary>
    /// The tier-up threads' CPU time between two <see cref="TieringCpu"/> readings: each thread alive at the second, less what it had
    /// used at the first. A thread that ended in between is left out (its CPU since the first reading is not known), so this is at
    /// most the true figure, and a CPU time "without the tier-up thread" computed with it at least the true one.
    /// </summary>
    /// <returns>The CPU time.</returns>
    public static TimeSpan TieringCpuBetween(Dictionary<string, long> first, Dictionary<string, long> second)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        long ticks = second.Sum(thread => thread.Value - first.GetValueOrDefault(thread.Key));
        return TimeSpan.FromSeconds(ticks / 100.0); // USER_HZ is 100 on Linux
    }

    private static (double Cpu, double Wall, double Server) Measure(Case c, string method)
    {
        c.Prepare();
        var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var serverCpu = c.ServerCpu();
        long start = Stopwatch.GetTimestamp();
        long events = method == "Job" ? c.Job() : c.Read();
        var wall = Stopwatch.GetElapsedTime(start);
        process.Refresh();
        var used = process.TotalProcessorTime - cpu;
        var serverUsed = c.ServerCpu() - serverCpu;
        if (method != "Job" && events != RedisNexmark.Bids)
        {
            throw new InvalidOperationException($"{c.Name}: read {events} bids, expected {ConnectorNexmark.Bids}.");
        }

        double n = ConnectorNexmark.Bids;
        return (used.TotalMilliseconds * 1000 / n, wall.TotalMilliseconds * 1000 / n, serverUsed.TotalMilliseconds * 1000 / n);
    }

    /// <summary>
    /// Turns a <c>perf record --control fifo:CTL,ACK -D -1</c> on around the measured runs only (not the set-up, the answer checks
    /// or the warm-ups), when <c>LINQSTREAM_PERF_CTL</c> and <c>LINQSTREAM_PERF_ACK</c> name its fifos; <c>LINQSTREAM_PERF_METHOD</c>
    /// (<c>Job</c>, <c>ReadAndDecodeOnly</c>) keeps it to one of the two.
    /// </summary>
    private static void Profiler(string method, bool enable)
    {
        if (Environment.GetEnvironmentVariable("LINQSTREAM_PERF_METHOD") is { Length: > 0 } only && only != method)
        {
            return;
        }

        if (Environment.GetEnvironmentVariable("LINQSTREAM_MARK_RUNS") == "1")
        {
            Console.WriteLine(enable ? "// measured run starts" : "// measured run ends");
        }

        Infrastructure.PerfControl.Set(enable);
    }

    private static Case[] Cases(string connector, string query, string[] readers, string[] decoders)
    {
        return [.. readers.SelectMany(reader => decoders.Select(decoder =>
        {
            ConnectorNexmark bench = connector == "redis"
                ? new RedisNexmark { Query = query, Reader = reader, Decoder = decoder }
                : new NatsNexmark { Query = query, Reader = reader, Decoder = decoder };
            bench.Setup();
            return new Case($"{reader}/{decoder}", bench.ReadAll, bench.RunJob, bench.StartCpu, bench.ServerCpuTime, () => bench.LastSteadyMicrosecondsPerEvent, () => bench.LastSteadyWithoutTieringMicrosecondsPerEvent, () => bench.LastReaderStats, bench.Cleanup);
        }))];
    }

    /// <summary>Takes <c>NAME a,b</c> from the arguments: each value must be one of <paramref name="allowed"/>.</summary>
    private static bool TakeList(List<string> list, string name, string[] allowed, string[] defaults, TextWriter output, out string[] values)
    {
        values = defaults;
        int at = list.IndexOf(name);
        if (at < 0)
        {
            return true;
        }

        values = at + 1 < list.Count ? list[at + 1].Split(',', StringSplitOptions.RemoveEmptyEntries) : [];
        if (values.Length == 0 || values.Any(v => !allowed.Contains(v)))
        {
            output.WriteLine($"{name} takes a comma-separated list of {string.Join(", ", allowed)}.");
            return false;
        }

        list.RemoveRange(at, 2);
        return true;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "unknown";

    private sealed record Case(string Name, Func<long> Read, Func<long> Job, Action Prepare, Func<TimeSpan> ServerCpu, Func<double> Steady, Func<double> SteadyWithoutTiering, Func<string?> ReaderStats, Action Dispose);
}
