using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Tests.Io.Json;

/// <summary>
/// <see cref="EventSerializer{T}.JsonReading(JsonTypeInfo{T}, IEnumerable{string})"/>, the record decoder reading only some members, against
/// the reference: System.Text.Json reading the same JSON with the members not read taken out, on random records and random projections.
/// </summary>
public sealed class RecordJsonProjectionTests
{
    private static readonly JsonSerializerOptions s_web = new(JsonSerializerDefaults.Web) { TypeInfoResolver = new DefaultJsonTypeInfoResolver() };

    [Theory]
    [InlineData("sourcegen", nameof(Positional))]
    [InlineData("reflection", nameof(Positional))]
    [InlineData("casesensitive", nameof(Positional))]
    [InlineData("sourcegen", nameof(InitOnly))]
    [InlineData("reflection", nameof(InitOnly))]
    [InlineData("casesensitive", nameof(InitOnly))]
    public void Deserialize_RandomRecordsRandomProjections_AsSystemTextJsonWithoutTheMembersNotRead(string context, string type)
    {
        var random = new Random(21);
        if (type == nameof(Positional))
        {
            AssertProjections(Info<Positional>(context), random, () => RecordJsonDecoderTests.RandomPositional(random));
        }
        else
        {
            AssertProjections(Info<InitOnly>(context), random, () => RecordJsonDecoderTests.RandomInitOnly(random));
        }
    }

    [Fact]
    public void Deserialize_RandomMixedRecordsRandomProjections_AsSystemTextJsonWithoutTheMembersNotRead()
    {
        var random = new Random(23);
        AssertProjections(RecordJsonTestContext.Default.Mixed, random, () => new Mixed(random.NextInt64(), random.Next(3) == 0 ? null : RecordJsonDecoderTests.RandomText(random)) { Count = random.Next() });
    }

    [Fact]
    public void Deserialize_NexmarkBidsReadingAuctionAndTime_SameAuctionAndTimeAndOnlyTheBidAllocated()
    {
        var bids = new NexmarkGenerator(new NexmarkConfig { ExtraFieldSize = 10 }).Bids(2000);
        var json = bids.Select(b => JsonSerializer.SerializeToUtf8Bytes(b, NexmarkJsonContext.Default.Bid)).ToArray();
        var serializer = (JsonEventSerializer<Bid>)EventSerializer<Bid>.JsonReading(NexmarkJsonContext.Default.Bid, [nameof(Bid.Auction), nameof(Bid.DateTime)]);
        for (int i = 0; i < json.Length; i++)
        {
            var bid = serializer.Deserialize(json[i]);
            Assert.Equal((bids[i].Auction, bids[i].DateTime), (bid.Auction, bid.DateTime));
            Assert.Equal(JsonSerializer.Deserialize(Without(json[i], ["bidder", "price", "channel", "url", "extra"]), NexmarkJsonContext.Default.Bid), bid);
        }

        // Warm, then measure: the projection allocates the bid and nothing else (no channel, URL or extra string), i.e. what making
        // the same number of empty bids allocates, give or take a few hundred bytes of the runtime's.
        long read = Allocated(() =>
        {
            long sum = 0;
            for (int i = 0; i < json.Length; i++)
            {
                sum += serializer.Deserialize(json[i]).Auction;
            }

            return sum;
        });
        long made = Allocated(() =>
        {
            long sum = 0;
            for (int i = 0; i < json.Length; i++)
            {
                sum += new Bid { Auction = i }.Auction;
            }

            return sum;
        });
        Assert.True(read <= made + 512, $"{read} bytes for {json.Length} bids read, against {made} for as many bids made");
        Assert.Equal(0, serializer.ReadBySystemTextJson);
        Assert.Equal("JSON: LinqStream's record decoder reads auction, dateTime of the 7 properties of 'Bid' and skips the others.", serializer.Description);
    }

    [Fact]
    public void Deserialize_ProjectionSkipsInvalidValuesOfMembersNotRead_AndStillRefusesMalformedJson()
    {
        var serializer = (JsonEventSerializer<Bid>)EventSerializer<Bid>.JsonReading(NexmarkJsonContext.Default.Bid, ["auction"]);

        // A member not read may hold any JSON value (an object where a string goes): it is skipped, as a missing one would be.
        var bid = serializer.Deserialize("{\"auction\":5,\"url\":{\"a\":[1,2]},\"price\":\"x\"}"u8);
        Assert.Equal(JsonSerializer.Deserialize("{\"auction\":5}"u8, NexmarkJsonContext.Default.Bid), bid);

        // Malformed JSON is still refused, with System.Text.Json's error.
        Assert.ThrowsAny<JsonException>(() => serializer.Deserialize("{\"auction\":5,\"url\":\"x\""u8));
        Assert.ThrowsAny<JsonException>(() => serializer.Deserialize("{\"auction\":\"5\"}"u8));
    }

