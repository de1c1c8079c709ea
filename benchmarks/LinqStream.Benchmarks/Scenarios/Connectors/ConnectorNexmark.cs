using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Attributes;
using LinqStream.Benchmarks.Scenarios.Nexmark;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Benchmarks.Scenarios.Connectors;

/// <summary>
/// NEXMark q0, q5 and q7 read from a server's stream of JSON bids and written back to another stream, end to end, next to the same
/// query over the same bids in memory: what <see cref="RedisNexmark"/> and <see cref="NatsNexmark"/> share (the bids, the answer check,
/// the jobs, the CPU accounting of this process and of the server).
/// </summary>
/// <remarks>
/// <para>A subclass names the server and its streams: it connects (or starts a server of its own), writes the bids once, makes the
/// source and the sink, and deletes the output before each operation. <c>[GlobalSetup]</c> checks the answer first: the job writes as
/// many results as the in-memory query gives, and the source alone reads every bid.</para>
/// <para>After the run, the CPU time of this process and of the server over the measured operations is printed (<c>// CPU:</c>
/// lines of the log), which gives events per second per core.</para>
/// </remarks>
public abstract class ConnectorNexmark
{
    /// <summary>Bids per operation: 20 s of event time at 50,000 bids/s (two 10 s windows for q7, ten 2 s hops for q5).</summary>
    public const int Bids = 1_000_000;

    private static readonly EventSerializer<Bid> s_bidJson = EventSerializer<Bid>.Json(NexmarkJsonContext.Default.Bid);

    /// <summary>The members of a bid each query reads (q0 writes the whole bid back, so it reads every member).</summary>
    private static readonly Dictionary<string, string[]> s_queryMembers = new()
    {
        ["q0"] = [nameof(Bid.Auction), nameof(Bid.Bidder), nameof(Bid.Price), nameof(Bid.Channel), nameof(Bid.Url), nameof(Bid.DateTime), nameof(Bid.Extra)],
        ["q5"] = [nameof(Bid.Auction), nameof(Bid.DateTime)],
        ["q7"] = [nameof(Bid.Auction), nameof(Bid.Bidder), nameof(Bid.Price), nameof(Bid.DateTime)],
    };
    private readonly Dictionary<string, (TimeSpan Client, TimeSpan Server, long Events)> _cpu = [];
    private Process? _server;
    private EventSerializer<Bid>? _queryJson; // one per benchmark: a new one per job would build and compile its decoder each run
    private TimeSpan _cpuAtStart;
    private TimeSpan _serverCpuAtStart;

    /// <summary>Gets or sets the query: <c>q0</c>, <c>q5</c> or <c>q7</c> (BenchmarkDotNet runs each of <see cref="Queries"/>).</summary>
    [ParamsSource(nameof(Queries))]
    public string Query { get; set; } = "q0";

    /// <summary>
    /// Gets or sets how the source reads: <c>own</c> is the source's own reading (the default); <c>client</c> the reading before
    /// issue #19, through the server's client library (see the subclass).
    /// </summary>
    [ParamsSource(nameof(Readers))]
    public string Reader { get; set; } = "own";

    /// <summary>
    /// Gets the queries BenchmarkDotNet runs: q0, q5 and q7, or the comma-separated list in <c>LINQSTREAM_CONNECTOR_QUERIES</c>
    /// (a run of q5 alone takes a third of the time on a shared machine).
    /// </summary>
    public static IEnumerable<string> Queries => FromEnvironment("LINQSTREAM_CONNECTOR_QUERIES", ["q0", "q5", "q7"]);

    /// <summary>Gets the readers BenchmarkDotNet runs: own and client, or the comma-separated list in <c>LINQSTREAM_CONNECTOR_READERS</c>.</summary>
    public static IEnumerable<string> Readers => FromEnvironment("LINQSTREAM_CONNECTOR_READERS", ["own", "client"]);

    /// <summary>
    /// Gets or sets how the source decodes a bid: <c>record</c> (the default: <see cref="EventSerializer{T}.Json(System.Text.Json.Serialization.Metadata.JsonTypeInfo{T})"/>,
    /// LinqStream's record decoder), <c>stj</c> (<see cref="SystemTextJsonBid"/>: System.Text.Json over the source-generated metadata, the
    /// serializer before issue #19) or <c>hand</c> (<see cref="HandWrittenBidJson"/>); set by <c>--connector-cpu --decoder</c>, not a
    /// BenchmarkDotNet parameter. <c>query</c> is the record decoder reading only the members the query reads
    /// (<see cref="EventSerializer{T}.JsonReading(System.Text.Json.Serialization.Metadata.JsonTypeInfo{T}, IEnumerable{string})"/>: q5 the
    /// auction and the time; q0 every member). Since session 12 a job with <c>record</c> reads only what the query reads by itself
    /// (<see cref="EventSerializer{T}.ForQuery"/>); <c>full</c> is the record decoder reading every member in a job too (what <c>record</c>
    /// was before: the engine's derivation off).
    /// </summary>
    public string Decoder { get; set; } = "record";

