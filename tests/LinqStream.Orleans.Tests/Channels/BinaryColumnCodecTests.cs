using LinqStream.Orleans.Channels;
using LinqStream.Runtime;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Orleans.Tests.Channels;

public enum Side : short
{
    Buy = -3,
    Sell = 7,
}

public sealed record Leg(string? Venue, decimal Price, Side Side);

public readonly record struct Span2(TimeSpan Length, DateOnly Day, TimeOnly At);

/// <summary>Every kind of member the binary codec writes, nested and nullable.</summary>
public sealed record Wide(
    long Key,
    int I32,
    short I16,
    byte U8,
    sbyte I8,
    ushort U16,
    uint U32,
    ulong U64,
    bool Flag,
    char Letter,
    float F32,
    double F64,
    decimal Money,
    string? Text,
    DateTime When,
    DateTimeOffset WhenOffset,
    Guid Id,
    Side Side,
    int? MaybeInt,
    DateTime? MaybeWhen,
    Leg? Leg,
    Span2 Span,
    Span2? MaybeSpan)
{
    public string? Note { get; init; }

    public long Computed => Key ^ I32; // no backing field: not written, computed again
}

/// <summary>A plain class with a parameterless constructor and setters (not a record).</summary>
public sealed class Settable
{
    public long Auction { get; set; }

    public string Name { get; set; } = "";

    public Guid? Tag { get; set; }

#pragma warning disable CA1051 // a public field on purpose: the codec writes fields too
    public int Count;
#pragma warning restore CA1051
}

/// <summary>A struct with a constructor taking some members and a settable rest, and a reference in it (not blittable).</summary>
public struct Mixed
{
    public Mixed(long key, string? label)
    {
        Key = key;
        Label = label;
    }

    public long Key { get; }

    public string? Label { get; }

    public double Weight { get; set; }
}

public sealed record WithArray(long Key, int[] Tags);

public sealed record Node(long Value, Node? Next);

public sealed class HiddenState(long key)
{
    private readonly long _secret = key * 2;

    public long Key { get; set; } = key;

    public long Twice => _secret;
}

public sealed class PrivateSetter
{
    public long Key { get; private set; }
}

public sealed class BinaryColumnCodecTests
{
    private static readonly DateTime Epoch = new(2026, 12, 4, 0, 0, 0, DateTimeKind.Utc);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Encode_RandomWideRecordsWithNullsAndFilteredOutEvents_RoundTripsTheLiveOnesEqual(int seed)
    {
        var random = new Random(seed);
        var values = Enumerable.Range(0, 700).Select(i => RandomWide(random, i)).ToList();

        var received = RoundTrip(values, random, out var expected);

        Assert.IsType<BinaryColumnCodec<Wide>>(ColumnCodecs.For<Wide>());
        Assert.Equal(expected, received);
        Assert.Contains(received, r => r.Payload.Text is null);
        Assert.Contains(received, r => r.Payload.Text == "");
        Assert.Contains(received, r => r.Payload.Leg is null);
        Assert.Contains(received, r => r.Payload.MaybeSpan is null);
    }

    [Fact]
    public void Encode_NexmarkBidsWithHugeKeysAndNonAsciiStrings_RoundTripEqual()
    {
        var random = new Random(11);
        var bids = new NexmarkGenerator().Bids(2_000).Select((b, i) => b with
        {
            Auction = (i % 3) switch { 0 => long.MaxValue, 1 => long.MinValue, _ => b.Auction },
            Channel = (i % 4) switch { 0 => "", 1 => "chännel-✓-" + i, 2 => "😀 \ud83d", _ => b.Channel }, // the last one ends in a lone surrogate
            DateTime = Epoch.AddTicks(i / 3), // ties
        }).ToList();

        var received = RoundTrip(bids, random, out var expected);

        Assert.IsType<BinaryColumnCodec<Bid>>(ColumnCodecs.For<Bid>());
        Assert.Equal(expected, received);
    }

