using LinqStream.Io.Json;
using LinqStream.Orleans.Channels;
using LinqStream.Runtime;

namespace LinqStream.Orleans.Tests.Channels;

/// <summary>A record with two strings (a repeating one and another), as NEXMark's bids cross silos.</summary>
public sealed record Visit(string? Channel, long Id, string? Url);

/// <summary>
/// The receiving end's table of strings read lately (issue #17; <c>Utf8StringCache</c>'s byte-span lookup, used by <c>ColumnReader</c>):
/// a repeated short ASCII string is not decoded and allocated again,
/// and every value still comes back exactly as it was sent, whatever the table holds (colliding slots, non-ASCII, long, empty, null).
/// </summary>
public sealed class ReceivedStringsTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Codec_RepeatedAndUniqueStrings_RoundTripExactlyAndRepeatsAreNotAllocatedAgain(int seed)
    {
        var random = new Random(seed);
        string[] pool = ["Google", "Apple", "", "https://www.nexmark.com/abc/de_f/ghij/item.htm?query=1", "ünïcödé", new string('x', 300), new string('y', 97), "a\ud800b", "1234567", "12345678"];
        var codec = new EventBatchCodec<Visit>(new BinaryColumnCodec<Visit>());
        var reader = new EventBatchCodec<Visit>(new BinaryColumnCodec<Visit>());
        for (int frame = 0; frame < 40; frame++)
        {
            var batch = new EventBatch<Visit>(256);
            var sent = new List<Visit>();
            int n = random.Next(0, 257);
            for (int i = 0; i < n; i++)
            {
                string? Pick() => random.Next(6) switch
                {
                    0 => null,
                    1 => $"unique-{random.NextInt64()}", // never repeats
                    _ => pool[random.Next(pool.Length)],
                };

                var visit = new Visit(Pick(), random.Next(4) == 0 ? long.MinValue : random.NextInt64(), Pick());
                batch.Add(i / 3, (i / 3) + 1, visit); // ties
                sent.Add(visit);
            }

            var encoded = codec.Encode(batch);
            var decoded = new EventBatch<Visit>(256);
            reader.Decode("test/strings", encoded, decoded);
            var again = new EventBatch<Visit>(256);
            reader.Decode("test/strings", encoded, again);
            encoded.Release();

            Assert.Equal(sent, decoded.Payload.Take(decoded.Count));
            Assert.Equal(sent, again.Payload.Take(again.Count));
        }

        // Across frames, a repeated short ASCII value comes back as one instance: decoded once, not per event.
        var repeated = new EventBatch<Visit>(4);
        repeated.Add(1, 2, new Visit("Google", 1, new string(['G', 'o', 'o', 'g', 'l', 'e'])));
        repeated.Add(1, 2, new Visit(new string(['G', 'o', 'o', 'g', 'l', 'e']), 2, "Google"));
        var frameOfRepeats = codec.Encode(repeated);
        var output = new EventBatch<Visit>(4);
        reader.Decode("test/strings", frameOfRepeats, output);
        frameOfRepeats.Release();
        Assert.Equal(repeated.Payload.Take(2), output.Payload.Take(2));
        Assert.Same(output.Payload[0].Channel, output.Payload[1].Channel);
        Assert.Same(output.Payload[0].Url, output.Payload[1].Channel);
    }

    [Fact]
    public void Table_CollidingSlots_ReturnsOnlyTheExactString()
    {
        var table = new Utf8StringCache(slots: 2); // every value collides with half of the others
        var random = new Random(7);
        var values = Enumerable.Range(0, 50).Select(i => new string((char)('a' + (i % 26)), 1 + (i % 20)) + i).ToArray();
        int hits = 0;
        for (int round = 0; round < 5_000; round++)
        {
            var value = values[random.Next(values.Length)];
            var bytes = System.Text.Encoding.UTF8.GetBytes(value);
            if (table.TryGet(bytes, out var found))
            {
                Assert.Equal(value, found);
                hits++;
            }
            else
            {
                table.Keep(bytes, value);
            }
        }

        Assert.InRange(hits, 1, 4_999);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Utf8StringCache(slots: 3));
    }

    [Fact]
    public void Table_ValuesThatDoNotRepeat_StopBeingLookedUpForAWhile()
    {
        var table = new Utf8StringCache();
        for (int i = 0; i < Utf8StringCache.Window; i++)
        {
            var bytes = System.Text.Encoding.UTF8.GetBytes($"id-{i}");
            Assert.False(table.TryGet(bytes, out _));
            table.Keep(bytes, $"id-{i}");
        }

        Assert.True(table.IsPaused);
        var again = System.Text.Encoding.UTF8.GetBytes("id-5");
        Assert.False(table.TryGet(again, out _)); // paused: decoded as it comes (still correct, only not looked up)
        Assert.True(table.TryGet([], out var empty));
        Assert.Equal(string.Empty, empty);
    }
}
