using LinqStream.Conformance.Tests.Infrastructure;
using LinqStream.Testing;

namespace LinqStream.Conformance.Tests.Windows;

/// <summary>Every incremental aggregate, with filters and projections inside the group, against LINQ over the materialized window.</summary>
public sealed class WindowAggregateTests
{
    [Theory]
    [MemberData(nameof(Matrix.All), MemberType = typeof(Matrix))]
    public async Task GroupAggregates_HoppingWindowNotAMultipleOfTheHop_MatchLinqOverEachGroup(Scenario scenario)
    {
        var size = TimeSpan.FromSeconds(5);
        var hop = TimeSpan.FromSeconds(2);
        var sources = new Sources(NexmarkData.Get(20_000, scenario), scenario);
        var query =
            from b in sources.Bids.HoppingWindow(size, hop)
            group b by b.Auction % 7 into g
            select new
            {
                Key = g.Key,
                Count = g.Count(),
                LongCount = g.LongCount(),
                Expensive = g.Count(b => b.Price > 10_000),
                ExpensiveViaWhere = g.Where(b => b.Price > 10_000).LongCount(),
                Sum = g.Sum(b => b.Price),
                SumOfSelected = g.Select(b => b.Bidder).Sum(),
                Min = g.Min(b => b.Price),
                Max = g.Max(b => b.Price),
                MinChannel = g.Min(b => b.Channel),
                Average = g.Average(b => b.Price),
                AnyHuge = g.Any(b => b.Price > 95_000_000),
                AllAbove100 = g.All(b => b.Price >= 100),
                Range = g.Select(b => b.Price).Aggregate(new PriceRange()),
                g.Window.Start,
                g.Window.End,
            };

        var actual = await Run.EventsAsync(query, scenario, sources);

        var expected = ReferenceWindows.Fixed(sources.Data.Bids.Select(b => (b.DateTime.Ticks, b)), size.Ticks, hop.Ticks, b => b.Auction % 7,
                g => new
                {
                    Key = g.Key,
                    Count = g.Count(),
                    LongCount = g.LongCount(),
                    Expensive = g.Count(b => b.Price > 10_000),
                    ExpensiveViaWhere = g.Where(b => b.Price > 10_000).LongCount(),
                    Sum = g.Sum(b => b.Price),
                    SumOfSelected = g.Select(b => b.Bidder).Sum(),
                    Min = g.Min(b => b.Price),
                    Max = g.Max(b => b.Price),
                    MinChannel = g.Min(b => b.Channel),
                    Average = g.Average(b => b.Price),
                    AnyHuge = g.Any(b => b.Price > 95_000_000),
                    AllAbove100 = g.All(b => b.Price >= 100),
                    Range = g.Select(b => b.Price).Aggregate(new PriceRange()),
                    g.Window.Start,
                    g.Window.End,
                })
            .Select(r => Run.Event(r.Start, r.End, r.Result))
            .ToList();
        Assert.Contains(expected, e => e.Payload.AnyHuge);
        Assert.Contains(expected, e => !e.Payload.AnyHuge);
        Run.AssertEquivalent(expected, actual);
    }

    [Theory]
    [MemberData(nameof(Matrix.All), MemberType = typeof(Matrix))]
    public async Task WholeWindowAggregates_Tumbling_MatchLinqOverEachWindow(Scenario scenario)
    {
        var size = TimeSpan.FromSeconds(3);
        var sources = new Sources(NexmarkData.Get(20_000, scenario), scenario);
        var query = sources.Bids.TumblingWindow(size).Select(w => new
        {
            Count = w.Count(),
            Sum = w.Sum(b => b.Price),
            Half = w.Sum(b => b.Price * 0.5),
            Average = w.Average(b => b.Price),
            Bidders = w.Select(b => b.Bidder).Distinct().Count(),
            Cheapest = w.OrderBy(b => b.Price).Take(1).Select(b => b.Price).Sum(),
        });

        var actual = await Run.EventsAsync(query, scenario, sources);

        var expected = ReferenceWindows.Fixed(sources.Data.Bids.Select(b => (b.DateTime.Ticks, b)), size.Ticks, size.Ticks, b => 0,
                w => new
                {
                    Count = w.Count(),
                    Sum = w.Sum(b => b.Price),
                    Half = w.Sum(b => b.Price * 0.5),
                    Average = w.Average(b => b.Price),
                    Bidders = w.Select(b => b.Bidder).Distinct().Count(),
                    Cheapest = w.OrderBy(b => b.Price).Take(1).Select(b => b.Price).Sum(),
                })
            .Select(r => Run.Event(r.Start, r.End, r.Result))
            .ToList();
        Run.AssertEquivalent(expected, actual);
    }

