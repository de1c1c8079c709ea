using System.Text.Json;
using BenchmarkDotNet.Attributes;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Benchmarks.Scenarios.Connectors;

/// <summary>
/// What decoding one JSON bid costs, without any transport: the connectors' <see cref="EventSerializer{T}.Json(System.Text.Json.Serialization.Metadata.JsonTypeInfo{T})"/>
/// (LinqStream's record decoder since issue #19; what <see cref="RedisNexmark"/> and <see cref="NatsNexmark"/> read with) against a
/// hand-written <see cref="Utf8JsonReader"/> loop that builds the same <see cref="Bid"/>, and System.Text.Json itself over the
/// source-generated <see cref="NexmarkJsonContext"/> and over reflection metadata (what the serializer did before).
/// </summary>
/// <remarks>
/// The bids are the connector benchmarks' (<see cref="ConnectorNexmark.Bids"/> of them), serialized once into one buffer. Every version
/// must give the same bids (checked in <c>[GlobalSetup]</c>). Measured in a console probe (2026-12-04): the source-generated metadata
/// allocates 399 B per bid, the reflection metadata and the hand-written loop 247 B (the bid and its strings): <see cref="Bid"/>'s
/// <c>init</c>-only properties make the source-generated path build objects beyond the bid.
/// </remarks>
[MemoryDiagnoser]
public class BidJsonDecode
{
    private static readonly EventSerializer<Bid> s_json = EventSerializer<Bid>.Json(NexmarkJsonContext.Default.Bid);
    private static readonly System.Text.Json.Serialization.Metadata.JsonTypeInfo<Bid> s_reflection =
        (System.Text.Json.Serialization.Metadata.JsonTypeInfo<Bid>)new JsonSerializerOptions(JsonSerializerDefaults.Web) { TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver() }.GetTypeInfo(typeof(Bid));
    private byte[] _buffer = [];
    private int[] _starts = [];

    [GlobalSetup]
    public void Setup()
    {
        var bids = new NexmarkGenerator(new NexmarkConfig { FirstEventRate = 50_000 * 50 / 46 }).Bids(ConnectorNexmark.Bids);
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
            if (s_json.Deserialize(record) != bids[i] || HandWrittenBidJson.Instance.Deserialize(record) != bids[i]
                || SystemTextJsonBid.Instance.Deserialize(record) != bids[i] || JsonSerializer.Deserialize(record, s_reflection) != bids[i])
            {
                throw new InvalidOperationException($"Bid {i} does not decode back to itself.");
            }
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = ConnectorNexmark.Bids)]
    public long HandWrittenReader()
    {
        long sum = 0;
        for (int i = 0; i < ConnectorNexmark.Bids; i++)
        {
            sum += HandWrittenBidJson.Instance.Deserialize(_buffer.AsSpan(_starts[i], _starts[i + 1] - _starts[i])).Price;
        }

        return sum;
    }

    /// <summary><see cref="EventSerializer{T}.Json(System.Text.Json.Serialization.Metadata.JsonTypeInfo{T})"/>: the record decoder.</summary>
    [Benchmark(OperationsPerInvoke = ConnectorNexmark.Bids)]
    public long RecordDecoder()
    {
        long sum = 0;
        for (int i = 0; i < ConnectorNexmark.Bids; i++)
        {
            sum += s_json.Deserialize(_buffer.AsSpan(_starts[i], _starts[i + 1] - _starts[i])).Price;
        }

        return sum;
    }

    /// <summary>System.Text.Json over the source-generated metadata (what the serializer did before the record decoder).</summary>
    [Benchmark(OperationsPerInvoke = ConnectorNexmark.Bids)]
    public long SourceGeneratedJson()
    {
        long sum = 0;
        for (int i = 0; i < ConnectorNexmark.Bids; i++)
        {
            sum += SystemTextJsonBid.Instance.Deserialize(_buffer.AsSpan(_starts[i], _starts[i + 1] - _starts[i])).Price;
        }

        return sum;
    }

    /// <summary>System.Text.Json over reflection metadata (camelCase, as <see cref="JsonSerializerOptions.Web"/>).</summary>
    [Benchmark(OperationsPerInvoke = ConnectorNexmark.Bids)]
    public long ReflectionJson()
    {
        long sum = 0;
        for (int i = 0; i < ConnectorNexmark.Bids; i++)
        {
            sum += JsonSerializer.Deserialize(_buffer.AsSpan(_starts[i], _starts[i + 1] - _starts[i]), s_reflection)!.Price;
        }

        return sum;
    }
}

