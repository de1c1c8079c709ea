using LinqStream.Testing;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Cli.Tests.Docs;

/// <summary>
/// Every example of docs/queries.md, compiled against the current API and run on NEXMark data (strict mode: no buffering
/// fallback). <see cref="DocsCodeBlocksTests"/> checks that each line of the page's C# blocks appears in this folder.
/// </summary>
public sealed class QueriesDocExamples
{
    private static readonly Bid[] s_bids = DocsData.Bids;

    [Fact]
    public async Task Streams_AsDeclaredOnThePage_ReadEveryEvent()
    {
        var (bidArray, auctionArray, personArray) = (DocsData.Bids, DocsData.Auctions, DocsData.People);

        IQStream<Bid> bids         = QStream.From(bidArray, b => b.DateTime);
        IQStream<Auction> auctions = QStream.From(auctionArray, a => a.DateTime);
        IQStream<Person> people    = QStream.From(personArray, p => p.DateTime);

        Assert.Equal(bidArray.Length, (await bids.ToListAsync()).Count);
        Assert.Equal(auctionArray.Length, (await auctions.ToListAsync()).Count);
        Assert.Equal(personArray.Length, (await people.ToListAsync()).Count);
    }

    [Fact]
    public async Task FilterProject_MatchesLinqToObjects()
    {
        var (bids, _, _) = DocsData.Streams();

        var expensive =
            from b in bids
            where b.Price > 1_000_000
            select new { b.Auction, b.Bidder, Euros = b.Price * 0.908m };

        var expected = s_bids.Where(b => b.Price > 1_000_000).Select(b => new { b.Auction, b.Bidder, Euros = b.Price * 0.908m });
        Assert.Equal(expected, await expensive.ToListAsync());
    }

    [Fact]
    public async Task TumblingGroupBy_MatchesReference()
    {
        var (bids, _, _) = DocsData.Streams();

        var perAuction =
            from b in bids.TumblingWindow(TimeSpan.FromSeconds(10))
            group b by b.Auction into g
            select new
            {
                Auction = g.Key,
                Bids = g.Count(),
                Total = g.Sum(b => b.Price),
                Average = g.Average(b => b.Price),
                Highest = g.Max(b => b.Price),
                BigBids = g.Count(b => b.Price > 1_000_000),
                AnyHuge = g.Any(b => b.Price > 50_000_000),
                g.Window.Start,
                g.Window.End,
            };

        var actual = await perAuction.ToListAsync();
        var expected = ReferenceWindows.Fixed(
            s_bids.Select(b => (b.DateTime.Ticks, b)), DocsData.Ticks(TimeSpan.FromSeconds(10)), DocsData.Ticks(TimeSpan.FromSeconds(10)), b => b.Auction,
            g => new { Auction = g.Key, Bids = g.Count(), Total = g.Sum(b => b.Price), Average = g.Average(b => b.Price), Highest = g.Max(b => b.Price), BigBids = g.Count(b => b.Price > 1_000_000), AnyHuge = g.Any(b => b.Price > 50_000_000), g.Window.Start, g.Window.End })
            .Select(r => r.Result);
        Assert.Equal(expected.OrderBy(r => r.End).ThenBy(r => r.Auction), actual.OrderBy(r => r.End).ThenBy(r => r.Auction));
    }

    [Fact]
    public async Task TopThreePerAuction_SelectManyOverTheGroup_MatchesReference()
    {
        var (bids, _, _) = DocsData.Streams();

        var query =
from g in bids.TumblingWindow(TimeSpan.FromSeconds(10)).GroupBy(b => b.Auction)
from top in g.OrderByDescending(b => b.Price).Take(3)
select new { g.Key, top.Bidder, top.Price };

        var actual = await query.ToListAsync();
        var expected = ReferenceWindows.Fixed(
            s_bids.Select(b => (b.DateTime.Ticks, b)), DocsData.Ticks(TimeSpan.FromSeconds(10)), DocsData.Ticks(TimeSpan.FromSeconds(10)), b => b.Auction,
            g => g.OrderByDescending(b => b.Price).Take(3).Select(top => new { g.Key, top.Bidder, top.Price }).ToList())
            .SelectMany(r => r.Result);
        Assert.NotEmpty(actual);
        Assert.Equal(expected.OrderBy(r => r.Key).ThenBy(r => r.Price).ThenBy(r => r.Bidder), actual.OrderBy(r => r.Key).ThenBy(r => r.Price).ThenBy(r => r.Bidder));
    }

