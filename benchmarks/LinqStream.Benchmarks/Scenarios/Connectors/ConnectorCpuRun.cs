using System.Diagnostics;
using System.Globalization;

namespace LinqStream.Benchmarks.Scenarios.Connectors;

/// <summary>
/// <c>--connector-cpu [--runs N] [--decoder sourcegen|hand] [redis|nats] [q0|q5|q7...]</c>: client CPU per event of <see cref="RedisNexmark"/> and
/// <see cref="NatsNexmark"/> as a console mode, for a shared machine where BenchmarkDotNet's runs take too long. For each
/// connector and query, both readers (<c>own</c>, <c>client</c>) are set up (bids written once, every answer checked), then the
/// source alone (<c>ReadAndDecodeOnly</c>) and the job (source, query, sink) run N times each (default 5), the two readers
/// alternating, and the median process CPU time (user + sys of every thread, GC included) and wall time per event are printed,
/// with the server's CPU per event. Needs the servers of <c>.ci/servers.sh</c> (or starts its own).
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

        string decoder = "sourcegen";
        int at = list.IndexOf("--decoder");
        if (at >= 0)
        {
            if (at + 1 >= list.Count || list[at + 1] is not ("sourcegen" or "hand"))
            {
                output.WriteLine("--decoder must be sourcegen or hand.");
                return 2;
            }

            decoder = list[at + 1];
            list.RemoveRange(at, 2);
        }

        string[] connectors = [.. list.Where(a => a is "redis" or "nats").Distinct()];
        connectors = connectors.Length > 0 ? connectors : ["redis", "nats"];
        string[] queries = list.Where(a => a is "q0" or "q5" or "q7").DefaultIfEmpty("q5").Distinct().ToArray();
        if (list.Any(a => a is not ("redis" or "nats" or "q0" or "q5" or "q7")))
        {
            output.WriteLine("usage: --connector-cpu [--runs N] [--decoder sourcegen|hand] [redis] [nats] [q0] [q5] [q7]");
            return 2;
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"// load average at start: {LoadAverage()}"));
        foreach (var connector in connectors)
        {
            foreach (var query in queries)
            {
                var cases = connector == "redis" ? RedisCases(query, decoder) : NatsCases(query, decoder);
                foreach (var method in (string[])["ReadAndDecodeOnly", "Job"])
                {
                    var cpu = cases.ToDictionary(c => c.Reader, _ => new List<double>());
                    var wall = cases.ToDictionary(c => c.Reader, _ => new List<double>());
                    var server = cases.ToDictionary(c => c.Reader, _ => new List<double>());
                    foreach (var c in cases)
                    {
                        Measure(c, method); // warm-up (JIT, tiering)
                    }

                    for (int run = 0; run < runs; run++)
                    {
                        foreach (var c in cases)
                        {
                            var (cpuPerEvent, wallPerEvent, serverPerEvent) = Measure(c, method);
                            cpu[c.Reader].Add(cpuPerEvent);
                            wall[c.Reader].Add(wallPerEvent);
                            server[c.Reader].Add(serverPerEvent);
                        }
                    }

                    foreach (var c in cases)
                    {
                        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"{connector} {query} {c.Reader,-6} {decoder,-9} {method,-17}: client CPU {Median(cpu[c.Reader]):0.000} µs/event (runs {string.Join(" ", cpu[c.Reader].Select(v => v.ToString("0.000", CultureInfo.InvariantCulture)))}), wall {Median(wall[c.Reader]):0.000} µs/event, server CPU {Median(server[c.Reader]):0.000} µs/event"));
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
            throw new InvalidOperationException($"{c.Reader}: read {events} bids, expected {RedisNexmark.Bids}.");
        }

        double n = RedisNexmark.Bids;
        return (used.TotalMilliseconds * 1000 / n, wall.TotalMilliseconds * 1000 / n, serverUsed.TotalMilliseconds * 1000 / n);
    }

    private static Case[] RedisCases(string query, string decoder)
    {
        return [.. s_readers.Select(reader =>
        {
            var bench = new RedisNexmark { Query = query, Reader = reader, Decoder = decoder };
            bench.Setup();
            return new Case(reader, bench.ReadAndDecodeOnly, bench.FromRedisToRedis, bench.StartCpu, bench.ServerCpuTime, bench.Cleanup);
        })];
    }

    private static Case[] NatsCases(string query, string decoder)
    {
        return [.. s_readers.Select(reader =>
        {
            var bench = new NatsNexmark { Query = query, Reader = reader, Decoder = decoder };
            bench.Setup();
            return new Case(reader, bench.ReadAndDecodeOnly, bench.FromNatsToNats, bench.StartCpu, bench.ServerCpuTime, bench.Cleanup);
        })];
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "unknown";

    private sealed record Case(string Reader, Func<long> Read, Func<long> Job, Action Prepare, Func<TimeSpan> ServerCpu, Action Dispose);
}
