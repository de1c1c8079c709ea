using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using LinqStream.Orleans;
using LinqStream.Orleans.Channels;
using LinqStream.Testing.Io;
using LinqStream.Testing.Nexmark;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.TestingHost;
using StackExchange.Redis;

namespace LinqStream.Benchmarks.Scenarios.Cluster;

/// <summary>
/// <c>--cluster-q5</c> (issue #17): q5 (bids per auction in a 10 s window every 2 s, as <c>scripts/q5.csx</c>) over the same NEXMark
/// bids in 4 in-memory partitions, submitted to one 3-silo Orleans cluster three times per round, in turn: as one job in one grain
/// (the whole job on one silo: one process's work) at parallelism 1, the same at in-process parallelism P (the engine's
/// <c>KeyedParallelRun</c>: as many threads as the spread job, in-process channels), and spread over the silos (<c>Parallelism</c> =
/// P: 4 source tasks, P keyed tasks as grains, the coordinator in the job's grain). Same input, same fenced Redis sink, same checkpoints (to Redis, every
/// 100,000 events), same run: only where the work runs differs. The rate is the steady state: the bids the sources hand out
/// (counted by the source itself, the same class in both) between 10 % and 90 % of the input, so starting the job (placement,
/// building the tasks' queries) and its end are not in it; CPU per event is the process's (all three silos, Orleans, Redis client)
/// over the same span, also less the process's idle CPU (measured for 2 s before each job: the three silos' own timers and threads).
/// The outputs are compared entry for entry.
/// </summary>
/// <remarks>
/// The three silos run in this process (Orleans' <c>TestCluster</c>), talking over loopback TCP as three processes on one machine
/// would; they share the machine's cores. Redis: <c>LINQSTREAM_REDIS</c> or a redis-server this run starts on a free port.
/// </remarks>
internal static class ClusterQ5Run
{
    private const string Definition = "bench-q5";
    private static long s_read;

    /// <summary>Gets the partitions every silo's sources read (the silos run in this process).</summary>
    internal static Bid[][] Partitions { get; private set; } = [];

    [SuppressMessage("Trimming", "IL2026", Justification = "The benchmarks run untrimmed.")]
    [SuppressMessage("AOT", "IL3050", Justification = "The benchmarks run with the JIT.")]
    internal static EventSerializer<ClusterHotItem> Json { get; } = EventSerializer<ClusterHotItem>.Json();