    [Fact]
    public async Task ElementSelectorAndFold_MatchReference()
    {
        var (bids, _, _) = DocsData.Streams();

        var query =
            from b in bids.TumblingWindow(TimeSpan.FromSeconds(10))
            group b.Price by b.Auction into g
            select new { g.Key, Total = g.Sum(), Highest = g.Max(), Big = g.Count(p => p > 10), Last = g.Aggregate((a, p) => p), Spread = g.Aggregate(0L, (s, p) => s + (p % 7)) };

        var actual = await query.ToListAsync();
        var reference = s_bids.GroupBy(b => (ReferenceWindows.WindowStart(b.DateTime.Ticks, DocsData.Ticks(TimeSpan.FromSeconds(10))), b.Auction), b => b.Price)
            .Select(g => new { Key = g.Key.Auction, Total = g.Sum(), Highest = g.Max(), Big = g.Count(p => p > 10), Last = g.Aggregate((a, p) => p), Spread = g.Aggregate(0L, (s, p) => s + (p % 7)) })
            .OrderBy(r => r.Key).ThenBy(r => r.Total).ToList();
        Assert.NotEmpty(reference);
        Assert.Equal(reference, actual.OrderBy(r => r.Key).ThenBy(r => r.Total).ToList());
    }

    [Fact]
    public async Task HoppingGroupBy_GivesOneResultPerWindowAndAuction()
    {
        var (bids, _, _) = DocsData.Streams();

        var hot =
            from b in bids.HoppingWindow(size: TimeSpan.FromSeconds(10), hop: TimeSpan.FromSeconds(2))
            group b by b.Auction into g
            select new { Auction = g.Key, Bids = g.Count(), g.Window.Start, g.Window.End };

        var actual = await hot.ToListAsync();
        var expected = ReferenceWindows.Fixed(
            s_bids.Select(b => (b.DateTime.Ticks, b)), DocsData.Ticks(TimeSpan.FromSeconds(10)), DocsData.Ticks(TimeSpan.FromSeconds(2)), b => b.Auction,
            g => new { Auction = g.Key, Bids = g.Count(), g.Window.Start, g.Window.End }).Select(r => r.Result);
        Assert.Equal(expected.OrderBy(r => r.End).ThenBy(r => r.Auction), actual.OrderBy(r => r.End).ThenBy(r => r.Auction));
        Assert.Equal(actual.Select(r => r.End).Order(), actual.Select(r => r.End)); // results come out in order of window end
    }

    [Fact]
    public async Task SessionGroupBy_MatchesReference()
    {
        var (bids, _, _) = DocsData.Streams();

        var sessions =
            from b in bids.SessionWindow(gap: TimeSpan.FromSeconds(10))
            group b by b.Bidder into g
            select new { Bidder = g.Key, Bids = g.Count(), Spent = g.Sum(b => b.Price), g.Window.Start, g.Window.End };

        var actual = await sessions.ToListAsync();
        var expected = ReferenceWindows.Sessions(
            s_bids.Select(b => (b.DateTime.Ticks, b)), DocsData.Ticks(TimeSpan.FromSeconds(10)), 0, b => b.Bidder,
            g => new { Bidder = g.Key, Bids = g.Count(), Spent = g.Sum(b => b.Price), g.Window.Start, g.Window.End }).Select(r => r.Result);
        Assert.Equal(expected.OrderBy(r => r.End).ThenBy(r => r.Bidder), actual.OrderBy(r => r.End).ThenBy(r => r.Bidder));
    }

    [Fact]
    public async Task SessionWithMaxDuration_CapsEverySession()
    {
        var (bids, _, _) = DocsData.Streams();

        var capped =
            from b in bids.SessionWindow(gap: TimeSpan.FromSeconds(10), maxDuration: TimeSpan.FromMinutes(1))
            group b by b.Bidder into g
            select new { Bidder = g.Key, Bids = g.Count(), g.Window.Start, g.Window.End };

        var actual = await capped.ToListAsync();
        Assert.NotEmpty(actual);
        Assert.All(actual, s => Assert.True(s.End - s.Start <= TimeSpan.FromMinutes(1)));
    }

