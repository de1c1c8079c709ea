using System.Globalization;
using System.Text;
using System.Text.Json;
using LinqStream.Io.Json;

namespace LinqStream.Tests.Io.Json;

/// <summary>
/// The record decoder's table of recent strings against <see cref="Utf8JsonReader.GetString"/> (the reference): the same string for
/// every value — repeated, unique, escaped, beyond ASCII, long, colliding in a one-slot table — the same instance for a value read
/// again, the same error for a value that is not a string, and a pause when values do not repeat.
/// </summary>
public sealed class Utf8StringCacheTests
{
    private static readonly string[] s_pool = ["Google", "Facebook", "Baidu", "Apple", "channel-1", "https://www.nexmark.com/abc/de_f/ghij/item.htm?query=1", "", "a"];

    [Theory]
    [InlineData(512, 1)]
    [InlineData(512, 2)]
    [InlineData(1, 3)]
    [InlineData(4, 4)]
    public void Read_RandomValues_SameStringAsGetString(int slots, int seed)
    {
        var cache = new Utf8StringCache(slots);
        var random = new Random(seed);
        for (int i = 0; i < 20_000; i++)
        {
            string value = RandomValue(random);
            var json = JsonSerializer.SerializeToUtf8Bytes(value, random.Next(2) == 0 ? s_relaxed : JsonSerializerOptions.Default);

            var (cached, expected) = ReadBoth(cache, json);

            Assert.Equal(expected, cached);
            Assert.Equal(value, cached);
        }
    }

    [Fact]
    public void Read_SameValueAgain_SameInstance_OtherValueOfTheSameLength_NotIt()
    {
        var cache = new Utf8StringCache();
        var first = Read(cache, "\"channel-42\""u8.ToArray());
        var again = Read(cache, "\"channel-42\""u8.ToArray());
        var other = Read(cache, "\"channel-43\""u8.ToArray());

        Assert.Same(first, again);
        Assert.Equal("channel-43", other);
    }

    [Theory]
    [InlineData("\"caf\\u00e9\"")]
    [InlineData("\"café\"")]
    [InlineData("\"a\\nb\"")]
    public void Read_EscapedOrBeyondAscii_ReadEachTimeAsGetStringDoes(string json)
    {
        var cache = new Utf8StringCache();
        var bytes = Encoding.UTF8.GetBytes(json);
        var first = Read(cache, bytes);
        var again = Read(cache, bytes);

        Assert.Equal(JsonSerializer.Deserialize<string>(bytes), first);
        Assert.Equal(first, again);
        Assert.NotSame(first, again);
    }

    [Fact]
    public void Read_NumberWhereAnEqualStringIsKept_ThrowsAsGetString()
    {
        var cache = new Utf8StringCache();
        Assert.Equal("5", Read(cache, "\"5\""u8.ToArray()));

        Assert.Throws<InvalidOperationException>(() => Read(cache, "5"u8.ToArray()));
    }

    [Fact]
    public void Read_ValuesThatDoNotRepeat_PausesThenTriesAgain()
    {
        var cache = new Utf8StringCache();
        for (int i = 0; i < Utf8StringCache.Window; i++)
        {
            Assert.Equal($"id-{i}", Read(cache, Encoding.UTF8.GetBytes($"\"id-{i}\"")));
        }

        Assert.True(cache.IsPaused);
        string paused = Read(cache, "\"Google\""u8.ToArray());
        Assert.NotSame(paused, Read(cache, "\"Google\""u8.ToArray()));
        for (int i = 0; i < Utf8StringCache.Pause; i++)
        {
            Read(cache, "\"Google\""u8.ToArray());
        }

        Assert.False(cache.IsPaused);
        Assert.Same(Read(cache, "\"Google\""u8.ToArray()), Read(cache, "\"Google\""u8.ToArray()));
    }

    [Fact]
    public async Task Read_FromSeveralThreadsAtOnce_EveryValueRight()
    {
        var cache = new Utf8StringCache(8);
        var values = Enumerable.Range(0, 64).Select(i => "v" + i.ToString(CultureInfo.InvariantCulture)).ToArray();
        var json = values.Select(v => JsonSerializer.SerializeToUtf8Bytes(v)).ToArray();

        var wrong = await Task.WhenAll(Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            int bad = 0;
            for (int i = 0; i < 50_000; i++)
            {
                int k = (i * 7 + t) % values.Length;
                bad += Read(cache, json[k]) == values[k] ? 0 : 1;
            }

            return bad;
        })));

        Assert.All(wrong, count => Assert.Equal(0, count));
    }

    private static readonly JsonSerializerOptions s_relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static string RandomValue(Random random) => random.Next(6) switch
    {
        0 or 1 or 2 => s_pool[random.Next(s_pool.Length)],
        3 => "u" + random.NextInt64().ToString(CultureInfo.InvariantCulture),
        4 => new string('x', random.Next(90, 110)),
        _ => random.Next(4) switch { 0 => "é" + random.Next(3), 1 => "tab\t" + random.Next(3), 2 => "日本", _ => "q\"uote" },
    };

    private static string Read(Utf8StringCache cache, byte[] json)
    {
        var reader = new Utf8JsonReader(json);
        reader.Read();
        return cache.Read(ref reader);
    }

    private static (string Cached, string? Expected) ReadBoth(Utf8StringCache cache, byte[] json)
    {
        var reader = new Utf8JsonReader(json);
        reader.Read();
        return (cache.Read(ref reader), reader.GetString());
    }
}
