using System.Globalization;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using LinqStream.Connectors.Nats;
using LinqStream.Testing.Nexmark;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace LinqStream.Benchmarks.Scenarios.Connectors;

/// <summary>
/// NEXMark q0, q5 and q7 read from a NATS JetStream subject of JSON bids and published back to another subject, end to end, next
/// to the same query over the same bids in memory: <see cref="RedisNexmark"/>'s measurement (<see cref="ConnectorNexmark"/>), for the
/// NATS connectors.
/// </summary>
/// <remarks>
/// <para><c>FromNatsToNats</c> runs a job: <see cref="NatsJetStreamSource{T}"/> (fetches of 4,096, the bids decoded by
/// <see cref="ConnectorNexmark.Decoder"/>) → the query → <see cref="NatsJetStreamSink{T}"/> (results as JSON, message ids, 1,024
/// publishes in flight). <c>Reader=client</c> fetches through NATS.Net (a message object, subject string and channel hand-off per
/// message; the sequences read from the reply subject without allocating), as before the seventh session of issue #19; <c>own</c>
/// through the source's own connection (<c>NatsPullReader</c>: the pull request written by hand, the <c>MSG</c> frames parsed and
/// each payload decoded where it lies in the receive buffer).</para>
/// <para>The server is the one in <c>LINQSTREAM_NATS</c> (<c>.ci/servers.sh</c>, whose <c>LINQSTREAM_NATS_PID</c> gives its CPU time)
/// or a nats-server this process starts.</para>
/// </remarks>
[MemoryDiagnoser]
public class NatsNexmark : ConnectorNexmark
{
    private const string InputSubject = "bench.bids";
    private const string OutputSubject = "bench.results";

    private static readonly int s_batchSize = int.TryParse(Environment.GetEnvironmentVariable("LINQSTREAM_NATS_BATCH"), NumberStyles.None, CultureInfo.InvariantCulture, out int size) && size > 0
        ? size
        : NatsJetStreamSourceOptions.Default.BatchSize;

    private string _nats = "";

    /// <inheritdoc/>
    protected override string ServerName => "nats-server";

    [IterationSetup(Targets = [nameof(FromNatsToNats), nameof(ReadAndDecodeOnly)])]
    public void StartIteration() => StartCpu();

    [IterationCleanup(Target = nameof(FromNatsToNats))]
    public void StopCpuOfJob() => StopCpu(nameof(FromNatsToNats));

    [IterationCleanup(Target = nameof(ReadAndDecodeOnly))]
    public void StopCpuOfRead() => StopCpu(nameof(ReadAndDecodeOnly));

    [Benchmark(Baseline = true, OperationsPerInvoke = Bids)]
    public long InMemory() => RunInMemory();

    [Benchmark(OperationsPerInvoke = Bids)]
    public long FromNatsToNats() => RunJob();

    /// <summary>The source alone: every bid read and decoded, no query and no sink.</summary>
    [Benchmark(OperationsPerInvoke = Bids)]
    public long ReadAndDecodeOnly() => ReadAll();

    /// <inheritdoc/>
    protected override void Connect()
    {
        if (Environment.GetEnvironmentVariable("LINQSTREAM_NATS") is { Length: > 0 } configured
            && int.TryParse(Environment.GetEnvironmentVariable("LINQSTREAM_NATS_PID"), out int pid))
        {
            (_nats, ServerPid) = (configured, pid);
            return;
        }

        string file = File.Exists("/usr/sbin/nats-server") ? "/usr/sbin/nats-server" : "nats-server";
        int port = StartServer(file, "linqstream-bench-nats-", (port, directory) => ["-a", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), "-js", "-sd", directory]);
        _nats = $"nats://127.0.0.1:{port}";
    }

    /// <inheritdoc/>
    protected override void WriteBids() => WriteBidsAsync().GetAwaiter().GetResult();

    /// <inheritdoc/>
    protected override void DeleteOutput() => DeleteOutputAsync().GetAwaiter().GetResult();

    /// <inheritdoc/>
    /// <remarks>
    /// <c>LINQSTREAM_NATS_BATCH</c> sets the source's <see cref="NatsJetStreamSourceOptions.BatchSize"/> (messages per pull request;
    /// default 4,096), to compare pull sizes in one sitting.
    /// </remarks>
    protected override EventSource<Bid> Source() =>
        new NatsJetStreamSource<Bid>(_nats, InputSubject, BidDecoder, new NatsJetStreamSourceOptions { StopAtEnd = true, BatchSize = s_batchSize })
        {
            ReadThroughClient = Reader == "client",
            WorkItems = new NatsWorkItemTally(),
        };

    /// <inheritdoc/>
    protected override EventSink<T> Sink<T>(EventSerializer<T> json) => new NatsJetStreamSink<T>(_nats, OutputSubject, json);

    /// <inheritdoc/>
    /// <remarks>
    /// The own reader's receives (how many waited beyond the first 2 ms in the kernel, and its timer waits: a pool work item each),
    /// and the source's <see cref="NatsWorkItemTally"/>: the pool's work items while it was managing (NATS.Net), connecting its own
    /// reader, fetching and waiting, and whether the runtime's socket engine watched the own reader's socket (session 16). The rest
    /// of a run's work items are outside the source's calls: the benchmark's deletion of the output before the run, a job's query
    /// and sink.
    /// </remarks>
    protected override string? ReaderStats(EventSource<Bid> source, long events) =>
        source is NatsJetStreamSource<Bid> { OwnReaderReceives: > 0 and var receives } nats
            ? string.Create(CultureInfo.InvariantCulture, $"{receives:N0} socket receives ({nats.OwnReaderSlowReceives:N0} waited over 2 ms, {nats.OwnReaderTimedWaits:N0} timer waits), {(double)events / receives:0.0} events per receive; {nats.WorkItems}")
            : null;

    /// <summary>Publishes the bids once (a stream that already holds exactly them is kept).</summary>
    private async Task WriteBidsAsync()
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
        foreach (var chunk in BidArray.Chunk(1000))
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
}