    /// <summary>
    /// Gets or sets after how many events of a run the steady-state CPU reading starts (<see cref="CpuMarkingSource{T}"/>); the
    /// default is 300,000 of the 1,000,000 bids, past the per-job start-up.
    /// </summary>
    public long SteadyFrom { get; set; } = 300_000;

    /// <summary>Gets the process CPU per event between <see cref="SteadyFrom"/> and the source's end in the last <see cref="RunJob"/> or <see cref="ReadAll"/>, in microseconds.</summary>
    public double LastSteadyMicrosecondsPerEvent { get; private set; } = double.NaN;

    /// <summary>Gets <see cref="LastSteadyMicrosecondsPerEvent"/> without the runtime's tier-up thread (<see cref="CpuMarkingSource{T}.SteadyWithoutTieringMicrosecondsPerEvent"/>).</summary>
    public double LastSteadyWithoutTieringMicrosecondsPerEvent { get; private set; } = double.NaN;

    /// <summary>Gets what the subclass says about the last run's reading (<see cref="ReaderStats"/>), or <see langword="null"/>.</summary>
    public string? LastReaderStats { get; private set; }

    /// <summary>Gets the bids, as written to the server.</summary>
    protected Bid[] BidArray { get; private set; } = [];

    /// <summary>Gets the server's name in the <c>// CPU:</c> lines (<c>redis-server</c>, <c>nats-server</c>).</summary>
    protected abstract string ServerName { get; }

    /// <summary>Gets or sets the server's process id, for its CPU time.</summary>
    protected int ServerPid { get; set; }

    /// <summary>Gets the decoder <see cref="Decoder"/> names.</summary>
    protected EventSerializer<Bid> BidDecoder => Decoder switch
    {
        "hand" => HandWrittenBidJson.Instance,
        "stj" => SystemTextJsonBid.Instance,
        "full" => FullRecordJson.Instance,
        "query" => _queryJson ??= EventSerializer<Bid>.JsonReading(NexmarkJsonContext.Default.Bid, s_queryMembers[Query]),
        _ => s_bidJson,
    };

    [GlobalSetup]
    public void Setup()
    {
        Connect();
        BidArray = new NexmarkGenerator(new NexmarkConfig { FirstEventRate = 50_000 * 50 / 46 }).Bids(Bids);
        WriteBids();

        // The answer first: the job's output must be the in-memory query's.
        long expected = RunInMemory();
        long written = RunJob();
        if (written != expected || written == 0)
        {
            throw new InvalidOperationException($"{Query}: the {ServerName} job wrote {written} results, the in-memory query gives {expected}.");
        }

        if (ReadAll() is var read && read != Bids)
        {
            throw new InvalidOperationException($"The source read {read} bids, the stream holds {Bids}.");
        }
    }

