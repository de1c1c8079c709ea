using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using LinqStream.Benchmarks.Scenarios.Nexmark;
using LinqStream.Testing.Nexmark;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace LinqStream.Benchmarks.Scenarios.Connectors;

/// <summary>
/// NEXMark q0, q5 and q7 read from a NATS JetStream subject of JSON bids and published back to another subject, end to end, next
/// to the same query over the same bids in memory: <see cref="RedisNexmark"/>'s measurement, for the NATS connectors.
/// </summary>
/// <remarks>
/// <para><c>FromNatsToNats</c> runs a job: <see cref="NatsJetStreamSource{T}"/> (fetches of 4,096, System.Text.Json with a
/// source-generated context) → the query → <see cref="NatsJetStreamSink{T}"/> (results as JSON, message ids, 1,024 publishes in
/// flight). The output stream is deleted before each operation. <c>ReadAndDecodeOnly</c> is the source alone.</para>
/// <para>The server is the one in <c>LINQSTREAM_NATS</c> (<c>.ci/servers.sh</c>, whose <c>LINQSTREAM_NATS_PID</c> gives its CPU time)
/// or a nats-server this process starts. The CPU time of this process and of nats-server over the measured operations is printed
/// as <c>// CPU:</c> lines.</para>
/// </remarks>
[MemoryDiagnoser]
public class NatsNexmark
{
    /// <summary>Bids per operation, as <see cref="RedisNexmark.Bids"/>.</summary>
    public const int Bids = RedisNexmark.Bids;

    private const string InputSubject = "bench.bids";
    private const string OutputSubject = "bench.results";
    private static readonly EventSerializer<Bid> s_bidJson = EventSerializer<Bid>.Json(NexmarkJsonContext.Default.Bid);

    private Process? _server;
    private string _nats = "";
    private int _serverPid;
    private Bid[] _bids = [];
    private readonly Dictionary<string, (TimeSpan Client, TimeSpan Server, long Events)> _cpu = [];
    private TimeSpan _cpuAtStart;
    private TimeSpan _serverCpuAtStart;

    [Params("q0", "q5", "q7")]
    public string Query { get; set; } = "q0";

    /// <summary>
    /// Gets or sets how the source reads each message's sequences: <c>own</c> from the reply subject's bytes without allocating (the
    /// default), <c>client</c> through NATS.Net's <c>NatsJSMsg.Metadata</c> (a string per token of the subject), as before issue #19.
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
        if (Environment.GetEnvironmentVariable("LINQSTREAM_NATS") is { Length: > 0 } configured
            && int.TryParse(Environment.GetEnvironmentVariable("LINQSTREAM_NATS_PID"), out int pid))
        {
            (_nats, _serverPid) = (configured, pid);
        }
        else
        {
            _nats = StartServer();
        }

        _bids = new NexmarkGenerator(new NexmarkConfig { FirstEventRate = 50_000 * 50 / 46 }).Bids(Bids);
        FillAsync().GetAwaiter().GetResult();

        // The answer first: the job's output must be the in-memory query's.
        long expected = RunInMemory();
        long written = RunFromNats();
        if (written != expected || written == 0)
        {
            throw new InvalidOperationException($"{Query}: the NATS job wrote {written} results, the in-memory query gives {expected}.");
        }

