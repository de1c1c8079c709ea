using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using BenchmarkDotNet.Attributes;
using LinqStream.Benchmarks.Scenarios.Nexmark;
using LinqStream.Testing.Nexmark;
using StackExchange.Redis;

namespace LinqStream.Benchmarks.Scenarios.Connectors;

/// <summary>JSON for the results written back to Redis.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(HotItem))]
[JsonSerializable(typeof(HighestBid))]
public sealed partial class ResultJsonContext : JsonSerializerContext;

/// <summary>
/// NEXMark q0, q5 and q7 read from a Redis stream of JSON bids and written back to another stream, end to end, next to the same
/// query over the same bids in memory.
/// </summary>
/// <remarks>
/// <para><c>FromRedisToRedis</c> runs a job: <see cref="RedisStreamSource{T}"/> (<c>XREAD COUNT 4096</c>, System.Text.Json with a
/// source-generated context) → the query → <see cref="RedisStreamSink{T}"/> (results as JSON, 1,024 entries per script call, ids
/// <c>0-n</c>). The output stream is deleted before each operation, so every operation writes all its results. <c>InMemory</c>
/// runs the same query over the same bids as an array (the engine alone, no decoding).</para>
/// <para>The server is the one in <c>LINQSTREAM_REDIS</c> (<c>.ci/servers.sh</c>) or a redis-server this process starts. After the
/// run, the CPU time of this process and of redis-server over the measured operations is printed (<c>// CPU:</c> lines of the log),
/// which gives events per second per core.</para>
/// </remarks>
[MemoryDiagnoser]
public class RedisNexmark
{
    /// <summary>Bids per operation: 20 s of event time at 50,000 bids/s (two 10 s windows for q7, ten 2 s hops for q5).</summary>
    public const int Bids = 1_000_000;

    private const string InputStream = "bench:bids";
    private const string OutputStream = "bench:results";
    private static readonly EventSerializer<Bid> s_bidJson = EventSerializer<Bid>.Json(NexmarkJsonContext.Default.Bid);

    private Process? _server;
    private string _redis = "";
    private ConnectionMultiplexer? _connection;
    private Bid[] _bids = [];
    private int _redisPid;
    private readonly Dictionary<string, (TimeSpan Client, TimeSpan Server, long Events)> _cpu = [];
    private TimeSpan _cpuAtStart;
    private TimeSpan _serverCpuAtStart;

    [Params("q0", "q5", "q7")]
    public string Query { get; set; } = "q0";

    /// <summary>
    /// Gets or sets how the source reads: <c>own</c> is its own connection, decoding straight from the reply's bytes (the
    /// default); <c>client</c> reads the raw <c>XREAD</c> reply through StackExchange.Redis (a <c>RedisResult</c> per entry, field
    /// and value), as before issue #19 and as TLS configurations still do.
    /// </summary>
    [Params("own", "client")]
    public string Reader { get; set; } = "own";

    /// <summary>
    /// Gets or sets how the source decodes a bid: <c>sourcegen</c> (the default, <see cref="EventSerializer{T}.Json(System.Text.Json.Serialization.Metadata.JsonTypeInfo{T})"/>
    /// over <see cref="NexmarkJsonContext"/>) or <c>hand</c> (<see cref="HandWrittenBidJson"/>); set by <c>--connector-cpu --decoder</c>, not a
    /// BenchmarkDotNet parameter.
    /// </summary>
    public string Decoder { get; set; } = "sourcegen";

    [GlobalSetup]
    public void Setup()
    {
        _redis = Environment.GetEnvironmentVariable("LINQSTREAM_REDIS") is { Length: > 0 } configured ? configured : StartServer();
        _connection = ConnectionMultiplexer.Connect(_redis + ",allowAdmin=true"); // INFO gives redis-server's pid, for its CPU time
        var database = _connection.GetDatabase();
        var info = _connection.GetServer(_connection.GetEndPoints()[0]).Info("server").SelectMany(g => g).First(p => p.Key == "process_id");
        _redisPid = int.Parse(info.Value, CultureInfo.InvariantCulture);
        _bids = new NexmarkGenerator(new NexmarkConfig { FirstEventRate = 50_000 * 50 / 46 }).Bids(Bids);
        if (database.StreamLength(InputStream) != Bids)
        {
            database.KeyDelete(InputStream);
            Fill(database);
        }

        // The answer first: the job's output must be the in-memory query's.
        long expected = RunInMemory();
        long written = RunFromRedis();
        if (written != expected || written == 0)
        {
            throw new InvalidOperationException($"{Query}: the Redis job wrote {written} results, the in-memory query gives {expected}.");
        }

        if (ReadAll() != Bids)
        {
            throw new InvalidOperationException($"The source read {ReadAll()} bids, the stream holds {Bids}.");
        }
    }

    [IterationSetup(Targets = [nameof(FromRedisToRedis), nameof(ReadAndDecodeOnly)])]
    public void StartCpu()
    {
        _connection!.GetDatabase().KeyDelete(OutputStream);
        _cpuAtStart = Process.GetCurrentProcess().TotalProcessorTime;
        _serverCpuAtStart = ServerCpu();
    }

    [IterationCleanup(Target = nameof(FromRedisToRedis))]
    public void StopCpuOfJob() => StopCpu(nameof(FromRedisToRedis));

    [IterationCleanup(Target = nameof(ReadAndDecodeOnly))]
    public void StopCpuOfRead() => StopCpu(nameof(ReadAndDecodeOnly));