    /// <summary>Deletes the output and notes the CPU times at the start of an operation.</summary>
    public void StartCpu()
    {
        DeleteOutput();
        _cpuAtStart = Process.GetCurrentProcess().TotalProcessorTime;
        _serverCpuAtStart = ServerCpu();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var (method, (client, server, events)) in _cpu)
        {
            double cpu = (client + server).TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"// CPU: {Query} {Reader} {Decoder} {method}: {events:N0} events, client {client.TotalSeconds:0.00} s ({client.TotalMilliseconds * 1000 / events:0.00} µs/event) + {ServerName} {server.TotalSeconds:0.00} s ({server.TotalMilliseconds * 1000 / events:0.00} µs/event) CPU = {events / cpu:N0} events per CPU-second (per core)"));
        }

        Disconnect();
        if (_server is not null)
        {
            _server.Kill();
            _server.WaitForExit();
            _server.Dispose();
        }
    }

    /// <summary>Gets the server's user + system CPU time so far (for <see cref="ConnectorCpuRun"/>).</summary>
    /// <returns>The server's CPU time.</returns>
    public TimeSpan ServerCpuTime() => ServerCpu();

    /// <summary>Runs the job (source → query → sink) once; the number of results written.</summary>
    /// <returns>The results.</returns>
    public long RunJob()
    {
        var source = new CpuMarkingSource<Bid>(Source(), SteadyFrom);
        var bids = QStream.From(source, b => b.DateTime);
        long results = Query switch
        {
            "q0" => Job(bids.Select(b => b), s_bidJson),
            "q5" => Job(Q5HotItems.Query(bids), EventSerializer<HotItem>.Json(ResultJsonContext.Default.HotItem)),
            _ => Job(Q7HighestBid.Query(bids), EventSerializer<HighestBid>.Json(ResultJsonContext.Default.HighestBid)),
        };
        LastSteadyMicrosecondsPerEvent = source.SteadyMicrosecondsPerEvent;
        LastSteadyWithoutTieringMicrosecondsPerEvent = source.SteadyWithoutTieringMicrosecondsPerEvent;
        LastReaderStats = ReaderStats(source.Inner, Bids);
        return results;
    }

    /// <summary>Reads every bid with the source alone (no query, no sink).</summary>
    /// <returns>The bids read.</returns>
    public long ReadAll()
    {
        var source = new CpuMarkingSource<Bid>(Source(), SteadyFrom);
        long count = 0;
        try
        {
            source.OpenAsync(new SourceContext(new CountingDeadLetters(), TimeProvider.System), null, CancellationToken.None).AsTask().GetAwaiter().GetResult();
            var buffer = new Bid[4096];
            while (true)
            {
                var read = source.ReadAsync(buffer, CancellationToken.None).AsTask().GetAwaiter().GetResult();
                count += read.Count;
                if (read.IsCompleted)
                {
                    LastSteadyMicrosecondsPerEvent = source.SteadyMicrosecondsPerEvent;
                    LastSteadyWithoutTieringMicrosecondsPerEvent = source.SteadyWithoutTieringMicrosecondsPerEvent;
                    return count;
                }
            }
        }
        finally
        {
            source.DisposeAsync().AsTask().GetAwaiter().GetResult();
            LastReaderStats = ReaderStats(source.Inner, count); // after the source closed, as a job's (its closing is part of the run)
        }
    }

    /// <summary>Runs the query over the bids in memory; the number of results.</summary>
    /// <returns>The results.</returns>
    public long RunInMemory() => Query switch
    {
        "q0" => Count(QStream.From(BidArray, b => b.DateTime).Select(b => b)),
        "q5" => Count(Q5HotItems.Query(QStream.From(BidArray, b => b.DateTime))),
        _ => Count(Q7HighestBid.Query(QStream.From(BidArray, b => b.DateTime))),
    };

    /// <summary>Adds the CPU used since <see cref="StartCpu"/> to <paramref name="method"/>'s total.</summary>
    protected void StopCpu(string method)
    {
        var (client, server, events) = _cpu.GetValueOrDefault(method);
        _cpu[method] = (client + Process.GetCurrentProcess().TotalProcessorTime - _cpuAtStart, server + ServerCpu() - _serverCpuAtStart, events + Bids);
    }

    /// <summary>Connects to the configured server, or starts one (<see cref="StartServer"/>).</summary>
    protected abstract void Connect();

    /// <summary>Writes <see cref="BidArray"/> to the input stream (a stream that already holds exactly them may be kept).</summary>
    protected abstract void WriteBids();

    /// <summary>Deletes the output stream.</summary>
    protected abstract void DeleteOutput();

    /// <summary>Makes a source over the input stream that stops at its end, reading as <see cref="Reader"/> and decoding with <see cref="BidDecoder"/>.</summary>
    protected abstract EventSource<Bid> Source();

    /// <summary>Makes a sink writing results as JSON to the output stream.</summary>
    protected abstract EventSink<T> Sink<T>(EventSerializer<T> json);

    /// <summary>What a run's source says about its reading (for example socket receives per event), or <see langword="null"/>.</summary>
    protected virtual string? ReaderStats(EventSource<Bid> source, long events) => null;

    /// <summary>Closes what <see cref="Connect"/> opened.</summary>
    protected virtual void Disconnect()
    {
    }

    /// <summary>Starts a server of this process's own on a random port; its pid becomes <see cref="ServerPid"/>.</summary>
    /// <returns>The port.</returns>
    protected int StartServer(string file, string prefix, Func<int, string, string[]> arguments)
    {
        var directory = Directory.CreateTempSubdirectory(prefix).FullName;
        int port = 20000 + Random.Shared.Next(20000);
        var start = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments(port, directory))
        {
            start.ArgumentList.Add(argument);
        }

        _server = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {file}.");
        _server.OutputDataReceived += (_, _) => { };
        _server.ErrorDataReceived += (_, _) => { };
        _server.BeginOutputReadLine();
        _server.BeginErrorReadLine();
        ServerPid = _server.Id;
        Thread.Sleep(500);
        return port;
    }

    private long Job<T>(IQStream<T> query, EventSerializer<T> json)
    {
        DeleteOutput();
        var job = query.WithOptions(new QueryOptions { Strict = true }).ToJob(Sink(json));
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

    private static string[] FromEnvironment(string variable, string[] all) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } list
            ? [.. list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(all.Contains)]
            : all;

    /// <summary>The server's user + system CPU time, from /proc (Linux).</summary>
    private TimeSpan ServerCpu()
    {
        var fields = File.ReadAllText($"/proc/{ServerPid}/stat").Split(')')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        long ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / 100.0); // USER_HZ is 100 on Linux
    }

    /// <summary>Counts dead letters (there are none in this input; a decoding fault would show as a wrong count in the setup's check).</summary>
    private sealed class CountingDeadLetters : IDeadLetterSink
    {
        public long Count { get; private set; }

        public void Write(DeadLetter letter) => Count++;
    }
}