    [Fact]
    public async Task Having_KeepsOnlyGroupsThatPass()
    {
        var (bids, _, _) = DocsData.Streams();

        var busy =
            from b in bids.TumblingWindow(TimeSpan.FromSeconds(10))
            group b by b.Auction into g
            where g.Count() >= 100
            select new { Auction = g.Key, Bids = g.Count(), g.Window.End };

        var actual = await busy.ToListAsync();
        var expected = ReferenceWindows.Fixed(
            s_bids.Select(b => (b.DateTime.Ticks, b)), DocsData.Ticks(TimeSpan.FromSeconds(10)), DocsData.Ticks(TimeSpan.FromSeconds(10)), b => b.Auction,
            g => new { Auction = g.Key, Bids = g.Count(), g.Window.End }).Select(r => r.Result).Where(r => r.Bids >= 100);
        Assert.NotEmpty(actual);
        Assert.Equal(expected.OrderBy(r => r.End).ThenBy(r => r.Auction), actual.OrderBy(r => r.End).ThenBy(r => r.Auction));
    }

    [Fact]
    public async Task TopK_PerWindowAndPerGroup()
    {
        var (bids, _, _) = DocsData.Streams();

        var top3 = bids
            .TumblingWindow(TimeSpan.FromSeconds(10))
            .Select(w => new { w.Window.End, Top = w.OrderByDescending(b => b.Price).Take(3) });

        var top3PerAuction =
            from b in bids.TumblingWindow(TimeSpan.FromSeconds(10))
            group b by b.Auction into g
            select new { Auction = g.Key, TopPrices = g.OrderByDescending(b => b.Price).Take(3).Select(b => b.Price) };

        var windows = await top3.ToListAsync();
        var expected = s_bids.GroupBy(b => ReferenceWindows.WindowStart(b.DateTime.Ticks, DocsData.Ticks(TimeSpan.FromSeconds(10))))
            .Select(g => g.Select(b => b.Price).OrderDescending().Take(3).ToList()).ToList();
        Assert.Equal(expected, windows.Select(w => w.Top.Select(b => b.Price).ToList()).ToList());
        var perAuction = await top3PerAuction.ToListAsync();
        Assert.All(perAuction, r => Assert.InRange(r.TopPrices.Count(), 1, 3));
        Assert.All(perAuction, r => Assert.Equal(r.TopPrices.OrderDescending(), r.TopPrices));
    }

    [Fact]
    public async Task DistinctCount_MatchesLinqToObjects()
    {
        var (bids, _, _) = DocsData.Streams();

        var bidders =
            from b in bids.TumblingWindow(TimeSpan.FromSeconds(10))
            group b by b.Auction into g
            select new { Auction = g.Key, Bidders = g.Select(b => b.Bidder).Distinct().Count(), g.Window.End };

        var actual = await bidders.ToListAsync();
        var expected = ReferenceWindows.Fixed(
            s_bids.Select(b => (b.DateTime.Ticks, b)), DocsData.Ticks(TimeSpan.FromSeconds(10)), DocsData.Ticks(TimeSpan.FromSeconds(10)), b => b.Auction,
            g => new { Auction = g.Key, Bidders = g.Select(b => b.Bidder).Distinct().Count(), g.Window.End }).Select(r => r.Result);
        Assert.Equal(expected.OrderBy(r => r.End).ThenBy(r => r.Auction), actual.OrderBy(r => r.End).ThenBy(r => r.Auction));
    }

    [Fact]
    public async Task WholeWindow_OneResultPerWindow()
    {
        var (bids, _, _) = DocsData.Streams();

        var perWindow = bids
            .TumblingWindow(TimeSpan.FromSeconds(10))
            .Select(w => new { w.Window.Start, w.Window.End, Bids = w.Count(), Volume = w.Sum(b => b.Price) });

        var actual = await perWindow.ToListAsync();
        var expected = s_bids.GroupBy(b => ReferenceWindows.WindowStart(b.DateTime.Ticks, DocsData.Ticks(TimeSpan.FromSeconds(10))))
            .Select(g => (Bids: g.Count(), Volume: g.Sum(b => b.Price))).ToList();
        Assert.Equal(expected, actual.Select(r => (r.Bids, r.Volume)).ToList());
    }

