using LinqStream.Testing.Nexmark;

namespace LinqStream.Tests.Nexmark;

public sealed class NexmarkGeneratorTests
{
    private const int LargeCount = 100_000;
    private static readonly DateTime s_baseTime = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    /// <summary>The first 100,000 events with default settings, generated once for the statistical tests.</summary>
    private static readonly Lazy<NexmarkEvent[]> s_defaultEvents = new(() => new NexmarkGenerator().EventsArray(LargeCount));

    private static NexmarkEvent[] DefaultEvents => s_defaultEvents.Value;

    [Fact]
    public void Events_SameSeed_AreIdentical()
    {
        var first = new NexmarkGenerator(new NexmarkConfig { Seed = 7 }).EventsArray(5_000);
        var second = new NexmarkGenerator(new NexmarkConfig { Seed = 7 }).EventsArray(5_000);

        Assert.Equal(first, second);
    }

    [Fact]
    public void Events_DifferentSeed_Differ()
    {
        var first = new NexmarkGenerator(new NexmarkConfig { Seed = 1 }).EventsArray(1_000);
        var second = new NexmarkGenerator(new NexmarkConfig { Seed = 2 }).EventsArray(1_000);

        Assert.True(first.Zip(second).Count(p => p.First != p.Second) > 900);
    }

    [Fact]
    public void Events_GeneratedInChunks_EqualOneShot()
    {
        var generator = new NexmarkGenerator();
        var oneShot = generator.EventsArray(3_000);

        var chunked = generator.Events(1_234).Concat(generator.EventsArray(766, 1_234)).Concat(generator.Events(1_000, 2_000));
        var single = Enumerable.Range(0, 3_000).Select(n => generator.Generate(n));

        Assert.Equal(oneShot, chunked);
        Assert.Equal(oneShot, single);
    }

    [Fact]
    public void TypedArrays_FromAnyIndex_EqualTheEventsOfTheStream()
    {
        var generator = new NexmarkGenerator(new NexmarkConfig { MaxDisorder = TimeSpan.FromTicks(500), ExtraFieldSize = 16 });
        var events = generator.EventsArray(5_000);

        Assert.Equal(events.Where(e => e.Kind == NexmarkEventKind.Person).Select(e => e.Person), generator.People(100));
        Assert.Equal(events.Where(e => e.Kind == NexmarkEventKind.Auction).Select(e => e.Auction), generator.Auctions(300));
        Assert.Equal(events.Where(e => e.Kind == NexmarkEventKind.Bid).Select(e => e.Bid), generator.Bids(4_600));
        Assert.Equal(events.Where(e => e.Kind == NexmarkEventKind.Bid).Skip(1_000).Take(50).Select(e => e.Bid), generator.Bids(50, 1_000));
    }

    [Fact]
    public void Events_EachBlockOf50_HasOnePersonThreeAuctionsAndFortySixBids()
    {
        var events = new NexmarkGenerator().EventsArray(5_000);

        for (var n = 0; n < events.Length; n++)
        {
            var slot = n % 50;
            var expected = slot == 0 ? NexmarkEventKind.Person : slot <= 3 ? NexmarkEventKind.Auction : NexmarkEventKind.Bid;
            Assert.Equal(expected, events[n].Kind);
            Assert.Equal(expected, NexmarkGenerator.KindOf(n));
        }

        foreach (var block in events.Chunk(50))
        {
            Assert.Equal(1, block.Count(e => e.Kind == NexmarkEventKind.Person));
            Assert.Equal(3, block.Count(e => e.Kind == NexmarkEventKind.Auction));
            Assert.Equal(46, block.Count(e => e.Kind == NexmarkEventKind.Bid));
        }
    }

    [Fact]
    public void Events_OfEachKind_CarryOnlyTheirOwnEntityAtTheEventTime()
    {
        foreach (var e in new NexmarkGenerator().EventsArray(1_000))
        {
            Assert.Equal(e.Kind == NexmarkEventKind.Person, e.Person is not null);
            Assert.Equal(e.Kind == NexmarkEventKind.Auction, e.Auction is not null);
            Assert.Equal(e.Kind == NexmarkEventKind.Bid, e.Bid is not null);
            Assert.Equal(e.DateTime, e.Person?.DateTime ?? e.Auction?.DateTime ?? e.Bid!.DateTime);
            Assert.Equal(DateTimeKind.Utc, e.DateTime.Kind);
        }
    }

    [Fact]
    public void Ids_StartAt1000_AndGrowByOne()
    {
        var events = new NexmarkGenerator().EventsArray(5_000);

        Assert.Equal(Enumerable.Range(1000, 100).Select(i => (long)i), events.Where(e => e.Person is not null).Select(e => e.Person!.Id));
        Assert.Equal(Enumerable.Range(1000, 300).Select(i => (long)i), events.Where(e => e.Auction is not null).Select(e => e.Auction!.Id));
    }

