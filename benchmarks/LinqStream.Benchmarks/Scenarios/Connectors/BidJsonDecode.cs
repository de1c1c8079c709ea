using System.Text.Json;
using BenchmarkDotNet.Attributes;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Benchmarks.Scenarios.Connectors;

/// <summary>
/// What decoding one JSON bid costs, without any transport: the connectors' <see cref="EventSerializer{T}.Json(System.Text.Json.Serialization.Metadata.JsonTypeInfo{T})"/>
/// over the source-generated <see cref="NexmarkJsonContext"/> (what <see cref="RedisNexmark"/> and <see cref="NatsNexmark"/> read
/// with) against a hand-written <see cref="Utf8JsonReader"/> loop that builds the same <see cref="Bid"/>.
/// </summary>
/// <remarks>
/// The bids are the connector benchmarks' (<see cref="RedisNexmark.Bids"/> of them), serialized once into one buffer. Both versions
/// must give the same bids (checked in <c>[GlobalSetup]</c>). The difference is System.Text.Json's share of a connector's client CPU:
/// <see cref="Bid"/>'s properties are <c>init</c>-only, which the source generator sets through its parameterized-constructor path
/// (the values of more than four members boxed into an <c>object[]</c>).
/// </remarks>
[MemoryDiagnoser]
public class BidJsonDecode
{
    private static readonly EventSerializer<Bid> s_json = EventSerializer<Bid>.Json(NexmarkJsonContext.Default.Bid);
    private static readonly EventSerializer<Bid> s_reflectionJson = EventSerializer<Bid>.Json(new JsonSerializerOptions(JsonSerializerDefaults.Web));
    private byte[] _buffer = [];
    private int[] _starts = [];

    [GlobalSetup]
    public void Setup()
    {
        var bids = new NexmarkGenerator(new NexmarkConfig { FirstEventRate = 50_000 * 50 / 46 }).Bids(RedisNexmark.Bids);
        var output = new System.Buffers.ArrayBufferWriter<byte>();
        _starts = new int[bids.Length + 1];
        for (int i = 0; i < bids.Length; i++)
        {
            _starts[i] = output.WrittenCount;
            s_json.Serialize(bids[i], output);
        }

        _starts[^1] = output.WrittenCount;
        _buffer = output.WrittenSpan.ToArray();
        for (int i = 0; i < bids.Length; i++)
        {
            var record = _buffer.AsSpan(_starts[i], _starts[i + 1] - _starts[i]);
            if (s_json.Deserialize(record) != bids[i] || HandWritten(record) != bids[i] || s_reflectionJson.Deserialize(record) != bids[i])
            {
                throw new InvalidOperationException($"Bid {i} does not decode back to itself.");
            }
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = RedisNexmark.Bids)]
    public long HandWrittenReader()
    {
        long sum = 0;
        for (int i = 0; i < RedisNexmark.Bids; i++)
        {
            sum += HandWritten(_buffer.AsSpan(_starts[i], _starts[i + 1] - _starts[i])).Price;
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = RedisNexmark.Bids)]
    public long SourceGeneratedJson()
    {
        long sum = 0;
        for (int i = 0; i < RedisNexmark.Bids; i++)
        {
            sum += s_json.Deserialize(_buffer.AsSpan(_starts[i], _starts[i + 1] - _starts[i])).Price;
        }

        return sum;
    }

    /// <summary>The same serializer over System.Text.Json's reflection metadata (camelCase, as <see cref="JsonSerializerOptions.Web"/>).</summary>
    [Benchmark(OperationsPerInvoke = RedisNexmark.Bids)]
    public long ReflectionJson()
    {
        long sum = 0;
        for (int i = 0; i < RedisNexmark.Bids; i++)
        {
            sum += s_reflectionJson.Deserialize(_buffer.AsSpan(_starts[i], _starts[i + 1] - _starts[i])).Price;
        }

        return sum;
    }

    /// <summary>The bid's camelCase properties in any order, unknown ones skipped (the connectors' JSON; not a general decoder).</summary>
    private static Bid HandWritten(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        reader.Read();
        long auction = 0, bidder = 0, price = 0;
        string channel = "", url = "", extra = "";
        DateTime time = default;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("auction"u8))
            {
                reader.Read();
                auction = reader.GetInt64();
            }
            else if (reader.ValueTextEquals("bidder"u8))
            {
                reader.Read();
                bidder = reader.GetInt64();
            }
            else if (reader.ValueTextEquals("price"u8))
            {
                reader.Read();
                price = reader.GetInt64();
            }
            else if (reader.ValueTextEquals("channel"u8))
            {
                reader.Read();
                channel = reader.GetString()!;
            }
            else if (reader.ValueTextEquals("url"u8))
            {
                reader.Read();
                url = reader.GetString()!;
            }
            else if (reader.ValueTextEquals("dateTime"u8))
            {
                reader.Read();
                time = reader.GetDateTime();
            }
            else if (reader.ValueTextEquals("extra"u8))
            {
                reader.Read();
                extra = reader.GetString()!;
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return new Bid { Auction = auction, Bidder = bidder, Price = price, Channel = channel, Url = url, DateTime = time, Extra = extra };
    }
}
