using LinqStream.Conformance.Tests.Infrastructure;
using LinqStream.Testing;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Conformance.Tests.Windows;

/// <summary>Window edges: Unix-epoch alignment (odd sizes, times before 1970), null keys, empty and one-event inputs.</summary>
public sealed class WindowEdgeTests
{
    public static TheoryData<ExecutionMode> Modes => [.. ExecutionMode.All];

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task TumblingWindow_SevenSeconds_IsAlignedToTheUnixEpoch(ExecutionMode mode)
    {
        var size = TimeSpan.FromSeconds(7);
        var bids = NexmarkData.Get(20_000, TimeSpan.Zero).Bids;
        var query = QStream.From(bids, b => b.DateTime).TumblingWindow(size).Select(w => new { N = w.Count(), w.Window.Start }).WithOptions(mode.Options);

        var actual = await query.ToStreamEvents().ToListAsync();

        var expected = ReferenceWindows.Fixed(bids.Select(b => (b.DateTime.Ticks, b)), size.Ticks, size.Ticks, b => 0, w => new { N = w.Count(), w.Window.Start })
            .Select(r => Run.Event(r.Start, r.End, r.Result)).ToList();
        Assert.All(expected, e => Assert.Equal(0, (e.Start - DateTime.UnixEpoch.Ticks) % size.Ticks));
        Run.AssertEquivalent(expected, actual);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task HoppingWindow_EventsBefore1970_AreFlooredNotTruncated(ExecutionMode mode)
    {
        var size = TimeSpan.FromSeconds(3);
        var hop = TimeSpan.FromSeconds(2);
        var bids = new NexmarkGenerator(new NexmarkConfig { FirstEventRate = 1000, BaseTime = new DateTime(1969, 12, 31, 23, 59, 50, DateTimeKind.Utc) }).Bids(15_000);
        var query =
            from b in QStream.From(bids, b => b.DateTime).HoppingWindow(size, hop)
            group b by b.Auction % 3 into g
            select new { g.Key, N = g.Count() };

        var actual = await query.WithOptions(mode.Options).ToStreamEvents().ToListAsync();

        var expected = ReferenceWindows.Fixed(bids.Select(b => (b.DateTime.Ticks, b)), size.Ticks, hop.Ticks, b => b.Auction % 3, g => new { g.Key, N = g.Count() })
            .Select(r => Run.Event(r.Start, r.End, r.Result)).ToList();
        Assert.Contains(expected, e => e.Start < DateTime.UnixEpoch.Ticks && e.End > DateTime.UnixEpoch.Ticks);
        Run.AssertEquivalent(expected, actual);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task GroupBy_NullKeys_FormTheirOwnGroup(ExecutionMode mode)
    {
        var size = TimeSpan.FromSeconds(2);
        var bids = NexmarkData.Get(10_000, TimeSpan.Zero).Bids;
        var query =
            from b in QStream.From(bids, b => b.DateTime).TumblingWindow(size)
            group b by b.Price > 10_000 ? b.Channel : null into g
            select new { g.Key, N = g.Count() };

        var actual = await query.WithOptions(mode.Options).ToStreamEvents().ToListAsync();

        var expected = ReferenceWindows.Fixed(bids.Select(b => (b.DateTime.Ticks, b)), size.Ticks, size.Ticks, b => b.Price > 10_000 ? b.Channel : null, g => new { g.Key, N = g.Count() })
            .Select(r => Run.Event(r.Start, r.End, r.Result)).ToList();
        Assert.Contains(expected, e => e.Payload.Key is null);
        Run.AssertEquivalent(expected, actual);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Join_CompositeAnonymousKey_MatchesOnEveryPart(ExecutionMode mode)
    {
        var data = NexmarkData.Get(20_000, TimeSpan.Zero);
        var query =
            from a in QStream.From(data.Auctions, a => a.DateTime).WithLifetime(a => a.DateTime, a => a.Expires)
            join b in QStream.From(data.Bids, b => b.DateTime) on new { a.Id, Parity = a.Seller % 2 } equals new { Id = b.Auction, Parity = b.Bidder % 2 }
            select new { a.Id, b.Bidder, b.Price };

        var actual = await query.WithOptions(mode.Options).ToStreamEvents().ToListAsync();

        var expected =
            (from a in data.Auctions
             join b in data.Bids on new { a.Id, Parity = a.Seller % 2 } equals new { Id = b.Auction, Parity = b.Bidder % 2 }
             where a.DateTime <= b.DateTime && b.DateTime < a.Expires
             select Run.Point(b.DateTime, new { a.Id, b.Bidder, b.Price })).ToList();
        Assert.NotEmpty(expected);
        Run.AssertEquivalent(expected, actual);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public async Task NexmarkPipelines_EmptyOrOneEventInputs_GiveTheOracleAnswer(int count)
    {
        var bids = NexmarkData.Get(10_000, TimeSpan.Zero).Bids.Take(count).ToArray();
        var stream = QStream.From(bids, b => b.DateTime);
        var size = TimeSpan.FromSeconds(10);
        var maxima = stream.TumblingWindow(size).Select(w => new { Max = w.Max(b => b.Price), Start = w.Window.StartTicks });
        var q7 =
            from b in stream.TumblingWindow(size)
            join m in maxima on b.Price equals m.Max
            select new { b.Bidder, b.Price, m.Start };
        var sessions =
            from b in QStream.From(bids, b => b.DateTime).SessionWindow(size)
            group b by b.Bidder into g
            select new { g.Key, N = g.Count() };

        var highest = await q7.WithOptions(new QueryOptions { Strict = true }).ToListAsync();
        var perSession = await sessions.WithOptions(new QueryOptions { Strict = true }).ToListAsync();

        Assert.Equal(bids.Select(b => new { b.Bidder, b.Price, Start = ReferenceWindows.WindowStart(b.DateTime.Ticks, size.Ticks) }), highest);
        Assert.Equal(bids.Select(b => new { Key = b.Bidder, N = 1 }), perSession);
    }
}