/// <summary>
/// LinqStream's record decoder reading every member of a bid, also in a job whose query reads fewer: a serializer the engine does not
/// own, so <see cref="EventSerializer{T}.ForQuery"/> gives it back unchanged (<c>--decoder full</c>: the derivation of the members
/// read off, what <c>record</c> measured before session 12).
/// </summary>
public sealed class FullRecordJson : EventSerializer<Bid>
{
    private static readonly EventSerializer<Bid> s_record = EventSerializer<Bid>.Json(NexmarkJsonContext.Default.Bid);

    /// <summary>Gets the instance (the record decoder it wraps is shared per type).</summary>
    public static FullRecordJson Instance { get; } = new();

    /// <inheritdoc/>
    public override Bid Deserialize(ReadOnlySpan<byte> data) => s_record.Deserialize(data);

    /// <inheritdoc/>
    public override void Serialize(Bid value, System.Buffers.IBufferWriter<byte> output) => s_record.Serialize(value, output);
}

/// <summary>
/// A bid decoder that calls System.Text.Json over the source-generated <see cref="NexmarkJsonContext"/> directly: what
/// <see cref="EventSerializer{T}.Json(System.Text.Json.Serialization.Metadata.JsonTypeInfo{T})"/> did before the record decoder
/// (issue #19), kept so the connector benchmarks measure before and after in one run (<c>--decoder stj</c>).
/// </summary>
public sealed class SystemTextJsonBid : EventSerializer<Bid>
{
    /// <summary>Gets the instance (it keeps no state).</summary>
    public static SystemTextJsonBid Instance { get; } = new();

    private static readonly EventSerializer<Bid> s_writer = EventSerializer<Bid>.Json(NexmarkJsonContext.Default.Bid);

    /// <inheritdoc/>
    public override Bid Deserialize(ReadOnlySpan<byte> data) =>
        JsonSerializer.Deserialize(data, NexmarkJsonContext.Default.Bid) ?? throw new JsonException("The record is JSON 'null', not a Bid.");

    /// <inheritdoc/>
    public override void Serialize(Bid value, System.Buffers.IBufferWriter<byte> output) => s_writer.Serialize(value, output);
}

/// <summary>
/// A bid decoder written by hand with <see cref="Utf8JsonReader"/> (the connector benchmarks' floor for JSON decoding: no object beyond the
/// bid and its strings); it writes with the source-generated metadata.
/// </summary>
public sealed class HandWrittenBidJson : EventSerializer<Bid>
{
    /// <summary>Gets the instance (it keeps no state).</summary>
    public static HandWrittenBidJson Instance { get; } = new();

    private static readonly EventSerializer<Bid> s_writer = EventSerializer<Bid>.Json(NexmarkJsonContext.Default.Bid);

    /// <summary>Reads the bid's camelCase properties in any order, unknown ones skipped (the connectors' JSON; not a general decoder).</summary>
    /// <param name="data">One bid as JSON.</param>
    /// <returns>The bid.</returns>
    public override Bid Deserialize(ReadOnlySpan<byte> data)
    {
        var reader = new Utf8JsonReader(data);
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

    /// <inheritdoc/>
    public override void Serialize(Bid value, System.Buffers.IBufferWriter<byte> output) => s_writer.Serialize(value, output);
}
