using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using LinqStream.Cli.Input;
using LinqStream.Testing.Nexmark;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using StackExchange.Redis;
using Format = LinqStream.Cli.Showcase.Format;

namespace LinqStream.Cli.Commands;

/// <summary><c>linqstream produce --target redis://HOST:PORT/STREAM --events 1M</c>: writes a generated NEXMark load into a stream as JSON.</summary>
internal static class ProduceCommand
{
    private const int Chunk = 5_000;

    public static Command Create()
    {
        var target = new Option<string>("--target", "-t") { Description = "Where to write: " + SourceUri.Forms + ".", Required = true };
        target.Validators.Add(result =>
        {
            if (result.Tokens.Count == 1 && !SourceUri.TryParse(result.Tokens[0].Value, out _, out string reason))
            {
                result.AddError($"--target: {reason}.");
            }
        });
        var events = Options.PositiveLong("--events", "-n", "How many records to write, such as 100k or 1M.", 100_000, 1_000_000_000);
        var rate = Options.PositiveLong("--rate", null, "Event-time rate of the generated data, in events per second.", 10_000, 1_000_000_000);
        var kind = new Option<string>("--kind") { Description = "bids (NEXMark bids only, the default) or events (people, auctions and bids, as NexmarkEvent).", DefaultValueFactory = _ => "bids" };
        kind.AcceptOnlyFromAmong("bids", "events");
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No summary line." };
        var partition = new Option<string>("--partition")
        {
            Description = "K/N: write only the records whose number is K modulo N (0 <= K < N), so N produce commands fill N partitions of one input.",
        };
        partition.Validators.Add(result =>
        {
            if (!TryParsePartition(result.GetValueOrDefault<string>(), out _, out _))
            {
                result.AddError("--partition must be K/N with 0 <= K < N, such as 0/4.");
            }
        });

        var command = new Command("produce", "Write a generated NEXMark load into a Redis stream or a NATS JetStream subject, one JSON object per entry or message (camelCase; bids have 'dateTime').")
        {
            target, events, rate, kind, quiet, partition,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            var uri = SourceUri.TryParse(parse.GetValue(target)!, out var parsed, out string reason) ? parsed! : throw new InvalidOperationException(reason);
            _ = TryParsePartition(parse.GetValue(partition), out int k, out int n); // validated above
            return RunAsync(uri, parse.GetValue(events), parse.GetValue(rate), parse.GetValue(kind)!, parse.GetValue(quiet), (k, n), cancellationToken);
        });
        return command;
    }

    private static bool TryParsePartition(string? text, out int k, out int n)
    {
        (k, n) = (0, 1);
        if (text is null)
        {
            return true;
        }

        var parts = text.Split('/');
        return parts.Length == 2
            && int.TryParse(parts[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out k)
            && int.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out n)
            && n >= 1 && k < n;
    }

    private static async Task<int> RunAsync(SourceUri target, long count, long rate, string kind, bool quiet, (int K, int N) partition, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        var generator = new NexmarkGenerator(new NexmarkConfig { FirstEventRate = rate });
        try
        {
            if (target.Scheme == "redis")
            {
                await ProduceToRedisAsync(target, Payloads(generator, kind, count, partition), cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await ProduceToNatsAsync(target, Payloads(generator, kind, count, partition), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is RedisException or NatsException or IOException or TimeoutException)
        {
            Console.Error.WriteLine($"produce: could not write to {target.Text}: {ex.Message}");
            return ExitCodes.Failure;
        }

        if (!quiet)
        {
            long written = (count / partition.N) + (partition.K < count % partition.N ? 1 : 0);
            string of = partition.N == 1 ? "" : $" (partition {partition.K}/{partition.N} of {Format.Count(count)})";
            Console.Out.WriteLine($"produce: {Format.Count(written)} {kind}{of} written to {target.Text} in {Format.Seconds(stopwatch.Elapsed)} ({Format.Rate(written, stopwatch.Elapsed)}/s)");
        }

        return ExitCodes.Ok;
    }

    /// <summary>The records as JSON, generated a chunk at a time.</summary>
    private static IEnumerable<byte[]> Payloads(NexmarkGenerator generator, string kind, long count, (int K, int N) partition)
    {
        long number = 0;
        for (long first = 0; first < count; first += Chunk)
        {
            int n = (int)Math.Min(Chunk, count - first);
            if (kind == "bids")
            {
                foreach (var bid in generator.Bids(n, first))
                {
                    if (number++ % partition.N != partition.K)
                    {
                        continue;
                    }

                    yield return JsonSerializer.SerializeToUtf8Bytes(bid, NexmarkJsonContext.Default.Bid);
                }
            }
            else
            {
                foreach (var e in generator.EventsArray(n, first))
                {
                    if (number++ % partition.N != partition.K)
                    {
                        continue;
                    }

                    yield return JsonSerializer.SerializeToUtf8Bytes(e, NexmarkJsonContext.Default.NexmarkEvent);
                }
            }
        }
    }

    private static async Task ProduceToRedisAsync(SourceUri target, IEnumerable<byte[]> payloads, CancellationToken cancellationToken)
    {
        // One script call appends a thousand entries (server-chosen ids); a few calls are in flight at once.
        const string Append = "for i = 1, #ARGV do redis.call('XADD', KEYS[1], '*', 'data', ARGV[i]) end return #ARGV";
        await using var connection = await ConnectionMultiplexer.ConnectAsync(target.Address).ConfigureAwait(false);
        var database = connection.GetDatabase();
        RedisKey[] keys = [target.Name];
        var pending = new List<Task>();
        foreach (var chunk in payloads.Chunk(1000))
        {
            cancellationToken.ThrowIfCancellationRequested();
            pending.Add(database.ScriptEvaluateAsync(Append, keys, [.. chunk.Select(p => (RedisValue)p)]));
            if (pending.Count == 4)
            {
                await Task.WhenAll(pending).ConfigureAwait(false);
                pending.Clear();
            }
        }

        await Task.WhenAll(pending).ConfigureAwait(false);
    }

    private static async Task ProduceToNatsAsync(SourceUri target, IEnumerable<byte[]> payloads, CancellationToken cancellationToken)
    {
        await using var connection = new NatsConnection(NatsOpts.Default with { Url = target.Address });
        var js = new NatsJSContext(connection);
        string stream = target.Name.Replace('.', '_').Replace('*', '_').Replace('>', '_');
        try
        {
            await js.GetStreamAsync(stream, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (NatsJSApiException ex) when (ex.Error.Code == 404)
        {
            await js.CreateStreamAsync(new StreamConfig(stream, [target.Name]) { Storage = StreamConfigStorage.File }, cancellationToken).ConfigureAwait(false);
        }

        var pending = new List<Task<PubAckResponse>>(Chunk);
        foreach (var payload in payloads)
        {
            pending.Add(js.PublishAsync(target.Name, payload, cancellationToken: cancellationToken).AsTask());
            if (pending.Count == Chunk)
            {
                await AcknowledgedAsync(pending).ConfigureAwait(false);
            }
        }

        await AcknowledgedAsync(pending).ConfigureAwait(false);
    }

    private static async Task AcknowledgedAsync(List<Task<PubAckResponse>> pending)
    {
        foreach (var ack in await Task.WhenAll(pending).ConfigureAwait(false))
        {
            ack.EnsureSuccess();
        }

        pending.Clear();
    }
}