    [Fact]
    public void Auctions_Categories_AreFrom10To14AndAllUsed()
    {
        var categories = new NexmarkGenerator().Auctions(3_000).Select(a => a.Category).ToHashSet();

        Assert.Equal([10L, 11L, 12L, 13L, 14L], categories.Order());
    }

    [Fact]
    public void Prices_AreBetween100And100Million_AndSpreadOverEveryDecade()
    {
        var generator = new NexmarkGenerator();
        var prices = generator.Bids(50_000).Select(b => b.Price).Concat(generator.Auctions(5_000).Select(a => a.InitialBid)).ToArray();

        Assert.All(prices, p => Assert.InRange(p, 100L, 100_000_000L));
        var decades = prices.Select(p => (int)Math.Floor(Math.Log10(p))).Where(d => d < 8).GroupBy(d => d).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal([2, 3, 4, 5, 6, 7], decades.Keys.Order());
        Assert.All(decades.Values, c => Assert.InRange(c, prices.Length / 6 * 0.9, prices.Length / 6 * 1.1)); // log-uniform
    }

    [Fact]
    public void Auctions_Reserve_IsAboveInitialBid()
        => Assert.All(new NexmarkGenerator().Auctions(5_000), a => Assert.True(a.Reserve > a.InitialBid));

    [Fact]
    public void Bids_HotAuction_GetsAboutHalfTheBids()
    {
        long lastAuction = -1, hot = 0, bids = 0;
        foreach (var e in DefaultEvents)
        {
            if (e.Auction is { } auction)
            {
                lastAuction = auction.Id;
            }
            else if (e.Bid is { } bid)
            {
                bids++;
                if (bid.Auction == 1000 + ((lastAuction - 1000) / 100 * 100))
                {
                    hot++;
                }
            }
        }

        Assert.InRange((double)hot / bids, 0.45, 0.55);
    }

    [Fact]
    public void Bids_HotBidder_PlacesAboutThreeQuartersOfTheBids()
    {
        long lastPerson = -1, hot = 0, bids = 0;
        foreach (var e in DefaultEvents)
        {
            if (e.Person is { } person)
            {
                lastPerson = person.Id;
            }
            else if (e.Bid is { } bid)
            {
                bids++;
                var base0 = lastPerson - 1000;
                if (bid.Bidder == 1000 + Math.Min((base0 / 100 * 100) + 1, base0))
                {
                    hot++;
                }
            }
        }

        Assert.InRange((double)hot / bids, 0.70, 0.80);
    }

    [Fact]
    public void Auctions_HotSeller_SellsAboutThreeQuarters()
    {
        long lastPerson = -1, hot = 0, auctions = 0;
        foreach (var e in DefaultEvents)
        {
            if (e.Person is { } person)
            {
                lastPerson = person.Id;
            }
            else if (e.Auction is { } auction)
            {
                auctions++;
                hot += auction.Seller == 1000 + ((lastPerson - 1000) / 100 * 100) ? 1 : 0;
            }
        }

        Assert.InRange((double)hot / auctions, 0.70, 0.80);
    }

    [Fact]
    public void Auctions_Expire_10To20SecondsAfterTheyStart()
    {
        Assert.All(new NexmarkGenerator().Auctions(5_000), a =>
        {
            Assert.True(a.Expires > a.DateTime);
            Assert.InRange(a.Expires - a.DateTime, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(20));
        });
    }

    [Fact]
    public void References_PointOnlyToPeopleAndAuctionsAlreadyGenerated()
    {
        long maxPerson = -1, maxAuction = -1;
        foreach (var e in DefaultEvents)
        {
            switch (e.Kind)
            {
                case NexmarkEventKind.Person:
                    maxPerson = e.Person!.Id;
                    break;
                case NexmarkEventKind.Auction:
                    Assert.InRange(e.Auction!.Seller, 1000, maxPerson);
                    maxAuction = e.Auction.Id;
                    break;
                default:
                    Assert.InRange(e.Bid!.Auction, Math.Max(1000, maxAuction - 99), maxAuction);
                    Assert.InRange(e.Bid.Bidder, Math.Max(1000, maxPerson - 999), maxPerson);
                    break;
            }
        }
    }

    [Fact]
    public void EventTime_WithoutDisorder_IsBaseTimePlusOneMicrosecondPerEvent()
    {
        var generator = new NexmarkGenerator();
        var events = DefaultEvents;

        for (var n = 0; n < events.Length; n++)
        {
            Assert.Equal(s_baseTime.AddTicks(10L * n), events[n].DateTime);
            Assert.True(n == 0 || events[n].DateTime >= events[n - 1].DateTime);
        }

        Assert.Equal(s_baseTime.AddTicks(10L * 123_456_789), generator.EventTime(123_456_789));
    }