        if (ReadAll() != Bids)
        {
            throw new InvalidOperationException($"The source read {ReadAll()} bids, the stream holds {Bids}.");
        }
    }

    [IterationSetup(Targets = [nameof(FromNatsToNats), nameof(ReadAndDecodeOnly)])]
    public void StartCpu()
    {
        DeleteOutputAsync().GetAwaiter().GetResult();
        _cpuAtStart = Process.GetCurrentProcess().TotalProcessorTime;
        _serverCpuAtStart = ServerCpu();
    }

    [IterationCleanup(Target = nameof(FromNatsToNats))]
    public void StopCpuOfJob() => StopCpu(nameof(FromNatsToNats));

    [IterationCleanup(Target = nameof(ReadAndDecodeOnly))]
    public void StopCpuOfRead() => StopCpu(nameof(ReadAndDecodeOnly));

    [Benchmark(Baseline = true, OperationsPerInvoke = Bids)]
    public long InMemory() => RunInMemory();

    [Benchmark(OperationsPerInvoke = Bids)]
    public long FromNatsToNats() => RunFromNats();

    /// <summary>The source alone: every bid read and decoded, no query and no sink.</summary>
    [Benchmark(OperationsPerInvoke = Bids)]
    public long ReadAndDecodeOnly() => ReadAll();

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var (method, (client, server, events)) in _cpu)
        {
            double cpu = (client + server).TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"// CPU: {Query} nats {Reader} {method}: {events:N0} events, client {client.TotalSeconds:0.00} s ({client.TotalMilliseconds * 1000 / events:0.00} µs/event) + nats-server {server.TotalSeconds:0.00} s ({server.TotalMilliseconds * 1000 / events:0.00} µs/event) CPU = {events / cpu:N0} events per CPU-second (per core)"));
        }

        if (_server is not null)
        {
            _server.Kill();
            _server.WaitForExit();
            _server.Dispose();
        }
    }

    private void StopCpu(string method)
    {
        var (client, server, events) = _cpu.GetValueOrDefault(method);
        _cpu[method] = (client + Process.GetCurrentProcess().TotalProcessorTime - _cpuAtStart, server + ServerCpu() - _serverCpuAtStart, events + Bids);
    }

    private long RunInMemory() => Query switch
    {
        "q0" => Count(QStream.From(_bids, b => b.DateTime).Select(b => b)),
        "q5" => Count(Q5HotItems.Query(QStream.From(_bids, b => b.DateTime))),
        _ => Count(Q7HighestBid.Query(QStream.From(_bids, b => b.DateTime))),
    };

    private NatsJetStreamSource<Bid> Source() =>
        new(_nats, InputSubject, Decoder == "hand" ? HandWrittenBidJson.Instance : s_bidJson, new NatsJetStreamSourceOptions { StopAtEnd = true }) { MetadataThroughClient = Reader == "client" };

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

    private long RunFromNats()
    {
        var bids = QStream.From(Source(), b => b.DateTime);
        return Query switch
        {
            "q0" => Job(bids.Select(b => b), s_bidJson),
            "q5" => Job(Q5HotItems.Query(bids), EventSerializer<HotItem>.Json(ResultJsonContext.Default.HotItem)),
            _ => Job(Q7HighestBid.Query(bids), EventSerializer<HighestBid>.Json(ResultJsonContext.Default.HighestBid)),
        };
    }

    private long Job<T>(IQStream<T> query, EventSerializer<T> json)
    {
        DeleteOutputAsync().GetAwaiter().GetResult();
        var job = query.WithOptions(new QueryOptions { Strict = true }).ToJob(new NatsJetStreamSink<T>(_nats, OutputSubject, json));
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

    /// <summary>Publishes the bids once (a stream that already holds exactly them is kept).</summary>
    private async Task FillAsync()
    {
        await using var connection = new NatsConnection(NatsOpts.Default with { Url = _nats });
        var js = new NatsJSContext(connection);
        string stream = InputSubject.Replace('.', '_');
        try
        {
            var existing = await js.GetStreamAsync(stream);
            if (existing.Info.State.Messages == Bids)
            {
                return;
            }

            await js.DeleteStreamAsync(stream);
        }
        catch (NatsJSApiException ex) when (ex.Error.Code == 404)
        {
            // Not there yet.
        }

        await js.CreateStreamAsync(new StreamConfig(stream, [InputSubject]) { Storage = StreamConfigStorage.File });
        foreach (var chunk in _bids.Chunk(1000))
        {
            var acks = new List<Task<PubAckResponse>>(chunk.Length);
            foreach (var bid in chunk)
            {
                acks.Add(js.PublishAsync(InputSubject, JsonSerializer.SerializeToUtf8Bytes(bid, NexmarkJsonContext.Default.Bid)).AsTask());
            }

            foreach (var ack in acks)
            {
                (await ack).EnsureSuccess();
            }
        }
    }

    private async Task DeleteOutputAsync()
    {
        await using var connection = new NatsConnection(NatsOpts.Default with { Url = _nats });
        var js = new NatsJSContext(connection);
        try
        {
            await js.DeleteStreamAsync(OutputSubject.Replace('.', '_'));
        }
        catch (NatsJSApiException ex) when (ex.Error.Code == 404)
        {
            // Nothing written yet.
        }
    }

    /// <summary>Counts dead letters (there are none in this input; a decoding fault would show as a wrong count in the setup's check).</summary>
    private sealed class CountingDeadLetters : IDeadLetterSink
    {
        public long Count { get; private set; }

        public void Write(DeadLetter letter) => Count++;
    }

    /// <summary>Gets nats-server's user + system CPU time so far (for <see cref="ConnectorCpuRun"/>).</summary>
    /// <returns>The server's CPU time.</returns>
    public TimeSpan ServerCpuTime() => ServerCpu();

    /// <summary>nats-server's user + system CPU time, from /proc (Linux).</summary>
    private TimeSpan ServerCpu()
    {
        var fields = File.ReadAllText($"/proc/{_serverPid}/stat").Split(')')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        long ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / 100.0); // USER_HZ is 100 on Linux
    }

    private string StartServer()
    {
        var directory = Directory.CreateTempSubdirectory("linqstream-bench-nats-").FullName;
        int port = 20000 + Random.Shared.Next(20000);
        var start = new ProcessStartInfo(File.Exists("/usr/sbin/nats-server") ? "/usr/sbin/nats-server" : "nats-server") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "-a", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), "-js", "-sd", directory })
        {
            start.ArgumentList.Add(argument);
        }

        _server = Process.Start(start) ?? throw new InvalidOperationException("Could not start nats-server (apt-get install nats-server, or set LINQSTREAM_NATS and LINQSTREAM_NATS_PID).");
        _server.OutputDataReceived += (_, _) => { };
        _server.ErrorDataReceived += (_, _) => { };
        _server.BeginOutputReadLine();
        _server.BeginErrorReadLine();
        _serverPid = _server.Id;
        Thread.Sleep(500);
        return $"nats://127.0.0.1:{port}";
    }
}