    private void StopCpu(string method)
    {
        var (client, server, events) = _cpu.GetValueOrDefault(method);
        _cpu[method] = (client + Process.GetCurrentProcess().TotalProcessorTime - _cpuAtStart, server + ServerCpu() - _serverCpuAtStart, events + Bids);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Bids)]
    public long InMemory() => RunInMemory();

    [Benchmark(OperationsPerInvoke = Bids)]
    public long FromRedisToRedis() => RunFromRedis();

    /// <summary>The source alone: every bid read and decoded, no query and no sink (the client CPU the query does not add).</summary>
    [Benchmark(OperationsPerInvoke = Bids)]
    public long ReadAndDecodeOnly() => ReadAll();

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var (method, (client, server, events)) in _cpu)
        {
            double cpu = (client + server).TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"// CPU: {Query} {Reader} {method}: {events:N0} events, client {client.TotalSeconds:0.00} s ({client.TotalMilliseconds * 1000 / events:0.00} µs/event) + redis-server {server.TotalSeconds:0.00} s ({server.TotalMilliseconds * 1000 / events:0.00} µs/event) CPU = {events / cpu:N0} events per CPU-second (per core)"));
        }

        _connection?.Dispose();
        if (_server is not null)
        {
            _server.Kill();
            _server.WaitForExit();
            _server.Dispose();
        }
    }

    private long RunInMemory() => Query switch
    {
        "q0" => Count(QStream.From(_bids, b => b.DateTime).Select(b => b)),
        "q5" => Count(Q5HotItems.Query(QStream.From(_bids, b => b.DateTime))),
        _ => Count(Q7HighestBid.Query(QStream.From(_bids, b => b.DateTime))),
    };

    private RedisStreamSource<Bid> Source() =>
        new(_redis, InputStream, Decoder == "hand" ? HandWrittenBidJson.Instance : s_bidJson, new RedisStreamSourceOptions { StopAtEnd = true }) { ReadThroughClient = Reader == "client" };

    private long ReadAll()
    {
        var source = Source();
        try
        {
            source.OpenAsync(new SourceContext(new CountingDeadLetters(), TimeProvider.System), null, CancellationToken.None).AsTask().GetAwaiter().GetResult();
            var buffer = new Bid[4096];
            long count = 0;
            while (true)
            {
                var read = source.ReadAsync(buffer, CancellationToken.None).AsTask().GetAwaiter().GetResult();
                count += read.Count;
                if (read.IsCompleted)
                {
                    return count;
                }
            }
        }
        finally
        {
            source.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    private long RunFromRedis()
    {
        var source = Source();
        var bids = QStream.From(source, b => b.DateTime);
        return Query switch
        {
            "q0" => Job(bids.Select(b => b), s_bidJson),
            "q5" => Job(Q5HotItems.Query(bids), EventSerializer<HotItem>.Json(ResultJsonContext.Default.HotItem)),
            _ => Job(Q7HighestBid.Query(bids), EventSerializer<HighestBid>.Json(ResultJsonContext.Default.HighestBid)),
        };
    }

    private long Job<T>(IQStream<T> query, EventSerializer<T> json)
    {
        _connection!.GetDatabase().KeyDelete(OutputStream);
        var job = query.WithOptions(new QueryOptions { Strict = true }).ToJob(new RedisStreamSink<T>(_redis, OutputStream, json));
        try
        {
            return job.RunAsync().GetAwaiter().GetResult().Results;
        }
        finally
        {
            job.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    private static long Count<T>(IQStream<T> query)
    {
        long n = 0;
        query.WithOptions(new QueryOptions { Strict = true }).Subscribe(_ => n++).Dispose();
        return n;
    }

    private void Fill(IDatabase database)
    {
        const string Append = "for i = 1, #ARGV do redis.call('XADD', KEYS[1], '*', 'data', ARGV[i]) end return #ARGV";
        RedisKey[] keys = [InputStream];
        foreach (var chunk in _bids.Chunk(2000))
        {
            database.ScriptEvaluate(Append, keys, [.. chunk.Select(b => (RedisValue)JsonSerializer.SerializeToUtf8Bytes(b, NexmarkJsonContext.Default.Bid))]);
        }
    }

    /// <summary>Counts dead letters (there are none in this input; a decoding fault would show as a wrong count in the setup's check).</summary>
    private sealed class CountingDeadLetters : IDeadLetterSink
    {
        public long Count { get; private set; }

        public void Write(DeadLetter letter) => Count++;
    }

    /// <summary>Gets redis-server's user + system CPU time so far (for <see cref="ConnectorCpuRun"/>).</summary>
    /// <returns>The server's CPU time.</returns>
    public TimeSpan ServerCpuTime() => ServerCpu();

    /// <summary>redis-server's user + system CPU time, from /proc (Linux).</summary>
    private TimeSpan ServerCpu()
    {
        var fields = File.ReadAllText($"/proc/{_redisPid}/stat").Split(')')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        long ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / 100.0); // USER_HZ is 100 on Linux
    }

    private string StartServer()
    {
        var directory = Directory.CreateTempSubdirectory("linqstream-bench-redis-").FullName;
        int port = 20000 + Random.Shared.Next(20000);
        var start = new ProcessStartInfo("redis-server") { UseShellExecute = false, RedirectStandardOutput = true };
        foreach (var argument in new[] { "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", directory, "--save", "", "--appendonly", "no" })
        {
            start.ArgumentList.Add(argument);
        }

        _server = Process.Start(start) ?? throw new InvalidOperationException("Could not start redis-server (apt-get install redis-server, or set LINQSTREAM_REDIS).");
        _server.OutputDataReceived += (_, _) => { };
        _server.BeginOutputReadLine();
        Thread.Sleep(300);
        return $"127.0.0.1:{port}";
    }
}
