using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using LinqStream.Benchmarks.Scenarios.Connectors;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Tests.Io.Json;

/// <summary>
/// The record decoder behind <see cref="EventSerializer{T}.Json(JsonTypeInfo{T})"/> against System.Text.Json itself (the reference) on
/// random records: every answer and every error must be System.Text.Json's, and the valid encodings must be read by the decoder.
/// </summary>
public sealed class RecordJsonDecoderTests
{
    private const int Records = 1500;
    private static readonly JsonSerializerOptions s_web = new(JsonSerializerDefaults.Web) { TypeInfoResolver = new DefaultJsonTypeInfoResolver() };
    private static readonly JsonSerializerOptions[] s_writers =
    [
        new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping },
        new() { Encoder = JavaScriptEncoder.Default },
        new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, WriteIndented = true },
        new() { Encoder = JavaScriptEncoder.Default, WriteIndented = true },
    ];

    private static readonly string[] s_pieces = ["a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\u0001", "\u001f", "é", "ß", "日本", "😀", "<", ">", "&", "'", "\u2028", "+", "\u00a0"];

    [Theory]
    [InlineData("sourcegen")]
    [InlineData("reflection")]
    [InlineData("casesensitive")]
    public void Deserialize_RandomPositionalRecords_SameAsSystemTextJsonAndReadByTheDecoder(string context)
    {
        var info = Info<Positional>(context);
        var serializer = Serializer(info);
        var random = new Random(11);
        for (int i = 0; i < Records; i++)
        {
            AssertSame(info, serializer, Mutate(JsonSerializer.SerializeToNode(RandomPositional(random), info)!.AsObject(), random));
        }

        Assert.Equal(0, serializer.ReadBySystemTextJson);
    }

    [Theory]
    [InlineData("sourcegen")]
    [InlineData("reflection")]
    [InlineData("casesensitive")]
    public void Deserialize_RandomInitOnlyRecords_SameAsSystemTextJsonAndReadByTheDecoder(string context)
    {
        var info = Info<InitOnly>(context);
        var serializer = Serializer(info);
        var random = new Random(12);
        for (int i = 0; i < Records; i++)
        {
            AssertSame(info, serializer, Mutate(JsonSerializer.SerializeToNode(RandomInitOnly(random), info)!.AsObject(), random));
        }

        Assert.Equal(0, serializer.ReadBySystemTextJson);
    }

    [Fact]
    public void Deserialize_MissingInitOnlyPropertiesWithReflectionMetadata_KeepTheirInitializers()
    {
        var serializer = Serializer((JsonTypeInfo<InitOnly>)s_web.GetTypeInfo(typeof(InitOnly)));

        var record = serializer.Deserialize("{\"other\":\"x\"}"u8);

        Assert.Equal(new InitOnly { Other = "x" }, record);
        Assert.Equal(0, serializer.ReadBySystemTextJson);
    }

    [Fact]
    public void Deserialize_MissingInitOnlyPropertiesWithSourceGeneratedMetadata_DefaultsAsSystemTextJsonGives()
    {
        var info = RecordJsonTestContext.Default.InitOnly;
        var serializer = Serializer(info);

        var record = serializer.Deserialize("{\"other\":\"x\"}"u8);

        // System.Text.Json's source-generated metadata sets init-only members through an object initializer: the missing ones get
        // their type's default, not their initializer. The decoder gives the same.
        Assert.Equal(JsonSerializer.Deserialize("{\"other\":\"x\"}"u8, info), record);
        Assert.Equal((null, 0m, false, 0L), (record.Text, record.Decimal, record.Flag, record.Long));
        Assert.Equal(0, serializer.ReadBySystemTextJson);
    }

    [Fact]
    public void Deserialize_RandomChains_NestedRecordsOfTheSameTypeAreRead()
    {
        var info = RecordJsonTestContext.Default.Chain;
        var serializer = Serializer(info);
        var random = new Random(13);
        for (int i = 0; i < 300; i++)
        {
            Chain? chain = null;
            for (int n = random.Next(6); n >= 0; n--)
            {
                chain = new Chain(random.Next(int.MinValue, int.MaxValue), chain);
            }

            AssertSame(info, serializer, Mutate(JsonSerializer.SerializeToNode(chain!, info)!.AsObject(), random));
        }

        Assert.Equal(0, serializer.ReadBySystemTextJson);
    }

    [Theory]
    [InlineData("sourcegen")]
    [InlineData("reflection")]
    [InlineData("casesensitive")]
    public void Deserialize_ConstructorParametersSettableAndReadOnlyProperties_SameAsSystemTextJson(string context)
    {
        var info = context == "reflection" ? (JsonTypeInfo<Mixed>)s_web.GetTypeInfo(typeof(Mixed)) : RecordJsonTestContext.Default.Mixed;
        var serializer = Serializer(info);
        var random = new Random(14);
        for (int i = 0; i < 300; i++)
        {
            var mixed = new Mixed(random.NextInt64(), random.Next(3) == 0 ? null : RandomText(random)) { Count = random.Next() };
            AssertSame(info, serializer, Mutate(JsonSerializer.SerializeToNode(mixed, info)!.AsObject(), random));
        }

        Assert.Equal(0, serializer.ReadBySystemTextJson);
    }

    [Theory]
    [InlineData("sourcegen")]
    [InlineData("reflection")]
    [InlineData("casesensitive")]
    public void Deserialize_TruncatedOrCorruptedRecords_SameAnswerOrSameErrorAsSystemTextJson(string context)
    {
        var info = Info<Positional>(context);
        var serializer = Serializer(info);
        var random = new Random(15);
        byte[] noise = "},\":\\x1-.e[]{ n"u8.ToArray();
        int errors = 0;
        for (int i = 0; i < Records; i++)
        {
            var json = JsonSerializer.SerializeToUtf8Bytes(RandomPositional(random), info);
            byte[] bad = random.Next(2) == 0
                ? json[..random.Next(json.Length)]
                : [.. json[..(random.Next(json.Length))], random.Next(4) == 0 ? (byte)0xFF : noise[random.Next(noise.Length)], .. json[(random.Next(json.Length))..]];
            errors += AssertSame(info, serializer, bad) ? 0 : 1;
        }

        Assert.True(errors > Records / 2, $"only {errors} of {Records} damaged records were errors");
    }

    [Theory]
    [InlineData("null")]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("[]")]
    [InlineData("1")]
    [InlineData("\"text\"")]
    [InlineData("{\"long\":1}{}")]
    [InlineData("{\"long\":1} x")]
    [InlineData("{\"long\":1,}")]
    [InlineData("{\"long\":01}")]
    [InlineData("{\"long\":9223372036854775808}")]
    [InlineData("{\"long\":-9223372036854775809}")]
    [InlineData("{\"long\":1.5}")]
    [InlineData("{\"long\":1e3}")]
    [InlineData("{\"long\":\"12\"}")]
    [InlineData("{\"long\":null}")]
    [InlineData("{\"long\":{}}")]
    [InlineData("{\"int\":2147483648}")]
    [InlineData("{\"short\":32768}")]
    [InlineData("{\"sByte\":-129}")]
    [InlineData("{\"byte\":256}")]
    [InlineData("{\"byte\":-1}")]
    [InlineData("{\"uShort\":65536}")]
    [InlineData("{\"uInt\":4294967296}")]
    [InlineData("{\"uLong\":18446744073709551615}")]
    [InlineData("{\"uLong\":18446744073709551616}")]
    [InlineData("{\"uLong\":-1}")]
    [InlineData("{\"flag\":1}")]
    [InlineData("{\"flag\":\"true\"}")]
    [InlineData("{\"char\":\"ab\"}")]
    [InlineData("{\"char\":\"\"}")]
    [InlineData("{\"char\":\"\\u00e9\"}")]
    [InlineData("{\"single\":3.5e38}")]
    [InlineData("{\"single\":-3.4028235e38}")]
    [InlineData("{\"double\":1.7976931348623157e308}")]
    [InlineData("{\"double\":1e309}")]
    [InlineData("{\"double\":\"NaN\"}")]
    [InlineData("{\"decimal\":79228162514264337593543950335}")]
    [InlineData("{\"decimal\":79228162514264337593543950336}")]
    [InlineData("{\"decimal\":0.0000000000000000000000000001}")]
    [InlineData("{\"text\":12}")]
    [InlineData("{\"text\":\"\\ud800\"}")]
    [InlineData("{\"text\":\"\\uZZZZ\"}")]
    [InlineData("{\"time\":\"2026-02-30T00:00:00\"}")]
    [InlineData("{\"time\":\"2026-12-05T01:02:03.1234567+05:30\"}")]
    [InlineData("{\"time\":\"yesterday\"}")]
    [InlineData("{\"offset\":\"2026-12-05T01:02:03Z\"}")]
    [InlineData("{\"id\":\"not-a-guid\"}")]
    [InlineData("{\"shade\":\"Dark\"}")]
    [InlineData("{\"shade\":70000}")]
    [InlineData("{\"shade\":12}")]
    [InlineData("{\"maybeInt\":null,\"maybeTime\":null,\"nested\":null,\"text\":null}")]
    [InlineData("{\"nested\":[]}")]
    [InlineData("{\"nested\":{\"id\":1,\"id\":2}}")]
    [InlineData("{\"long\":1,\"long\":2}")]
    [InlineData("{\"LONG\":1,\"long\":2}")]
    [InlineData("{\"$id\":\"1\",\"long\":2}")]
    [InlineData("{\"$type\":\"x\"}")]
    [InlineData("{\"unknown\":{\"deep\":[1,{\"x\":null}]},\"long\":2}")]
    [InlineData("{\"unknown\":[1,2,}")]
    [InlineData("{\"\\u006cong\":5}")]
    [InlineData("{\"lonG\":5}")]
    [InlineData("{\"LONG\":5,\"TEXT\":\"É\"}")]
    [InlineData("{\"long\":1 /* comment */}")]
    [InlineData("{'long':1}")]
    [InlineData("{\"long\":1")]
    [InlineData("{\"long\":")]
    [InlineData("{\"long\"")]
    [InlineData("{")]
    public void Deserialize_EdgeCases_SameAnswerOrSameErrorAsSystemTextJson(string json)
    {
        foreach (string context in new[] { "sourcegen", "reflection", "casesensitive" })
        {
            var info = Info<Positional>(context);
            AssertSame(info, Serializer(info), Encoding.UTF8.GetBytes(json));
        }
    }

    [Fact]
    public void Deserialize_RequiredMemberMissing_SystemTextJsonsError()
    {
        var info = RecordJsonTestContext.Default.WithRequired;
        var serializer = Serializer(info);

        AssertSame(info, serializer, "{\"note\":\"x\"}"u8.ToArray());
        AssertSame(info, serializer, "{\"id\":4}"u8.ToArray());

        Assert.Equal(1, serializer.ReadBySystemTextJson);
    }

    [Fact]
    public void Deserialize_NumbersWrittenAsStrings_SystemTextJsonsAnswersAndAfterARunOfThemSystemTextJsonReadsAll()
    {
        var info = (JsonTypeInfo<Inner>)s_web.GetTypeInfo(typeof(Inner)); // the Web defaults read numbers from strings
        var serializer = Serializer(info);
        Assert.True(serializer.UsesRecordDecoder);

        for (int i = 0; i < JsonEventSerializer<Inner>.RefusalsBeforeGivingUp + 10; i++)
        {
            Assert.Equal(new Inner(i, "x"), serializer.Deserialize(Encoding.UTF8.GetBytes($"{{\"id\":\"{i}\",\"label\":\"x\"}}")));
        }

        Assert.False(serializer.UsesRecordDecoder);
        Assert.Equal(JsonEventSerializer<Inner>.RefusalsBeforeGivingUp, serializer.ReadBySystemTextJson);
        Assert.Contains("refused 64 records in a row that System.Text.Json read", serializer.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void Deserialize_ARefusedRecordAmongDecodedOnes_TheDecoderKeepsReading()
    {
        var info = (JsonTypeInfo<Inner>)s_web.GetTypeInfo(typeof(Inner));
        var serializer = Serializer(info);

        for (int i = 0; i < 500; i++)
        {
            string id = i % 10 == 0 ? $"\"{i}\"" : $"{i}";
            Assert.Equal(new Inner(i, null), serializer.Deserialize(Encoding.UTF8.GetBytes($"{{\"id\":{id}}}")));
        }

        Assert.True(serializer.UsesRecordDecoder);
        Assert.Equal(50, serializer.ReadBySystemTextJson);
    }

    [Fact]
    public void Json_RecordOfPrimitivesAndNestedRecords_DescriptionNamesTheRecordDecoder()
    {
        var serializer = Serializer(RecordJsonTestContext.Default.Positional);

        Assert.True(serializer.UsesRecordDecoder);
        Assert.Equal("JSON: LinqStream's record decoder reads 'Positional' (21 properties).", serializer.Description);
    }

    [Fact]
    public void Json_RecordWithAList_DescriptionNamesSystemTextJsonAndWhyAndTheAnswerIsItsOwn()
    {
        var info = RecordJsonTestContext.Default.WithList;
        var serializer = Serializer(info);

        Assert.False(serializer.UsesRecordDecoder);
        Assert.Equal("JSON: System.Text.Json reads 'WithList', because its property 'tags' is a 'List<String>', which the record decoder does not read.", serializer.Description);
        var record = serializer.Deserialize("{\"id\":3,\"tags\":[\"a\",\"b\"]}"u8);
        Assert.Equal(3L, record.Id);
        Assert.Equal("a,b", string.Join(',', record.Tags));
    }

    [Fact]
    public void Json_NexmarkBid_ReadByTheRecordDecoder()
    {
        var serializer = Serializer(NexmarkJsonContext.Default.Bid);

        Assert.True(serializer.UsesRecordDecoder);
    }

    [Fact]
    public void Deserialize_NexmarkBids_SameBidsAndNoMoreAllocationThanTheHandWrittenDecoder()
    {
        var serializer = Serializer(NexmarkJsonContext.Default.Bid);
        var bids = new NexmarkGenerator(new NexmarkConfig { ExtraFieldSize = 10 }).Bids(2000);
        var json = bids.Select(b => JsonSerializer.SerializeToUtf8Bytes(b, NexmarkJsonContext.Default.Bid)).ToArray();
        for (int i = 0; i < json.Length; i++)
        {
            Assert.Equal(bids[i], serializer.Deserialize(json[i]));
            Assert.Equal(bids[i], HandWrittenBidJson.Instance.Deserialize(json[i]));
        }

        long ours = AllocatedBytes(json, serializer);
        long hand = AllocatedBytes(json, HandWrittenBidJson.Instance);

        // The bid and its strings at most, as the hand-written loop: nothing per event beyond them (a few hundred bytes of slack for
        // the runtime); fewer strings, since half the bids come through one of four channels whose strings the decoder keeps.
        Assert.True(ours <= hand + 512, $"{ours} bytes against the hand-written loop's {hand}");
        Assert.True(ours < hand - (json.Length * 16), $"{ours} bytes against the hand-written loop's {hand}: repeated channels and URLs were allocated again");
        Assert.Equal(0, serializer.ReadBySystemTextJson);
    }

    [Fact]
    public async Task Deserialize_FromSeveralThreadsAtOnce_EveryRecordRight()
    {
        var info = RecordJsonTestContext.Default.Positional;
        var serializer = Serializer(info);
        var random = new Random(16);
        var records = Enumerable.Range(0, 400).Select(_ => RandomPositional(random)).ToArray();
        var json = records.Select(r => JsonSerializer.SerializeToUtf8Bytes(r, info)).ToArray();

        var wrong = await Task.WhenAll(Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            int bad = 0;
            for (int round = 0; round < 20; round++)
            {
                for (int i = 0; i < json.Length; i++)
                {
                    bad += serializer.Deserialize(json[(i + t * 97) % json.Length]) == records[(i + t * 97) % json.Length] ? 0 : 1;
                }
            }

            return bad;
        })));

        Assert.All(wrong, count => Assert.Equal(0, count));
    }

    private static long AllocatedBytes(byte[][] json, EventSerializer<Bid> serializer)
    {
        long sum = 0;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < json.Length; i++)
        {
            sum += serializer.Deserialize(json[i]).Price;
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(sum > 0);
        return allocated;
    }

    private static JsonEventSerializer<T> Serializer<T>(JsonTypeInfo<T> info) => (JsonEventSerializer<T>)EventSerializer<T>.Json(info);

    private static JsonTypeInfo<T> Info<T>(string context) => context switch
    {
        "sourcegen" => (JsonTypeInfo<T>)RecordJsonTestContext.Default.GetTypeInfo(typeof(T))!,
        "casesensitive" => (JsonTypeInfo<T>)CaseSensitiveRecordJsonTestContext.Default.GetTypeInfo(typeof(T))!,
        _ => (JsonTypeInfo<T>)s_web.GetTypeInfo(typeof(T)),
    };

    /// <summary>Decodes with both and asserts the same record or the same error; returns whether it was a record.</summary>
    private static bool AssertSame<T>(JsonTypeInfo<T> info, JsonEventSerializer<T> serializer, byte[] json)
    {
        T? expected = default;
        Exception? expectedError = null;
        try
        {
            expected = JsonSerializer.Deserialize(json, info);
            if (expected is null)
            {
                expectedError = new JsonException($"The record is JSON 'null', not a {typeof(T).Name}.");
            }
        }
        catch (Exception ex)
        {
            expectedError = ex;
        }

        T? actual = default;
        Exception? actualError = null;
        try
        {
            actual = serializer.Deserialize(json);
        }
        catch (Exception ex)
        {
            actualError = ex;
        }

        string text = Encoding.UTF8.GetString(json);
        if (expectedError is not null)
        {
            Assert.True(actualError is not null, $"System.Text.Json fails on {text} ({expectedError.Message}); the serializer read {actual}");
            Assert.Equal((expectedError.GetType(), expectedError.Message), (actualError.GetType(), actualError.Message));
            return false;
        }

        Assert.True(actualError is null, $"System.Text.Json reads {text}; the serializer failed: {actualError}");
        // The JSON of both answers is compared too: it tells DateTime kinds and -0.0 apart, which equality does not (a float that
        // overflowed to infinity cannot be written: then both must fail alike).
        Assert.Equal(JsonOf(expected!, info), JsonOf(actual!, info));
        if (expected is IEquatable<T>)
        {
            Assert.Equal(expected, actual);
        }

        return true;
    }

    private static string JsonOf<T>(T value, JsonTypeInfo<T> info)
    {
        try
        {
            return JsonSerializer.Serialize(value, info);
        }
        catch (ArgumentException ex)
        {
            return ex.Message;
        }
    }

    /// <summary>Reorders, drops, adds unknown, renames (escaped or in another case) properties and writes escaped or raw, compact or indented.</summary>
    private static byte[] Mutate(JsonObject record, Random random)
    {
        var properties = record.ToList();
        record.Clear();
        if (random.Next(3) == 0)
        {
            properties = [.. properties.OrderBy(_ => random.Next())];
        }

        if (random.Next(3) == 0 && properties.Count > 0)
        {
            properties.RemoveAt(random.Next(properties.Count));
        }

        var renamed = new Dictionary<string, string>();
        foreach (var (name, value) in properties)
        {
            if (random.Next(4) == 0)
            {
                record.Add($"unknown{random.Next(100)}x{record.Count}", RandomUnknown(random));
            }

            string key = name;
            if (random.Next(8) == 0)
            {
                key = random.Next(2) == 0 ? name.ToUpperInvariant() : name[..1].ToUpperInvariant() + name[1..];
            }

            if (random.Next(8) == 0)
            {
                renamed[key] = $"\\u{(int)key[0]:x4}{key[1..]}";
            }

            record.Add(key, value?.DeepClone());
        }

        string json = record.ToJsonString(s_writers[random.Next(s_writers.Length)]);
        foreach (var (key, escaped) in renamed)
        {
            json = json.Replace($"\"{key}\":", $"\"{escaped}\":", StringComparison.Ordinal);
        }

        return Encoding.UTF8.GetBytes(json);
    }

    private static JsonNode? RandomUnknown(Random random) => random.Next(6) switch
    {
        0 => null,
        1 => JsonValue.Create(random.NextInt64()),
        2 => JsonValue.Create(RandomText(random)),
        3 => new JsonArray(1, "two", null, new JsonObject { ["x"] = new JsonArray() }),
        4 => new JsonObject { ["long"] = 5, ["nested"] = new JsonObject { ["id"] = "not an int" } },
        _ => JsonValue.Create(random.Next(2) == 0),
    };

    internal static string RandomText(Random random)
    {
        var text = new StringBuilder();
        for (int n = random.Next(12); n > 0; n--)
        {
            text.Append(s_pieces[random.Next(s_pieces.Length)]);
        }

        return text.ToString();
    }

    private static T Pick<T>(Random random, T[] limits, Func<T> any) => random.Next(3) == 0 ? limits[random.Next(limits.Length)] : any();

    private static DateTime RandomTime(Random random) =>
        new(random.NextInt64(DateTime.MinValue.Ticks, DateTime.MaxValue.Ticks), random.Next(2) == 0 ? DateTimeKind.Utc : DateTimeKind.Unspecified);

    internal static Positional RandomPositional(Random random) => new(
        Pick(random, [long.MinValue, long.MaxValue, 0, -1], () => random.NextInt64(long.MinValue, long.MaxValue)),
        Pick(random, [int.MinValue, int.MaxValue, 0], () => random.Next(int.MinValue, int.MaxValue)),
        Pick(random, [short.MinValue, short.MaxValue], () => (short)random.Next(short.MinValue, short.MaxValue)),
        Pick(random, [sbyte.MinValue, sbyte.MaxValue], () => (sbyte)random.Next(sbyte.MinValue, sbyte.MaxValue)),
        Pick(random, [byte.MinValue, byte.MaxValue], () => (byte)random.Next(256)),
        Pick(random, [ushort.MinValue, ushort.MaxValue], () => (ushort)random.Next(65536)),
        Pick(random, [uint.MinValue, uint.MaxValue], () => (uint)random.NextInt64(uint.MaxValue)),
        Pick(random, [ulong.MinValue, ulong.MaxValue], () => (ulong)random.NextInt64() * 2),
        random.Next(2) == 0,
        "aZ\"\\\n\u0001é日<&'"[random.Next(11)],
        Pick(random, [float.MaxValue, float.MinValue, float.Epsilon, -0f], () => (float)(random.NextDouble() * 1e6 - 5e5)),
        Pick(random, [double.MaxValue, double.MinValue, double.Epsilon, -0d, 0.1], () => random.NextDouble() * Math.Pow(10, random.Next(-300, 300))),
        Pick(random, [decimal.MaxValue, decimal.MinValue, 0.0000000000000000000000000001m, 1.10m], () => new decimal(random.NextDouble() * 1e12) / random.Next(1, 1000)),
        random.Next(5) == 0 ? null : RandomText(random),
        RandomTime(random),
        new DateTimeOffset(random.NextInt64(DateTime.MinValue.Ticks + TimeSpan.TicksPerDay, DateTime.MaxValue.Ticks - TimeSpan.TicksPerDay), TimeSpan.FromMinutes(random.Next(-14 * 60, 14 * 60))),
        new Guid([.. Enumerable.Range(0, 16).Select(_ => (byte)random.Next(256))]),
        Pick(random, [Shade.Dark, Shade.Plain, Shade.Bright, (Shade)short.MinValue], () => (Shade)random.Next(short.MinValue, short.MaxValue)),
        random.Next(3) == 0 ? null : random.Next(),
        random.Next(3) == 0 ? null : RandomTime(random),
        random.Next(3) == 0 ? null : new Inner(random.Next(), random.Next(4) == 0 ? null : RandomText(random)));

    internal static InitOnly RandomInitOnly(Random random) => new()
    {
        Long = Pick(random, [long.MinValue, long.MaxValue], () => random.NextInt64(long.MinValue, long.MaxValue)),
        Text = RandomText(random),
        Other = random.Next(3) == 0 ? null : RandomText(random),
        Double = random.NextDouble() * 1e9,
        Decimal = Pick(random, [decimal.MaxValue, decimal.MinValue], () => new decimal(random.NextDouble() * 1e6)),
        Time = RandomTime(random),
        Shade = (Shade)random.Next(-5, 800),
        MaybeLong = random.Next(3) == 0 ? null : random.NextInt64(),
        Nested = random.Next(3) == 0 ? null : new Inner(random.Next(), RandomText(random)),
        UInt = (uint)random.NextInt64(uint.MaxValue),
        Flag = random.Next(2) == 0,
    };
}
