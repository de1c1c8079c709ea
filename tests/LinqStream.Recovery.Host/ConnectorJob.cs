using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Recovery.Host;

/// <summary>One window result of the soak's query: bids per auction per 100 ms window, with the highest price.</summary>
public sealed record WindowCount(DateTimeOffset End, long Auction, int Bids, long MaxPrice);

/// <summary>
/// The modes the soak script (scripts/soak.sh) drives against real servers:
/// <c>produce</c> writes generated bids into a Redis stream or NATS subject; <c>connector</c> runs the checkpointed window job from
/// that input to an output stream (prints like <c>job</c>); <c>dump</c> writes an output stream as JSON lines, for comparison.
/// </summary>
internal static class ConnectorJob
{
    private static readonly ReconnectPolicy s_reconnect = new() { InitialDelay = TimeSpan.FromMilliseconds(50), MaxDelay = TimeSpan.FromSeconds(1) };

    [SuppressMessage("Trimming", "IL2026", Justification = "The host runs untrimmed.")]
    [SuppressMessage("AOT", "IL3050", Justification = "The host runs with the JIT.")]
    private static EventSerializer<WindowCount> ResultJson { get; } = EventSerializer<WindowCount>.Json();

    private static EventSerializer<Bid> BidJson { get; } = EventSerializer<Bid>.Json(NexmarkJsonContext.Default.Bid);

    public static async Task<int> ProduceAsync(HostArguments args)
    {
        var bids = new NexmarkGenerator(new NexmarkConfig()).Bids(checked((int)args.Number("events")), 0);
        await using var sink = Sink(args, args.Text("stream"), BidJson);
        await sink.OpenAsync(null, CancellationToken.None).ConfigureAwait(false);
        for (int i = 0; i < bids.Length; i += 10_000)
        {
            await sink.WriteAsync(bids.AsMemory(i, Math.Min(10_000, bids.Length - i)), CancellationToken.None).ConfigureAwait(false);
        }

        await sink.CompleteAsync(CancellationToken.None).ConfigureAwait(false);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"produced {bids.Length}"));
        return 0;
    }

    public static async Task<int> RunAsync(HostArguments args)
    {
        var source = Source(args, args.Text("input"), BidJson);
        var sink = Sink(args, args.Text("output"), ResultJson);
        var options = new JobOptions { Checkpoints = new DirectoryCheckpointStore(args.Text("checkpoints")), CheckpointEveryEvents = args.Number("every", 5_000) };
        var query =
            from b in QStream.From(source, b => b.DateTime, IngressPolicy.Throw, "bids").TumblingWindow(TimeSpan.FromMilliseconds(100))
            group b by b.Auction into g
            select new WindowCount(g.Window.End, g.Key, g.Count(), g.Max(b => b.Price));
        await using var job = query.WithOptions(new QueryOptions { Strict = true }).ToJob(sink, options);
        var result = await job.RunAsync().ConfigureAwait(false);
        foreach (var warning in result.Warnings)
        {
            Console.WriteLine("warning " + warning);
        }

        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"done results={result.Results} checkpoints={result.Checkpoints} restored={result.RestoredFrom?.ToString(CultureInfo.InvariantCulture) ?? "none"}"));
        return 0;
    }

    public static async Task<int> DumpAsync(HostArguments args)
    {
        await using var source = Source(args, args.Text("stream"), ResultJson);
        await source.OpenAsync(new SourceContext(new ThrowingDeadLetters(), TimeProvider.System), null, CancellationToken.None).ConfigureAwait(false);
        var buffer = new WindowCount[4096];
        long count = 0;
        await using (var output = new StreamWriter(args.Text("file")))
        {
            while (true)
            {
                var read = await source.ReadAsync(buffer, CancellationToken.None).ConfigureAwait(false);
                for (int i = 0; i < read.Count; i++)
                {
                    await output.WriteLineAsync(buffer[i].ToString()).ConfigureAwait(false);
                }

                count += read.Count;
                if (read.IsCompleted)
                {
                    break;
                }
            }
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"dumped {count}"));
        return 0;
    }

    private static EventSource<T> Source<T>(HostArguments args, string stream, EventSerializer<T> serializer) => args.Text("kind") switch
    {
        "redis" => new RedisStreamSource<T>(args.Text("server"), stream, serializer, new() { StopAtEnd = true, Reconnect = s_reconnect }),
        "nats" => new NatsJetStreamSource<T>(args.Text("server"), stream, serializer, new() { StopAtEnd = true, Reconnect = s_reconnect }),
        var other => throw new ArgumentException($"--kind is redis or nats, not '{other}'."),
    };

    private static EventSink<T> Sink<T>(HostArguments args, string stream, EventSerializer<T> serializer) => args.Text("kind") switch
    {
        "redis" => new RedisStreamSink<T>(args.Text("server"), stream, serializer, new() { Reconnect = s_reconnect }),
        "nats" => new NatsJetStreamSink<T>(args.Text("server"), stream, serializer, new() { Reconnect = s_reconnect }),
        var other => throw new ArgumentException($"--kind is redis or nats, not '{other}'."),
    };

    private sealed class ThrowingDeadLetters : IDeadLetterSink
    {
        public void Write(DeadLetter letter) => throw new InvalidDataException("An output entry could not be read back: " + letter);
    }
}