    [Fact]
    public async Task UserAggregate_RunsIncrementally()
    {
        var (bids, _, _) = DocsData.Streams();

        var spread =
            from b in bids.TumblingWindow(TimeSpan.FromSeconds(10))
            group b by b.Auction into g
            select new { Auction = g.Key, Spread = g.Select(b => b.Price).Aggregate(new PriceSpread()) };

        var actual = await spread.ToListAsync();
        Assert.NotEmpty(actual);
        Assert.All(actual, r => Assert.True(r.Spread >= 0));
    }

    [Fact]
    public async Task OverWindow_LastFiveBidsPerBidder_MatchesLinqToObjects()
    {
        var (bids, _, _) = DocsData.Streams();

        var lastFive = bids.Over(b => b.Bidder, rows: 5, keyIdleTimeout: TimeSpan.FromMinutes(10), new LastPrices());

        // The data spans less than 10 minutes, so no bidder is forgotten: each bid with the up to 4 before it of its bidder.
        var expected = s_bids.OrderBy(b => b.DateTime)
            .Select((b, i) => (Bid: b, Index: i))
            .GroupBy(x => x.Bid.Bidder)
            .SelectMany(g => g.Select((x, n) => (x.Index, Result: g.Skip(Math.Max(0, n - 4)).Take(Math.Min(n + 1, 5)).Select(y => y.Bid).Aggregate(new LastPrices()))))
            .OrderBy(x => x.Index)
            .Select(x => x.Result)
            .ToList();
        Assert.True(s_bids.Max(b => b.DateTime) - s_bids.Min(b => b.DateTime) < TimeSpan.FromMinutes(10));
        Assert.Contains(expected, r => r.Bids == 5);
        Assert.Equal(expected, await lastFive.ToListAsync());
    }

    [Fact]
    public async Task WindowOfWindows_HottestAuctionPerWindow_MatchesClientSideRanking()
    {
        var (bids, _, _) = DocsData.Streams();

        var counts =
            from b in bids.HoppingWindow(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(2))
            group b by b.Auction into g
            select new { Auction = g.Key, Bids = g.Count(), g.Window.Start, g.Window.End };

        // Each count lives [window start, window end); a tumbling window of the hop puts a hopping window's counts together.
        var hottest = counts
            .TumblingWindow(TimeSpan.FromSeconds(2))
            .Select(w => w.OrderByDescending(c => c.Bids).Take(1));

        var actual = (await hottest.ToListAsync()).Select(top => top.Single()).ToList();
        var all = await counts.ToListAsync();
        var expected = all.GroupBy(c => c.Start).OrderBy(g => g.Key).Select(g => g.Max(c => c.Bids)).ToList();
        Assert.Equal(expected, actual.Select(c => c.Bids).ToList());
        Assert.Equal(all.Select(c => c.Start).Distinct().Order(), actual.Select(c => c.Start));
    }

    [Fact]
    public async Task IntervalJoin_MatchesBidsWhileAuctionIsOpen()
    {
        var (bids, _, _) = DocsData.Streams();
        var auctions = QStream.From(DocsData.Auctions, a => a.DateTime).WithOptions(DocsData.Strict);

        var bidsOnOpenAuctions =
            from a in auctions.WithLifetime(a => a.DateTime, a => a.Expires)
            join b in bids on a.Id equals b.Auction
            select new { a.Id, a.Seller, b.Bidder, b.Price };

        var actual = await bidsOnOpenAuctions.ToListAsync();
        var expected =
            from a in DocsData.Auctions
            join b in s_bids on a.Id equals b.Auction
            where a.DateTime <= b.DateTime && b.DateTime < a.Expires
            select new { a.Id, a.Seller, b.Bidder, b.Price };
        Assert.Equal(expected.Count(), actual.Count);
        Assert.Equal(expected.OrderBy(x => x.Id).ThenBy(x => x.Bidder).ThenBy(x => x.Price), actual.OrderBy(x => x.Id).ThenBy(x => x.Bidder).ThenBy(x => x.Price));
    }