    public static int Run(string[] args, TextWriter output)
    {
        int events = Option(args, "--events", 1_000_000);
        int runs = Option(args, "--runs", 2);
        int parallelism = Option(args, "--parallelism", 6);
        // --modes one,local,spread (the default: all three): one grain at P = 1, one grain at in-process P, spread over the silos.
        int at = Array.IndexOf(args, "--modes");
        var modes = at >= 0 && at + 1 < args.Length ? args[at + 1].Split(',') : ["one", "local", "spread"];
        // --lingers 0,20: the spread job once per frame linger in milliseconds (JobSubmission.FrameLinger; 0 sends every piece of a
        // batch and every watermark as a frame of its own, as before the frames were coalesced); the default: the submission's default.
        int lingerAt = Array.IndexOf(args, "--lingers");
        var lingers = lingerAt >= 0 && lingerAt + 1 < args.Length
            ? args[lingerAt + 1].Split(',').Select(v => (TimeSpan?)TimeSpan.FromMilliseconds(double.Parse(v, CultureInfo.InvariantCulture))).ToArray()
            : [null];
        // --projection on,off: the spread job once with the projection below the exchange (each bid carries only its auction, the
        // member q5's keyed aggregate reads) and once with whole bids (JobSubmission.ProjectExchange); the default: on.
        int projectionAt = Array.IndexOf(args, "--projection");
        var projections = projectionAt >= 0 && projectionAt + 1 < args.Length ? args[projectionAt + 1].Split(',').Select(v => v == "on").ToArray() : [true];
        const int PartitionCount = 4;
        // Bids at about 50,000 per second of event time, as ConnectorNexmark writes them: the reorder buffer (1 s) and so each
        // checkpoint hold about 50,000 bids, not the whole input (the generator's default, 1,000,000 events per second, puts a million bids in about a second).
        var bids = new NexmarkGenerator(new NexmarkConfig { FirstEventRate = 50_000 * 50 / 46 }).Bids(events);
        Partitions = [.. Enumerable.Range(0, PartitionCount).Select(k => bids.Where((_, i) => i % PartitionCount == k).ToArray())];

        Process? server = null;
        string redis = Environment.GetEnvironmentVariable("LINQSTREAM_REDIS") is { Length: > 0 } configured ? configured : StartRedis(out server);
        var builder = new TestClusterBuilder(3);
        builder.Properties["LinqStreamRedis"] = redis;
        builder.Properties["LinqStreamPrefix"] = $"lsq-bench-q5-{Environment.ProcessId}";
        builder.AddSiloBuilderConfigurator<Q5Silo>();
        var cluster = builder.Build();
        try
        {
            cluster.Deploy();
            using var connection = ConnectionMultiplexer.Connect(redis);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"// q5 over {events:N0} bids in {PartitionCount} in-memory partitions, 3 silos in one process, {runs} rounds; load average {LoadAverage()}"));
            var rows = new List<(string Mode, double Rate, double Cpu, double Start, double Wall, long Results, double Busy)>();
            List<string>? reference = null; // the first run's output: every other run (of any mode, any round) must equal it
            for (int round = 1; round <= runs; round++)
            {
                var all = new[] { ("one", "one grain, P = 1", (int?)null, 1, (TimeSpan?)null, true), ("local", $"one grain, in-process P = {parallelism}", null, parallelism, null, true) }
                    .Concat(lingers.SelectMany(l => projections.Select(p => ("spread", $"spread over 3 silos, P = {parallelism}{(l is { } linger ? string.Create(CultureInfo.InvariantCulture, $", frame linger {linger.TotalMilliseconds} ms") : "")}{(p ? ", projected (auction only)" : ", whole bids")}", (int?)parallelism, 1, l, p))));
                foreach (var (_, mode, spread, local, linger, project) in all.Where(m => modes.Contains(m.Item1)))
                {
                    string job = $"q5-{round}-{(spread is null ? $"one{local}" : $"spread{linger?.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)}{(project ? "p" : "w")}")}-{Environment.ProcessId}";
                    double idle = IdleCpu();
                    var (inputBefore, outputBefore) = (ExchangeStats.SourceToKeyed.Read(), ExchangeStats.KeyedToMerge.Read());
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"// submitting {mode}, round {round}")); // a marker for a profiler started from outside
                    output.Flush();
                    var row = RunOnce(cluster, job, spread, local, linger, project, events, idle, out var results);
                    var written = ReadStream(connection.GetDatabase(), job);
                    if (written.Count != results)
                    {
                        throw new InvalidOperationException($"{mode}: the job reports {results} results, its stream holds {written.Count}.");
                    }

                    if (reference is null)
                    {
                        reference = written;
                    }
                    else if (!reference.SequenceEqual(written))
                    {
                        throw new InvalidOperationException($"{mode}: its output differs from the first run's ({written.Count} against {reference.Count} results).");
                    }

                    connection.GetDatabase().KeyDelete(job);
                    rows.Add((mode, row.Rate, row.Cpu, row.Start, row.Wall, results, row.Busy));
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"round {round}, {mode}: steady {row.Rate:N0} events/s, CPU {row.Cpu:N0} ns/event (whole process; {row.Busy:N0} above its idle {idle:F2} cores), first event {row.Start:F1} s after submit, {row.Wall:F1} s submit to completed, {results:N0} results (identical), load average {LoadAverage()}"));
                    if (spread is not null)
                    {
                        output.WriteLine($"//   {ExchangeStats.SourceToKeyed.Describe(inputBefore, events)}");
                        output.WriteLine($"//   {ExchangeStats.KeyedToMerge.Describe(outputBefore, events)}");
                    }
                }
            }

            foreach (var mode in rows.Select(r => r.Mode).Distinct())
            {
                var of = rows.Where(r => r.Mode == mode).ToArray();
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"// {mode}: median steady {Median(of.Select(r => r.Rate)):N0} events/s, CPU {Median(of.Select(r => r.Cpu)):N0} ns/event ({Median(of.Select(r => r.Busy)):N0} above idle), first event after {Median(of.Select(r => r.Start)):F1} s, wall {Median(of.Select(r => r.Wall)):F1} s over {of.Length} runs"));
            }

            return 0;
        }
        finally
        {
            cluster.StopAllSilos();
            cluster.Dispose();
            if (server is not null)
            {
                server.Kill();
                server.WaitForExit();
                server.Dispose();
            }
        }
    }

    /// <summary>Submits the job, samples the bids read every 50 ms until it completes; the steady rate and CPU between 10 % and 90 % of the input.</summary>
    private static (double Rate, double Cpu, double Start, double Wall, double Busy) RunOnce(TestCluster cluster, string job, int? parallelism, int local, TimeSpan? linger, bool project, int events, double idle, out long results)
    {
        Interlocked.Exchange(ref s_read, 0);
        var samples = new List<(double Seconds, long Read, TimeSpan Cpu)>();
        var clock = Stopwatch.StartNew();
        using var done = new CancellationTokenSource();
        var sampler = new Thread(() =>
        {
            while (!done.IsCancellationRequested)
            {
                var sample = (clock.Elapsed.TotalSeconds, Volatile.Read(ref s_read), Process.GetCurrentProcess().TotalProcessorTime);
                lock (samples)
                {
                    samples.Add(sample);
                }

                Thread.Sleep(50);
            }
        }) { IsBackground = true, Name = "cluster-q5 sampler" };
        sampler.Start();
        var submission = new JobSubmission
        {
            Definition = Definition,
            Parameters = new() { ["output"] = job, ["local"] = local.ToString(CultureInfo.InvariantCulture) },
            CheckpointEveryEvents = 100_000,
            Parallelism = parallelism,
            ProjectExchange = project,
        };
        var handle = cluster.Client.SubmitAsync(job, linger is { } l ? submission with { FrameLinger = l } : submission).GetAwaiter().GetResult();
        var status = handle.WaitAsync(TimeSpan.FromMilliseconds(100), s => s.IsFinished).GetAwaiter().GetResult();
        double wall = clock.Elapsed.TotalSeconds;
        done.Cancel();
        sampler.Join();
        if (status.State != JobState.Completed || status.Epoch != 1)
        {
            throw new InvalidOperationException($"Job {job} ended {status.State} in epoch {status.Epoch}: {status.Error}");
        }

        results = status.Results;
        var first = samples.First(s => s.Read > 0);
        var from = samples.First(s => s.Read >= events / 10);
        var to = samples.First(s => s.Read >= events * 9L / 10);
        double seconds = to.Seconds - from.Seconds;
        double cpu = (to.Cpu - from.Cpu).TotalNanoseconds;
        return ((to.Read - from.Read) / seconds, cpu / (to.Read - from.Read), first.Seconds, wall, Math.Max(0, cpu - (idle * seconds * 1e9)) / (to.Read - from.Read));
    }

    /// <summary>The process's CPU over 2 s with no job running, in cores.</summary>
    private static double IdleCpu()
    {
        Thread.Sleep(500);
        var before = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        Thread.Sleep(2_000);
        return (Process.GetCurrentProcess().TotalProcessorTime - before).TotalSeconds / clock.Elapsed.TotalSeconds;
    }

    private static List<string> ReadStream(IDatabase database, string stream)
    {
        var values = new List<string>();
        RedisValue after = "-";
        while (true)
        {
            var entries = database.StreamRange(stream, after, "+", 10_000);
            foreach (var entry in entries)
            {
                if (entry.Id != after)
                {
                    values.Add($"{entry.Id} {string.Join(",", entry.Values.Select(v => $"{v.Name}={v.Value}"))}");
                }
            }

            if (entries.Length < 10_000)
            {
                return values;
            }

            after = entries[^1].Id;
        }
    }

    /// <summary>The job every silo registers: q5's counts over the partitions (each with its reorder ingress, as a Redis partition would have) into a fenced Redis stream.</summary>
    private static ClusterJobRun Create(ClusterJobContext context)
    {
        // Each partition's bids as a replayable source that adds what it hands out to the run's count (once per read, not per event).
        var sources = Partitions.Select((p, k) => (EventSource<Bid>)new ArrayEventSource<Bid>(p, $"memory://bench-bids-{k}") { AfterRead = static n => Interlocked.Add(ref s_read, n) }).ToArray();
        var bids = QStream.From(sources, b => b.DateTime, IngressPolicy.Reorder(TimeSpan.FromSeconds(1)));
        var counts =
            from b in bids.HoppingWindow(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(2))
            group b by b.Auction into g
            select new ClusterHotItem(g.Key, g.Count(), g.Window.StartTicks, g.Window.EndTicks);
        int local = int.Parse(context.Parameter("local"), CultureInfo.InvariantCulture);
        if (local > 1)
        {
            counts = counts.WithOptions(new QueryOptions { Parallelism = local }); // the engine's own parallel run, in this grain
        }

        return context.Run(counts, new RedisStreamSink<ClusterHotItem>(context.Redis, context.Parameter("output"), Json, new RedisStreamSinkOptions { Fence = context.Fence }));
    }

    private static string StartRedis(out Process? server)
    {
        var directory = Directory.CreateTempSubdirectory("linqstream-bench-cluster-redis-").FullName;
        int port = 20000 + Random.Shared.Next(20000);
        var start = new ProcessStartInfo("redis-server") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", directory, "--save", "", "--appendonly", "no" })
        {
            start.ArgumentList.Add(argument);
        }

        server = Process.Start(start) ?? throw new InvalidOperationException("Could not start redis-server.");
        server.OutputDataReceived += (_, _) => { };
        server.ErrorDataReceived += (_, _) => { };
        server.BeginOutputReadLine();
        server.BeginErrorReadLine();
        Thread.Sleep(500);
        return $"127.0.0.1:{port}";
    }

    private static int Option(string[] args, string name, int value)
    {
        int at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], NumberStyles.AllowThousands, CultureInfo.InvariantCulture) : value;
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    /// <summary>A q5 count (an unmanaged record: it crosses silos as one memory copy per column).</summary>
    internal readonly record struct ClusterHotItem(long Auction, int Bids, long WindowStart, long WindowEnd);

    /// <summary>The silos: Redis for the job registry, fences and checkpoints, and the q5 job.</summary>
    internal sealed class Q5Silo : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            siloBuilder.Services.TryAddSingleton(TimeProvider.System);
            siloBuilder.AddLinqStream(options =>
            {
                options.Redis = siloBuilder.Configuration["LinqStreamRedis"]!;
                options.KeyPrefix = siloBuilder.Configuration["LinqStreamPrefix"]!;
                options.AddJob(Definition, Create);
            });
        }
    }
}