    [Fact]
    public void Encode_AnonymousTypesPlainClassesStructsAndScalars_RoundTripEqual()
    {
        var random = new Random(5);
        var anonymous = Enumerable.Range(0, 300).Select(i => new { Auction = random.NextInt64(long.MinValue, long.MaxValue), Bids = i, Start = Epoch.AddSeconds(i), End = (DateTime?)null }).ToList();
        Assert.Equal(ExpectedOf(anonymous, new Random(1)), RoundTrip(anonymous, new Random(1), out _));

        var settable = Enumerable.Range(0, 300).Select(i => new Settable { Auction = -i, Name = i % 2 == 0 ? "ü" + i : "", Tag = i % 3 == 0 ? null : Guid.NewGuid(), Count = i * 7 }).ToList();
        var settableBack = RoundTrip(settable, new Random(2), out var settableExpected);
        Assert.Equal(
            settableExpected.Select(e => (e.Start, e.End, e.Payload.Auction, e.Payload.Name, e.Payload.Tag, e.Payload.Count)),
            settableBack.Select(e => (e.Start, e.End, e.Payload.Auction, e.Payload.Name, e.Payload.Tag, e.Payload.Count)));

        var mixed = Enumerable.Range(0, 300).Select(i => new Mixed(long.MaxValue - i, i % 5 == 0 ? null : "l" + i) { Weight = i / 3.0 }).ToList();
        var mixedBack = RoundTrip(mixed, new Random(3), out var mixedExpected);
        Assert.Equal(
            mixedExpected.Select(e => (e.Start, e.End, e.Payload.Key, e.Payload.Label, e.Payload.Weight)),
            mixedBack.Select(e => (e.Start, e.End, e.Payload.Key, e.Payload.Label, e.Payload.Weight)));

        var strings = Enumerable.Range(0, 300).Select(i => (i % 4) switch { 0 => null, 1 => "", 2 => new string('ß', i), _ => "x" + i }).ToList();
        Assert.Equal(ExpectedOf(strings, new Random(4)), RoundTrip(strings, new Random(4), out _));

        var maybe = Enumerable.Range(0, 300).Select(i => i % 3 == 0 ? (long?)null : long.MinValue + i).ToList();
        Assert.IsType<BinaryColumnCodec<long?>>(ColumnCodecs.For<long?>());
        Assert.Equal(ExpectedOf(maybe, new Random(6)), RoundTrip(maybe, new Random(6), out _));

        var hot = Enumerable.Range(0, 300).Select(i => new HotItem(i * 1_000_000_007L, i, new DateTimeOffset(Epoch).ToOffset(TimeSpan.FromHours(i % 5)), DateTimeOffset.MaxValue)).ToList();
        Assert.Equal(ExpectedOf(hot, new Random(7)), RoundTrip(hot, new Random(7), out _));
    }

    [Fact]
    public void For_UnsupportedShapes_FallsBackToJsonNamingTheTypeAndTheMember()
    {
        AssertRefused<WithArray>("WithArray.Tags", "array");
        AssertRefused<Node>("Node.Next", "recursive");
        AssertRefused<HiddenState>("_secret", "neither public nor behind a public property");
        AssertRefused<PrivateSetter>("PrivateSetter.Key", "could not be restored");
        AssertRefused<object>("Object", "object");

        // The fallback still carries them (as JSON).
        var batch = new EventBatch<WithArray>(4);
        batch.Add(1, 2, new WithArray(long.MaxValue, [1, 2, 3]));
        var codec = ColumnCodecs.For<WithArray>(out var reason);
        var received = new EventBatch<WithArray>(4);
        new EventBatchCodec<WithArray>(codec).Decode("c", new EventBatchCodec<WithArray>(codec).Encode(batch), received);
        Assert.IsType<StateColumnCodec<WithArray>>(codec);
        Assert.Contains("cross silos as JSON", reason, StringComparison.Ordinal);
        Assert.Equal(Enumerable.Range(1, 3), received.Payload[0].Tags);
    }

    [Fact]
    public void For_SupportedAndUnmanagedTypes_NeedNoFallback()
    {
        ColumnCodecs.For<Wide>(out var wide);
        ColumnCodecs.For<Bid>(out var bid);
        ColumnCodecs.For<Item>(out var item);
        Assert.Null(wide);
        Assert.Null(bid);
        Assert.Null(item);
        Assert.Same(BlittableColumnCodec<Item>.Instance, ColumnCodecs.For<Item>());
    }