    [Fact]
    public async Task ExtendLifetimeJoin_FirstBidsOfNewPeople()
    {
        var (bids, _, people) = DocsData.Streams();

        var newcomers =
            from p in people.ExtendLifetime(TimeSpan.FromSeconds(5))
            join b in bids on p.Id equals b.Bidder
            select new { p.Id, p.Name, b.Auction, b.Price };

        var actual = await newcomers.ToListAsync();
        var expected =
            from p in DocsData.People
            join b in s_bids on p.Id equals b.Bidder
            where p.DateTime <= b.DateTime && b.DateTime < p.DateTime + TimeSpan.FromSeconds(5) + TimeSpan.FromTicks(1)
            select p.Id;
        Assert.Equal(expected.Count(), actual.Count);
    }

    [Fact]
    public async Task LeftJoin_UnmatchedLeftEventGetsDefault()
    {
        var (bids, _, _) = DocsData.Streams();
        var auctions = QStream.From(DocsData.Auctions, a => a.DateTime).WithOptions(DocsData.Strict);

        var bidsOrNone = auctions
            .WithLifetime(a => a.DateTime, a => a.Expires)
            .LeftJoin(bids, a => a.Id, b => b.Auction, (a, b) => new { a.Id, Price = b == null ? (long?)null : b.Price });

        var actual = await bidsOrNone.ToListAsync();
        var matched =
            (from a in DocsData.Auctions
             join b in s_bids on a.Id equals b.Auction
             where a.DateTime <= b.DateTime && b.DateTime < a.Expires
             select a.Id).ToList();
        var unmatched = DocsData.Auctions.Select(a => a.Id).Except(matched).ToList();
        Assert.Equal(matched.Count + unmatched.Count, actual.Count);
        Assert.Equal(unmatched.Order(), actual.Where(r => r.Price is null).Select(r => r.Id).Order());
    }

    [Fact]
    public async Task AntiJoin_AuctionsWithoutBids()
    {
        var (bids, _, _) = DocsData.Streams();
        var auctions = QStream.From(DocsData.Auctions, a => a.DateTime).WithOptions(DocsData.Strict);

        var noBids = auctions
            .WithLifetime(a => a.DateTime, a => a.Expires)
            .WhereNotExists(bids, a => a.Id, b => b.Auction);

        var actual = await noBids.ToListAsync();
        var expected = DocsData.Auctions.Where(a => !s_bids.Any(b => b.Auction == a.Id && a.DateTime <= b.DateTime && b.DateTime < a.Expires));
        Assert.Equal(expected.Select(a => a.Id), actual.Select(a => a.Id));
    }

    [Fact]
    public async Task WindowJoin_PeopleAndTheirAuctionsInTheSameWindow()
    {
        var (_, auctions, people) = DocsData.Streams();

        var newSellers =
            from p in people.TumblingWindow(TimeSpan.FromSeconds(10))
            join a in auctions.TumblingWindow(TimeSpan.FromSeconds(10)) on p.Id equals a.Seller
            select new { p.Id, p.Name, Auction = a.Id };

        var actual = await newSellers.ToListAsync();
        long size = DocsData.Ticks(TimeSpan.FromSeconds(10));
        var expected =
            from p in DocsData.People
            join a in DocsData.Auctions on p.Id equals a.Seller
            where ReferenceWindows.WindowStart(p.DateTime.Ticks, size) == ReferenceWindows.WindowStart(a.DateTime.Ticks, size)
            select new { p.Id, p.Name, Auction = a.Id };
        Assert.NotEmpty(actual);
        Assert.Equal(expected.OrderBy(x => x.Auction), actual.OrderBy(x => x.Auction));
    }

