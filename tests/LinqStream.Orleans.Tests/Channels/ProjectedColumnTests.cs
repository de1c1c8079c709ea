using LinqStream.Orleans.Channels;
using LinqStream.Parallel;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Orleans.Tests.Channels;

/// <summary>A positional record: the constructor takes every member.</summary>
public sealed record Reading(long Sensor, string? Site, DateTime At, double Value)
{
    public double Doubled => Value * 2; // computed: not carried
}

/// <summary>
/// The binary column codec over a projection (issue #17, the projection below the exchange): only the members named cross, the values
/// read back have exactly those members and the others at their defaults (an initializer's value kept), and a frame is smaller by
/// exactly the members left out.
/// </summary>
public sealed class ProjectedColumnTests
{
    private static readonly DateTime Epoch = new(2026, 12, 5, 0, 0, 0, DateTimeKind.Utc);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Bids_ProjectedToTheAuction_CarryOnlyTheAuction(int seed)
    {
        var random = new Random(seed);
        var bids = new NexmarkGenerator().Bids(1_500).Select((b, i) => b with
        {
            Auction = (i % 5) switch { 0 => long.MaxValue, 1 => long.MinValue, _ => b.Auction },
            DateTime = Epoch.AddTicks(i / 4), // ties
        }).ToList();
        var codec = new BinaryColumnCodec<Bid>(["Auction"]);

        var received = BinaryColumnCodecTests.RoundTrip(bids, random, () => new BinaryColumnCodec<Bid>(["Auction"]), out var expected);

        Assert.Equal(expected.Count, received.Count);
        Assert.Equal(expected.Select(e => (e.Start, e.End, e.Payload.Auction)), received.Select(r => (r.Start, r.End, r.Payload.Auction)));
        Assert.All(received, r => Assert.Equal(new Bid { Auction = r.Payload.Auction }, r.Payload)); // the rest at the record's defaults ("" kept)
        Assert.Equal(bids.Count * (1 + 8), codec.GetByteCount([.. bids], 0, bids.Count)); // a presence byte and the long, nothing else
        Assert.True(new BinaryColumnCodec<Bid>().GetByteCount([.. bids], 0, bids.Count) > 5 * bids.Count * 9);
    }

    [Fact]
    public void PositionalRecord_Projected_ConstructorGetsDefaultsForTheRest_NullsStayNull()
    {
        var random = new Random(3);
        var readings = Enumerable.Range(0, 900).Select(i => i % 13 == 0 ? null! : new Reading(
            random.Next(4) == 0 ? long.MinValue + i : random.Next(50),
            random.Next(3) == 0 ? null : "site-" + random.Next(9),
            Epoch.AddSeconds(random.Next(100)),
            random.NextDouble())).ToList();

        var received = BinaryColumnCodecTests.RoundTrip(readings, random, () => new BinaryColumnCodec<Reading>(["Sensor", "At"]), out var expected);

        Assert.Equal(
            expected.Select(e => e.Payload is null ? null : new Reading(e.Payload.Sensor, null, e.Payload.At, 0)),
            received.Select(r => r.Payload));
        Assert.Contains(received, r => r.Payload is null);
    }

    [Fact]
    public void NoMember_CarriesOnlyThePresence()
    {
        var bids = new NexmarkGenerator().Bids(100).ToArray();
        var codec = new BinaryColumnCodec<Bid>([]);

        Assert.Equal(100, codec.GetByteCount(bids, 0, bids.Length));
        var back = new Bid[100];
        var bytes = new byte[100];
        codec.Write(bids, 0, 100, bytes);
        new BinaryColumnCodec<Bid>([]).Read(bytes, 0, 100, back, 0, 100);
        Assert.All(back, b => Assert.Equal(new Bid(), b));
    }

    [Fact]
    public void ComputedOrUnknownMember_IsRefusedNamingIt()
    {
        var computed = Assert.Throws<NotSupportedException>(() => new BinaryColumnCodec<Reading>(["Sensor", "Doubled"]));
        Assert.Contains("Reading.Doubled", computed.Message, StringComparison.Ordinal);
        var scalar = Assert.Throws<NotSupportedException>(() => new BinaryColumnCodec<long>(["Length"]));
        Assert.Contains("no members to project", scalar.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ForEvents_PicksTheProjectionOnlyWhenThePlanAndTheSubmissionAllow()
    {
        var auction = ExchangeProjection.Analyze(typeof(Bid), (System.Linq.Expressions.Expression<Func<Bid, long>>)(b => b.Auction), (System.Linq.Expressions.Expression<Func<IWindowGroup<long, Bid>, int>>)(g => g.Count()), null);
        var whole = ExchangeProjection.Whole(typeof(Bid), "'b' is used whole");

        var projected = ColumnCodecs.ForEvents<Bid>(auction, project: true, out var crosses, out var fallback);
        Assert.Equal(9, projected.GetByteCount([new Bid { Auction = 5, Channel = "x" }], 0, 1));
        Assert.StartsWith("Bid.Auction (1 of 7 members", crosses, StringComparison.Ordinal);
        Assert.Null(fallback);

        Assert.True(ColumnCodecs.ForEvents<Bid>(auction, project: false, out crosses, out _).GetByteCount([new Bid { Channel = "x" }], 0, 1) > 9);
        Assert.Contains("ProjectExchange is off", crosses, StringComparison.Ordinal);
        Assert.True(ColumnCodecs.ForEvents<Bid>(whole, project: true, out crosses, out _).GetByteCount([new Bid { Channel = "x" }], 0, 1) > 9);
        Assert.Equal("whole Bid events ('b' is used whole)", crosses);

        var computed = ExchangeProjection.Analyze(typeof(Reading), (System.Linq.Expressions.Expression<Func<Reading, long>>)(r => r.Sensor), (System.Linq.Expressions.Expression<Func<IWindowGroup<long, Reading>, double>>)(g => g.Max(r => r.Doubled)), null);
        Assert.IsType<BinaryColumnCodec<Reading>>(ColumnCodecs.ForEvents<Reading>(computed, project: true, out crosses, out _));
        Assert.Contains("Reading.Doubled is not a member the binary column codec carries", crosses, StringComparison.Ordinal);
        Assert.Equal(1 + 8 + 4 + 8 + 8, ColumnCodecs.ForEvents<Reading>(computed, project: true, out _, out _).GetByteCount([new Reading(1, null, Epoch, 2)], 0, 1)); // whole

        ColumnCodecs.ForEvents<BidColumnsForTest>(auction, project: true, out crosses, out _);
        Assert.Contains("one memory copy per column", crosses, StringComparison.Ordinal);
    }

    public readonly record struct BidColumnsForTest(long Auction, long Price);
}