    [Fact]
    public void Decode_FrameCutAnywhere_FailsNamingTheChannelTheFrameAndTheTypeAndLeavesNoHalfValue()
    {
        var random = new Random(9);
        var batch = new EventBatch<Wide>(16);
        for (int i = 0; i < 16; i++)
        {
            batch.Add(i, i + 1, RandomWide(random, i));
        }

        var frame = new EventBatchCodec<Wide>(ColumnCodecs.For<Wide>()).Encode(batch);
        frame.Sequence = 41;
        frame.Epoch = 3;
        int times = 2 * 16 * sizeof(long);
        var whole = frame.Columns!.Span.ToArray();
        var decoder = new EventBatchCodec<Wide>(ColumnCodecs.For<Wide>());
        for (int cut = times; cut < whole.Length; cut++)
        {
            frame.Columns = FrameColumns.Of(whole.AsSpan(0, cut));
            var received = new EventBatch<Wide>(16);
            var error = Assert.Throws<InvalidDataException>(() => decoder.Decode("job/3/task-2/source", frame, received));

            Assert.Contains("'job/3/task-2/source'", error.Message, StringComparison.Ordinal);
            Assert.Contains("frame 41 of epoch 3", error.Message, StringComparison.Ordinal);
            Assert.Contains("values of Wide", error.Message, StringComparison.Ordinal);
            Assert.Equal(0, received.Count);
            Assert.All(received.Payload, p => Assert.Null(p));
        }

        frame.Columns = FrameColumns.Of([.. whole, 0]);
        var extra = Assert.Throws<InvalidDataException>(() => decoder.Decode("c", frame, new EventBatch<Wide>(16)));
        Assert.Contains($"took {whole.Length - times} of the column's {whole.Length - times + 1} bytes", extra.Message, StringComparison.Ordinal);

        frame.Columns = FrameColumns.Of(whole);
        var back = new EventBatch<Wide>(16);
        decoder.Decode("c", frame, back); // the decoder is still good after the failures
        Assert.Equal(batch.Payload, back.Payload);
    }