    [Fact]
    public void Json_NameNotAProperty_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() => EventSerializer<Bid>.JsonReading(NexmarkJsonContext.Default.Bid, [nameof(Bid.Auction), "Prize"]));

        Assert.Contains("'Prize'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_ProjectionOfATypeTheDecoderDoesNotRead_ReadByTheDecoderWhenTheMemberItCannotReadIsSkipped()
    {
        var skipping = (JsonEventSerializer<WithList>)EventSerializer<WithList>.JsonReading(RecordJsonTestContext.Default.WithList, ["id"]);
        var reading = (JsonEventSerializer<WithList>)EventSerializer<WithList>.JsonReading(RecordJsonTestContext.Default.WithList, ["id", "tags"]);
        var json = "{\"id\":3,\"tags\":[\"a\",\"b\"]}"u8.ToArray();

        var skipped = skipping.Deserialize(json);
        var read = reading.Deserialize(json);

        // The list is what the decoder does not read: skipped, the decoder reads the rest (the list is then the missing member's
        // default, as System.Text.Json gives it); read, System.Text.Json reads the whole record.
        Assert.True(skipping.UsesRecordDecoder, skipping.Description);
        Assert.Equal((3L, (List<string>?)null), (skipped.Id, (List<string>?)skipped.Tags));
        Assert.False(reading.UsesRecordDecoder);
        Assert.Equal("a,b", string.Join(',', read.Tags));
    }

    /// <summary>For each of a few random projections, random records (shuffled, some with unknown members) against the reference.</summary>
    private static void AssertProjections<T>(JsonTypeInfo<T> info, Random random, Func<T> make)
    {
        var properties = info.Properties.ToArray();
        for (int projection = 0; projection < 12; projection++)
        {
            // Named by JSON name or C# name, in any case; sometimes none, sometimes all.
            var read = properties.Where(_ => random.Next(projection % 4 == 0 ? 5 : 2) == 0).ToArray();
            string[] names = [.. read.Select(p => random.Next(2) == 0 ? p.Name : ClrName(p)).Select(n => random.Next(4) == 0 ? n.ToUpperInvariant() : n)];
            string[] skipped = [.. properties.Except(read).Select(p => p.Name)];
            var serializer = (JsonEventSerializer<T>)EventSerializer<T>.JsonReading(info, names);
            Assert.True(serializer.UsesRecordDecoder, serializer.Description);
            for (int i = 0; i < 150; i++)
            {
                var node = JsonSerializer.SerializeToNode(make(), info)!.AsObject();
                var json = Shuffled(node, random);
                var expected = JsonSerializer.Deserialize(Without(json, skipped), info);
                var actual = serializer.Deserialize(json);

                Assert.Equal(JsonSerializer.Serialize(expected!, info), JsonSerializer.Serialize(actual, info));
            }

            Assert.Equal(0, serializer.ReadBySystemTextJson);
        }
    }

    private static string ClrName(JsonPropertyInfo property) =>
        (property.AttributeProvider as System.Reflection.MemberInfo)?.Name ?? property.AssociatedParameter?.Name ?? property.Name;

    /// <summary>The record's members in a random order, and now and then an unknown member (System.Text.Json and the decoder skip it).</summary>
    private static byte[] Shuffled(JsonObject record, Random random)
    {
        var members = record.ToList();
        record.Clear();
        var shuffled = new JsonObject();
        foreach (var (name, value) in members.OrderBy(_ => random.Next()))
        {
            shuffled[name] = value;
        }

        if (random.Next(4) == 0)
        {
            shuffled["unknownMember"] = random.Next(2) == 0 ? JsonValue.Create("x") : new JsonArray(1, 2);
        }

        return JsonSerializer.SerializeToUtf8Bytes(shuffled);
    }

    private static byte[] Without(byte[] json, string[] names)
    {
        var node = JsonNode.Parse(json)!.AsObject();
        foreach (var name in names)
        {
            node.Remove(name);
        }

        return JsonSerializer.SerializeToUtf8Bytes(node);
    }

    private static long Allocated(Func<long> run)
    {
        run();
        long before = GC.GetAllocatedBytesForCurrentThread();
        long sum = run();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(sum >= 0);
        return allocated;
    }

    private static JsonTypeInfo<T> Info<T>(string context) => context switch
    {
        "sourcegen" => (JsonTypeInfo<T>)RecordJsonTestContext.Default.GetTypeInfo(typeof(T))!,
        "casesensitive" => (JsonTypeInfo<T>)CaseSensitiveRecordJsonTestContext.Default.GetTypeInfo(typeof(T))!,
        _ => (JsonTypeInfo<T>)s_web.GetTypeInfo(typeof(T)),
    };
}