    [Theory]
    [MemberData(nameof(Matrix.All), MemberType = typeof(Matrix))]
    public async Task Having_WhereOnGroups_KeepsOnlyTheGroupsThatPass(Scenario scenario)
    {
        var size = TimeSpan.FromSeconds(2);
        var sources = new Sources(NexmarkData.Get(20_000, scenario), scenario);
        var query =
            from b in sources.Bids.TumblingWindow(size)
            group b by b.Auction into g
            where g.Count() >= 5 && g.Max(b => b.Price) > 1000
            select new { Auction = g.Key, Bids = g.Count() };

        var actual = await Run.EventsAsync(query, scenario, sources);

        var expected = ReferenceWindows.Fixed(sources.Data.Bids.Select(b => (b.DateTime.Ticks, b)), size.Ticks, size.Ticks, b => b.Auction,
                g => (Keep: g.Count() >= 5 && g.Max(b => b.Price) > 1000, Result: new { Auction = g.Key, Bids = g.Count() }))
            .Where(r => r.Result.Keep)
            .Select(r => Run.Event(r.Start, r.End, r.Result.Result))
            .ToList();
        Assert.NotEmpty(expected);
        Run.AssertEquivalent(expected, actual);
    }

    [Theory]
    [MemberData(nameof(Matrix.All), MemberType = typeof(Matrix))]
    public async Task SessionWindow_WholeStream_CountsEachQuietSeparatedBurst(Scenario scenario)
    {
        var gap = TimeSpan.FromMilliseconds(30);
        var sources = new Sources(NexmarkData.Get(20_000, scenario), scenario);
        var query = sources.Auctions.SessionWindow(gap).Select(w => new { Auctions = w.Count(), w.Window.Start, w.Window.End });

        var actual = await Run.EventsAsync(query, scenario, sources);

        var expected = ReferenceWindows.Sessions(sources.Data.Auctions.Select(a => (a.DateTime.Ticks, a)), gap.Ticks, 0, a => 0,
                w => new { Auctions = w.Count(), w.Window.Start, w.Window.End })
            .Select(s => Run.Event(s.End - 1, s.End, s.Result))
            .ToList();
        Assert.True(expected.Count > 10, "The gap should split the auctions into many sessions.");
        Run.AssertEquivalent(expected, actual);
    }

    [Theory]
    [MemberData(nameof(Matrix.All), MemberType = typeof(Matrix))]
    public async Task ToPointEvents_AfterWindowAggregate_RewindowsResultsByTheirStart(Scenario scenario)
    {
        var small = TimeSpan.FromSeconds(1);
        var large = TimeSpan.FromSeconds(5);
        var sources = new Sources(NexmarkData.Get(20_000, scenario), scenario);
        var perSecond =
            from b in sources.Bids.TumblingWindow(small)
            group b by b.Auction into g
            select new { Auction = g.Key, Bids = g.Count() };
        var query =
            from c in perSecond.ToPointEvents().TumblingWindow(large)
            group c by c.Auction into g
            select new { Auction = g.Key, Seconds = g.Count(), Bids = g.Sum(c => c.Bids), Peak = g.Max(c => c.Bids) };

        var actual = await Run.EventsAsync(query, scenario, sources);

        var bids = sources.Data.Bids.Select(b => (b.DateTime.Ticks, b));
        var seconds = ReferenceWindows.Fixed(bids, small.Ticks, small.Ticks, b => b.Auction, g => new { Auction = g.Key, Bids = g.Count() });
        var expected = ReferenceWindows.Fixed(seconds.Select(s => (s.Start, s.Result)), large.Ticks, large.Ticks, c => c.Auction,
                g => new { Auction = g.Key, Seconds = g.Count(), Bids = g.Sum(c => c.Bids), Peak = g.Max(c => c.Bids) })
            .Select(r => Run.Event(r.Start, r.End, r.Result))
            .ToList();
        Run.AssertEquivalent(expected, actual);
    }

    /// <summary>A user aggregate: the spread between the highest and the lowest value.</summary>
    public sealed class PriceRange : IAggregate<long, (long Min, long Max), long>
    {
        public (long Min, long Max) Initial() => (long.MaxValue, long.MinValue);

        public (long Min, long Max) Add((long Min, long Max) state, long input) => (Math.Min(state.Min, input), Math.Max(state.Max, input));

        public long Result((long Min, long Max) state) => state.Max - state.Min;
    }
}
