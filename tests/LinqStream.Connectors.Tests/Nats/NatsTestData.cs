using System.Text;
using System.Text.Json;
using LinqStream.Testing.Nexmark;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace LinqStream.Connectors.Tests.Nats;

internal static class NatsTestData
{
    public static NatsConnection Connect(string url) => new(NatsOpts.Default with { Url = url });

    /// <summary>Creates the stream <paramref name="subject"/> (dots → underscores) and publishes raw payloads to it.</summary>
    public static async Task<List<ulong>> PublishAsync(string url, string subject, IEnumerable<byte[]> payloads)
    {
        await using var connection = Connect(url);
        var js = new NatsJSContext(connection);
        await js.CreateOrUpdateStreamAsync(new StreamConfig(subject.Replace('.', '_'), [subject]));
        var sequences = new List<ulong>();
        foreach (var chunk in payloads.Chunk(500))
        {
            // In flight together, acknowledged in order.
            var acks = chunk.Select(payload => js.PublishAsync(subject, payload).AsTask()).ToList();
            foreach (var ack in acks)
            {
                var response = await ack;
                response.EnsureSuccess();
                sequences.Add(response.Seq);
            }
        }

        return sequences;
    }

    public static Task<List<ulong>> PublishAsync(string url, string subject, IEnumerable<Bid> bids) =>
        PublishAsync(url, subject, bids.Select(b => JsonSerializer.SerializeToUtf8Bytes(b, NexmarkJsonContext.Default.Bid)));

    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>Reads every message on the subject with its headers.</summary>
    public static async Task<List<(string? Id, Bid Bid)>> ReadAllAsync(string url, string subject)
    {
        await using var connection = Connect(url);
        var js = new NatsJSContext(connection);
        var consumer = await js.CreateOrderedConsumerAsync(subject.Replace('.', '_'));
        var result = new List<(string?, Bid)>();
        await foreach (var message in consumer.FetchNoWaitAsync<byte[]>(new NatsJSFetchOpts { MaxMsgs = 100_000 }))
        {
            string? id = message.Headers is { } headers && headers.TryGetValue("Nats-Msg-Id", out var value) ? value.ToString() : null;
            result.Add((id, JsonSerializer.Deserialize(message.Data, NexmarkJsonContext.Default.Bid)!));
        }

        return result;
    }
}