    [Fact]
    public async Task Union_SharedSourceIsMulticast()
    {
        var (bids, _, _) = DocsData.Streams();

        var extremes = bids.Where(b => b.Price < 200).Union(bids.Where(b => b.Price > 50_000_000));

        var actual = await extremes.ToListAsync();
        Assert.Equal(s_bids.Count(b => b.Price < 200 || b.Price > 50_000_000), actual.Count);
        Assert.Equal(actual.Select(b => b.DateTime).Order(), actual.Select(b => b.DateTime));
        Assert.Contains("Multicast", extremes.Explain(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Lifetimes_EveryOperatorRuns()
    {
        var (bids, _, _) = DocsData.Streams();

        var latestPerAuction = bids.ExtendLifetime(TimeSpan.FromMinutes(1)).ClipLifetime(b => b.Auction); // lives until the next bid on the auction
        var anHourLater = bids.ShiftTime(TimeSpan.FromHours(1));                                            // start and end move by +1 h
        var points = bids.ExtendLifetime(TimeSpan.FromSeconds(5)).ToPointEvents();                           // back to one tick at the start

        var clipped = new List<StreamEvent<Bid>>();
        await foreach (var e in latestPerAuction.ToStreamEvents())
        {
            clipped.Add(e);
        }

        Assert.Equal(s_bids.Length, clipped.Count);
        Assert.All(clipped, e => Assert.InRange(e.End - e.Start, 1, 1 + TimeSpan.FromMinutes(1).Ticks)); // a point event lives 1 tick; Extend adds 1 min
        Assert.Equal(s_bids.Length, (await anHourLater.ToListAsync()).Count);
        await foreach (var e in points.ToStreamEvents())
        {
            Assert.True(e.IsPoint);
        }
    }

    [Fact]
    public async Task SelectMany_QuerySyntax_MatchesLinqToObjects()
    {
        var (bids, _, _) = DocsData.Streams();

        var urlParts =
            from b in bids
            from part in b.Url.Split('/', StringSplitOptions.RemoveEmptyEntries)
            select new { b.Auction, Part = part };

        var expected =
            from b in s_bids
            from part in b.Url.Split('/', StringSplitOptions.RemoveEmptyEntries)
            select new { b.Auction, Part = part };
        Assert.Equal(expected, await urlParts.ToListAsync());
    }

    [Fact]
    public async Task StringJoinTrap_ArrayArgumentCompilesAndRuns()
    {
        var (bids, _, _) = DocsData.Streams();

        // string.Join(",", b.Channel, b.Url, b.Extra) does not compile here (CS8640/CS9226): pass an array.
        var labels = bids.Select(b => string.Join(",", new[] { b.Channel, b.Url, b.Extra }));

        Assert.Equal(s_bids.Select(b => string.Join(",", b.Channel, b.Url, b.Extra)), await labels.ToListAsync());
    }

    [Fact]
    public void UnwindowedAggregate_FailsAtSubscribeWithTheFix()
    {
        var (bids, _, _) = DocsData.Streams();

        var count = System.Reactive.Linq.Qbservable.Count(bids);  // compiles: an IQStream<T> is an IQbservable<T>
        var error = Assert.Throws<QueryTranslationException>(() =>
        {
            count.Subscribe(n => Console.WriteLine(n));              // throws QueryTranslationException: 'Count' ... Window the stream first, ...
        });

        Assert.Equal("Count", error.Operator);
        Assert.Contains("TumblingWindow", error.Message, StringComparison.Ordinal);
    }
}

/// <summary>The user aggregate of docs/queries.md: the spread between the highest and the lowest price.</summary>
public readonly struct PriceSpread : IAggregate<long, (long Min, long Max), long>
{
    public (long Min, long Max) Initial() => (long.MaxValue, long.MinValue);

    public (long Min, long Max) Add((long Min, long Max) state, long price) => (Math.Min(state.Min, price), Math.Max(state.Max, price));

    public long Result((long Min, long Max) state) => state.Max >= state.Min ? state.Max - state.Min : 0;
}

/// <summary>The over-window aggregate of docs/queries.md: how many of a bidder's last bids, and their average price.</summary>
public readonly struct LastPrices : IAggregate<Bid, (int Count, long Sum, Bid? Last), (long Bidder, int Bids, long Average)>
{
    public (int Count, long Sum, Bid? Last) Initial() => (0, 0, null);

    public (int Count, long Sum, Bid? Last) Add((int Count, long Sum, Bid? Last) state, Bid bid) => (state.Count + 1, state.Sum + bid.Price, bid);

    public (long Bidder, int Bids, long Average) Result((int Count, long Sum, Bid? Last) state) => (state.Last!.Bidder, state.Count, state.Sum / state.Count);
}