    [Fact]
    public void EventTime_WithRateNotDividingOneSecond_IsNondecreasingAndRoundedDown()
    {
        var generator = new NexmarkGenerator(new NexmarkConfig { FirstEventRate = 3 });

        Assert.Equal(s_baseTime.AddTicks(3_333_333), generator.EventTime(1));
        Assert.Equal(s_baseTime.AddSeconds(1), generator.EventTime(3));
        Assert.Equal(s_baseTime.AddTicks(6_666_666), generator.Generate(2).DateTime);
    }

    [Fact]
    public void EventTime_WithDisorder_StaysWithinMaxDisorderBeforeInOrderTime()
    {
        var maxDisorder = TimeSpan.FromMilliseconds(1);
        var events = new NexmarkGenerator(new NexmarkConfig { MaxDisorder = maxDisorder }).EventsArray(20_000);

        var outOfOrder = 0;
        var latest = s_baseTime;
        for (var n = 0; n < events.Length; n++)
        {
            var inOrder = s_baseTime.AddTicks(10L * n);
            Assert.InRange(events[n].DateTime, inOrder - maxDisorder, inOrder);
            Assert.True(events[n].DateTime >= latest - maxDisorder);
            outOfOrder += events[n].DateTime < latest ? 1 : 0;
            latest = events[n].DateTime > latest ? events[n].DateTime : latest;
        }

        Assert.True(outOfOrder > events.Length / 2);
    }

    [Fact]
    public void EventTime_WithDisorder_ChangesNoOtherField()
    {
        var inOrder = new NexmarkGenerator().Bids(1_000);
        var disordered = new NexmarkGenerator(new NexmarkConfig { MaxDisorder = TimeSpan.FromSeconds(1) }).Bids(1_000);

        Assert.Equal(inOrder, disordered.Select((b, i) => b with { DateTime = inOrder[i].DateTime }));
        Assert.Contains(disordered, b => b.DateTime != inOrder[Array.IndexOf(disordered, b)].DateTime);
    }

    [Fact]
    public void Extra_ByDefault_IsEmpty_AndOtherwiseHasTheConfiguredLength()
    {
        Assert.All(new NexmarkGenerator().EventsArray(200), e => Assert.Empty(e.Person?.Extra ?? e.Auction?.Extra ?? e.Bid!.Extra));
        Assert.All(
            new NexmarkGenerator(new NexmarkConfig { ExtraFieldSize = 33 }).EventsArray(200),
            e => Assert.Equal(33, (e.Person?.Extra ?? e.Auction?.Extra ?? e.Bid!.Extra).Length));
    }

    [Fact]
    public void StringFields_AreNeverEmpty()
    {
        var generator = new NexmarkGenerator();
        Assert.All(generator.People(2_000), p => Assert.All([p.Name, p.EmailAddress, p.CreditCard, p.City, p.State], s => Assert.NotEmpty(s)));
        Assert.All(generator.Auctions(2_000), a => Assert.All([a.ItemName, a.Description], s => Assert.NotEmpty(s)));
        Assert.All(generator.Bids(2_000), b => Assert.All([b.Channel, b.Url], s => Assert.NotEmpty(s)));
    }

    [Theory]
    [InlineData(nameof(NexmarkConfig.FirstEventRate))]
    [InlineData(nameof(NexmarkConfig.MaxDisorder))]
    [InlineData(nameof(NexmarkConfig.HotAuctionRatio))]
    [InlineData(nameof(NexmarkConfig.NumActivePeople))]
    [InlineData(nameof(NexmarkConfig.AuctionDurationSeconds))]
    [InlineData(nameof(NexmarkConfig.ExtraFieldSize))]
    public void Constructor_SettingOutOfRange_ThrowsNamingTheSetting(string setting)
    {
        var config = setting switch
        {
            nameof(NexmarkConfig.FirstEventRate) => new NexmarkConfig { FirstEventRate = 0 },
            nameof(NexmarkConfig.MaxDisorder) => new NexmarkConfig { MaxDisorder = TimeSpan.FromTicks(-1) },
            nameof(NexmarkConfig.HotAuctionRatio) => new NexmarkConfig { HotAuctionRatio = 0 },
            nameof(NexmarkConfig.NumActivePeople) => new NexmarkConfig { NumActivePeople = 0 },
            nameof(NexmarkConfig.AuctionDurationSeconds) => new NexmarkConfig { AuctionDurationSeconds = 0 },
            _ => new NexmarkConfig { ExtraFieldSize = -1 },
        };

        var exception = Assert.Throws<ArgumentOutOfRangeException>(() => new NexmarkGenerator(config));
        Assert.Equal("config." + setting, exception.ParamName);
    }

    [Fact]
    public void Generate_NegativeEventNumber_Throws()
        => Assert.Equal("eventNumber", Assert.Throws<ArgumentOutOfRangeException>(() => new NexmarkGenerator().Generate(-1)).ParamName);
}
