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

    [Theory]
    [InlineData(4)]
    [InlineData(5)]
    public void Codec_RepeatedInstancesAmongManyDistinct_RoundTripExactly(int seed)
    {
        // Instances repeated within a frame (low-cardinality columns), more distinct instances than the writer's table has slots
        // (colliding slots write a string in full again), equal strings that are different instances, null, empty and a lone
        // surrogate, interleaved: every frame comes back equal.
        var random = new Random(seed);
        string[] hot = ["Google", "https://www.nexmark.com/abc/de_f/ghij/item.htm?query=1", "a\ud800b", "ünïcödé", ""];
        var cold = Enumerable.Range(0, 3 * ColumnWriter.RepeatSlots).Select(i => $"cold-{i}-{random.Next()}").ToArray();
        var codec = new EventBatchCodec<Visit>(new BinaryColumnCodec<Visit>());
        var reader = new EventBatchCodec<Visit>(new BinaryColumnCodec<Visit>());
        for (int frame = 0; frame < 12; frame++)
        {
            int n = frame == 0 ? 0 : random.Next(1, 2049);
            var batch = new EventBatch<Visit>(2048);
            string? Pick() => random.Next(8) switch
            {
                0 => null,
                1 => new string(hot[random.Next(hot.Length)].AsSpan()), // equal content, another instance
                2 or 3 => cold[random.Next(cold.Length)],
                _ => hot[random.Next(hot.Length)],
            };

            for (int i = 0; i < n; i++)
            {
                batch.Add(i, i + 1, new Visit(Pick(), random.NextInt64(long.MinValue, long.MaxValue), Pick()));
            }

            var encoded = codec.Encode(batch);
            var decoded = new EventBatch<Visit>(2048);
            reader.Decode("test/repeats", encoded, decoded);
            encoded.Release();
            Assert.Equal(batch.Payload.Take(n), decoded.Payload.Take(n));
        }
    }

    [Fact]
    public void Codec_RepeatedInstance_TakesEightBytesAndABadRepeatIndexFailsSayingWhere()
    {
        string url = "https://www.nexmark.com/abc/de_f/ghij/item.htm?query=1";
        var codec = new BinaryColumnCodec<Visit>();
        var many = Enumerable.Range(0, 1000).Select(i => new Visit(null, i, url)).ToArray();
        var distinct = Enumerable.Range(0, 1000).Select(i => new Visit(null, i, new string(url.AsSpan()))).ToArray();
        int repeated = codec.GetByteCount(many, 0, many.Length);
        int full = codec.GetByteCount(distinct, 0, distinct.Length);
        int perValue = 1 + 4 + 8; // presence, null channel, id
        Assert.Equal(1000 * perValue + (4 + url.Length) + (999 * 8), repeated);
        Assert.Equal(1000 * (perValue + 4 + url.Length), full);

        // Each repeat comes back as the instance read in full before it.
        var column = new byte[codec.GetByteCount(many, 0, many.Length)];
        codec.Write(many, 0, many.Length, column);
        var back = new Visit[many.Length];
        codec.Read(column, 0, column.Length, back, 0, back.Length);
        Assert.Equal(many, back);
        Assert.All(back, v => Assert.Same(back[0].Url, v.Url));

        // A repeat that refers to a string not read before in the column is refused, naming it, and leaves nothing half-read.
        var pair = new[] { new Visit("abc", 1, null), new Visit(null, 2, null) };
        pair[1] = pair[1] with { Channel = pair[0].Channel };
        var bytes = new byte[codec.GetByteCount(pair, 0, 2)];
        codec.Write(pair, 0, 2, bytes);
        ReadOnlySpan<byte> repeatOfFirst = [0xFE, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0]; // prefix -2, index 0
        int at = bytes.AsSpan().IndexOf(repeatOfFirst);
        Assert.True(at > 0);
        bytes[at + 4] = 1;
        var destination = new Visit[2];
        var error = Assert.Throws<InvalidDataException>(() => new BinaryColumnCodec<Visit>().Read(bytes, 0, bytes.Length, destination, 0, 2));
        Assert.Contains("a repeat of string 1 when 1 were read in full before it", error.Message, StringComparison.Ordinal);
        Assert.All(destination, Assert.Null);
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