    [Fact]
    public void Decode_FlagThatNoWriterWrites_FailsSayingWhere()
    {
        var batch = new EventBatch<long?>(2);
        batch.Add(1, 2, 5);
        var frame = new EventBatchCodec<long?>(ColumnCodecs.For<long?>()).Encode(batch);
        frame.Columns!.Writable[16] = 7; // the presence flag after the two time columns

        var error = Assert.Throws<InvalidDataException>(() => new EventBatchCodec<long?>(ColumnCodecs.For<long?>()).Decode("c", frame, new EventBatch<long?>(2)));

        Assert.Contains("a presence flag of 7 at byte 0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Encode_WarmCodecAndPool_AllocatesNoArray()
    {
        var bids = new NexmarkGenerator().Bids(1_024);
        var batch = new EventBatch<Bid>(1_024);
        foreach (var bid in bids)
        {
            batch.Add(bid.DateTime.Ticks, bid.DateTime.Ticks + 1, bid);
        }

        var codec = new EventBatchCodec<Bid>(ColumnCodecs.For<Bid>());
        codec.Encode(batch).Release();
        codec.Encode(batch).Release(); // warm: the codec's buffer has grown to a batch, the pool holds an array of the frame's size

        long before = GC.GetAllocatedBytesForCurrentThread();
        var frame = codec.Encode(batch);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // The frame object and its columns' holder; the bytes are in an array from the pool, and nothing per event (1,024 events
        // would be at least 24 KB more, the frame's own array as much as its bytes).
        Assert.True(frame.Columns!.Length > 24 * 1024, $"{frame.Columns.Length} bytes");
        Assert.InRange(allocated, 1, 512);
        frame.Release();
        Assert.True(frame.Columns.IsReturned);
        Assert.Throws<ObjectDisposedException>(() => frame.Columns.Span.Length);
    }

    private static void AssertRefused<T>(string member, string reason)
    {
        var error = Assert.Throws<NotSupportedException>(() => new BinaryColumnCodec<T>());
        Assert.Contains(member, error.Message, StringComparison.Ordinal);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.IsType<StateColumnCodec<T>>(ColumnCodecs.For<T>(out var fallback));
        Assert.Contains(typeof(T).FullName!, fallback, StringComparison.Ordinal);
        Assert.Contains(member, fallback, StringComparison.Ordinal);
    }

    /// <summary>The values in batches of 1-64 events with about a quarter filtered out, through a frame each, decoded by another codec.</summary>
    private static List<(long Start, long End, T Payload)> RoundTrip<T>(List<T> values, Random random, out List<(long Start, long End, T Payload)> expected) =>
        RoundTrip(values, random, ColumnCodecs.For<T>, out expected);

    /// <summary>As above, with the codecs <paramref name="codec"/> makes (one for each end).</summary>
    internal static List<(long Start, long End, T Payload)> RoundTrip<T>(List<T> values, Random random, Func<IColumnCodec<T>> codec, out List<(long Start, long End, T Payload)> expected)
    {
        var encoder = new EventBatchCodec<T>(codec());
        var decoder = new EventBatchCodec<T>(codec());
        expected = [];
        var received = new List<(long, long, T)>();
        int at = 0;
        while (at < values.Count)
        {
            int size = Math.Min(values.Count - at, random.Next(1, 65));
            var batch = new EventBatch<T>(64);
            for (int i = 0; i < size; i++)
            {
                long start = (at + i) / 3; // ties
                batch.Add(start, i % 7 == 0 ? long.MaxValue : start + 10, values[at + i]);
                if (random.Next(4) == 0)
                {
                    batch.SetAbsent(i);
                }
                else
                {
                    expected.Add((start, batch.End[i], values[at + i]));
                }
            }

            var back = new EventBatch<T>(64);
            decoder.Decode("c", encoder.Encode(batch), back);
            for (int i = 0; i < back.Count; i++)
            {
                received.Add((back.Start[i], back.End[i], back.Payload[i]));
            }

            at += size;
        }

        return received;
    }

    private static List<(long Start, long End, T Payload)> ExpectedOf<T>(List<T> values, Random random)
    {
        RoundTrip(values, random, out var expected);
        return expected;
    }

    private static Wide RandomWide(Random random, int i)
    {
        string? Text() => random.Next(6) switch
        {
            0 => null,
            1 => "",
            2 => "Zürich ☃ 東京 " + i,
            3 => "\udc00 lone " + i, // a lone low surrogate
            4 => new string('a', random.Next(0, 300)),
            _ => "plain-" + i,
        };

        var kinds = new[] { DateTimeKind.Utc, DateTimeKind.Local, DateTimeKind.Unspecified };
        return new Wide(
            Key: random.Next(4) switch { 0 => long.MinValue, 1 => long.MaxValue, _ => random.NextInt64(long.MinValue, long.MaxValue) },
            I32: random.Next(int.MinValue, int.MaxValue),
            I16: (short)random.Next(short.MinValue, short.MaxValue + 1),
            U8: (byte)random.Next(256),
            I8: (sbyte)random.Next(-128, 128),
            U16: (ushort)random.Next(ushort.MaxValue + 1),
            U32: (uint)random.NextInt64(uint.MaxValue + 1L),
            U64: (ulong)random.NextInt64(long.MinValue, long.MaxValue),
            Flag: random.Next(2) == 0,
            Letter: (char)random.Next(0x20, 0xD7FF),
            F32: random.Next(8) == 0 ? float.NaN : (float)random.NextDouble(),
            F64: random.Next(8) == 0 ? double.NegativeInfinity : (random.NextDouble() - 0.5) * 1e300,
            Money: random.Next(5) == 0 ? decimal.MaxValue : new decimal(random.Next(), random.Next(), random.Next(), random.Next(2) == 0, (byte)random.Next(29)),
            Text: Text(),
            When: new DateTime(random.NextInt64(DateTime.MinValue.Ticks, DateTime.MaxValue.Ticks), kinds[random.Next(3)]),
            WhenOffset: new DateTimeOffset(Epoch.AddMinutes(random.Next(-1_000_000, 1_000_000)).Ticks, TimeSpan.FromMinutes(random.Next(-14 * 60, (14 * 60) + 1))),
            Id: random.Next(5) == 0 ? Guid.Empty : new Guid(random.Next(), (short)random.Next(), (short)random.Next(), (byte)random.Next(256), 1, 2, 3, 4, 5, 6, 7),
            Side: random.Next(2) == 0 ? Side.Buy : Side.Sell,
            MaybeInt: random.Next(3) == 0 ? null : random.Next(),
            MaybeWhen: random.Next(3) == 0 ? null : Epoch.AddTicks(random.NextInt64(1_000_000_000)),
            Leg: random.Next(3) == 0 ? null : new Leg(Text(), random.Next(3) == 0 ? -0.0001m : random.Next(), random.Next(2) == 0 ? Side.Buy : (Side)12345),
            Span: new Span2(TimeSpan.FromTicks(random.NextInt64(long.MinValue, long.MaxValue)), DateOnly.FromDayNumber(random.Next(DateOnly.MaxValue.DayNumber + 1)), new TimeOnly(random.NextInt64(TimeOnly.MaxValue.Ticks + 1))),
            MaybeSpan: random.Next(2) == 0 ? null : new Span2(TimeSpan.MinValue, DateOnly.MinValue, TimeOnly.MaxValue))
        {
            Note = Text(),
        };
    }
}
