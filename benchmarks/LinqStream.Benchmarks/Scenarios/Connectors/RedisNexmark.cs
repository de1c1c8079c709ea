using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using BenchmarkDotNet.Attributes;
using LinqStream.Benchmarks.Scenarios.Nexmark;
using LinqStream.Testing.Nexmark;
using StackExchange.Redis;

namespace LinqStream.Benchmarks.Scenarios.Connectors;

/// <summary>JSON for the results written back to Redis and NATS.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(HotItem))]
[JsonSerializable(typeof(HighestBid))]
public sealed partial class ResultJsonContext : JsonSerializerContext;

/// <summary>
/// NEXMark q0, q5 and q7 read from a Redis stream of JSON bids and written back to another stream, end to end, next to the same
/// query over the same bids in memory (<see cref="ConnectorNexmark"/>).
/// </summary>
/// <remarks>
/// <para><c>FromRedisToRedis</c> runs a job: <see cref="RedisStreamSource{T}"/> (<c>XREAD COUNT 4096</c>, the bids decoded by
/// <see cref="ConnectorNexmark.Decoder"/>) → the query → <see cref="RedisStreamSink{T}"/> (results as JSON, 1,024 entries per script
/// call, ids <c>0-n</c>). <c>Reader=client</c> reads the raw <c>XREAD</c> reply through StackExchange.Redis (a <c>RedisResult</c> per
/// entry, field and value), as before issue #19 and as TLS configurations still do; <c>own</c> reads it on the source's own
/// connection, straight from the reply's bytes.</para>
/// <para>The server is the one in <c>LINQSTREAM_REDIS</c> (<c>.ci/servers.sh</c>) or a redis-server this process starts.</para>
/// </remarks>
[MemoryDiagnoser]
public class RedisNexmark : ConnectorNexmark
{
    private const string InputStream = "bench:bids";
    private const string OutputStream = "bench:results";

    private string _redis = "";
    private ConnectionMultiplexer? _connection;

    /// <inheritdoc/>
    protected override string ServerName => "redis-server";

    [IterationSetup(Targets = [nameof(FromRedisToRedis), nameof(ReadAndDecodeOnly)])]
    public void StartIteration() => StartCpu();

    [IterationCleanup(Target = nameof(FromRedisToRedis))]
    public void StopCpuOfJob() => StopCpu(nameof(FromRedisToRedis));

    [IterationCleanup(Target = nameof(ReadAndDecodeOnly))]
    public void StopCpuOfRead() => StopCpu(nameof(ReadAndDecodeOnly));

    [Benchmark(Baseline = true, OperationsPerInvoke = Bids)]
    public long InMemory() => RunInMemory();

    [Benchmark(OperationsPerInvoke = Bids)]
    public long FromRedisToRedis() => RunJob();

    /// <summary>The source alone: every bid read and decoded, no query and no sink (the client CPU the query does not add).</summary>
    [Benchmark(OperationsPerInvoke = Bids)]
    public long ReadAndDecodeOnly() => ReadAll();

    /// <inheritdoc/>
    protected override void Connect()
    {
        _redis = Environment.GetEnvironmentVariable("LINQSTREAM_REDIS") is { Length: > 0 } configured
            ? configured
            : $"127.0.0.1:{StartServer("redis-server", "linqstream-bench-redis-", (port, directory) => ["--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", directory, "--save", "", "--appendonly", "no"])}";
        _connection = ConnectionMultiplexer.Connect(_redis + ",allowAdmin=true"); // INFO gives redis-server's pid, for its CPU time
        var info = _connection.GetServer(_connection.GetEndPoints()[0]).Info("server").SelectMany(g => g).First(p => p.Key == "process_id");
        ServerPid = int.Parse(info.Value, CultureInfo.InvariantCulture);
    }

    /// <inheritdoc/>
    protected override void WriteBids()
    {
        var database = _connection!.GetDatabase();
        if (database.StreamLength(InputStream) == Bids)
        {
            return;
        }

        database.KeyDelete(InputStream);
        const string Append = "for i = 1, #ARGV do redis.call('XADD', KEYS[1], '*', 'data', ARGV[i]) end return #ARGV";
        RedisKey[] keys = [InputStream];
        foreach (var chunk in BidArray.Chunk(2000))
        {
            database.ScriptEvaluate(Append, keys, [.. chunk.Select(b => (RedisValue)JsonSerializer.SerializeToUtf8Bytes(b, NexmarkJsonContext.Default.Bid))]);
        }
    }

    /// <inheritdoc/>
    protected override void DeleteOutput() => _connection!.GetDatabase().KeyDelete(OutputStream);

    /// <inheritdoc/>
    protected override EventSource<Bid> Source() =>
        new RedisStreamSource<Bid>(_redis, InputStream, BidDecoder, new RedisStreamSourceOptions { StopAtEnd = true }) { ReadThroughClient = Reader == "client" };

    /// <inheritdoc/>
    protected override EventSink<T> Sink<T>(EventSerializer<T> json) => new RedisStreamSink<T>(_redis, OutputStream, json);

    /// <inheritdoc/>
    protected override string? ReaderStats(EventSource<Bid> source, long events) =>
        source is RedisStreamSource<Bid> { OwnReaderReceives: > 0 and var receives } redis
            ? string.Create(CultureInfo.InvariantCulture, $"{receives:N0} socket receives ({redis.OwnReaderAsynchronousReceives:N0} asynchronous), {(double)events / receives:0.0} events per receive")
            : null;

    /// <inheritdoc/>
    protected override void Disconnect() => _connection?.Dispose();
}
