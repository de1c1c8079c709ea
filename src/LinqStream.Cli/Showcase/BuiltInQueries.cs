using LinqStream.Testing.Nexmark;

namespace LinqStream.Cli.Showcase;

/// <summary>The named queries that <c>linqstream explain</c> prints and <c>linqstream demo</c> runs, written in ordinary C# LINQ.</summary>
/// <remarks>Window sizes suit the demo's data: 10,000 events per second of event time by default, so 2 million events span 200 s.</remarks>
internal static class BuiltInQueries
{
    /// <summary>The names accepted by <c>explain --query</c>.</summary>
    public static readonly string[] Names = ["q0", "q1", "q2", "q5", "q7", "q8", "q11", "join"];

    public static readonly TimeSpan HotItemsSize = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan HotItemsHop = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan SessionGap = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(10);

    public static IQStream<Bid> Bids(IEnumerable<Bid> bids, IngressStatistics? statistics = null) =>
        QStream.From(bids, b => b.DateTime, Policy(statistics), "bids");

    public static IQStream<Person> People(IEnumerable<Person> people, IngressStatistics? statistics = null) =>
        QStream.From(people, p => p.DateTime, Policy(statistics), "people");

    public static IQStream<Auction> Auctions(IEnumerable<Auction> auctions, IngressStatistics? statistics = null) =>
        QStream.From(auctions, a => a.DateTime, Policy(statistics), "auctions");

    /// <summary>Auctions that live from their creation until they expire: <c>[DateTime, Expires)</c>.</summary>
    public static IQStream<Auction> LiveAuctions(Auction[] auctions, IngressStatistics? statistics = null) =>
        QStream.From(auctions, a => a.DateTime, Policy(statistics), "auctions").WithLifetime(a => a.DateTime, a => a.Expires);

    /// <summary>NEXMark q0, pass-through: every bid, unchanged.</summary>
    public static IQStream<Bid> PassThrough(IQStream<Bid> bids) =>
        from b in bids
        select b;

    /// <summary>NEXMark q1, currency conversion: each bid's price in euros.</summary>
    public static IQStream<EuroBid> CurrencyConversion(IQStream<Bid> bids) =>
        from b in bids
        select new EuroBid(b.Auction, b.Bidder, b.Price * 0.908m, b.DateTime);

    /// <summary>NEXMark q2, selection: the bids on a few auctions.</summary>
    public static IQStream<AuctionPrice> Selection(IQStream<Bid> bids) =>
        from b in bids
        where b.Auction % 123 == 0
        select new AuctionPrice(b.Auction, b.Price);

    /// <summary>NEXMark q5 shape, hot items: bids per auction in a hopping window of 10 s every 2 s.</summary>
    public static IQStream<AuctionCount> HotItems(IQStream<Bid> bids) =>
        from b in bids.HoppingWindow(HotItemsSize, HotItemsHop)
        group b by b.Auction into g
        select new AuctionCount(g.Key, g.Count(), g.Window.Start, g.Window.End);

    /// <summary>NEXMark q7 shape, highest bid: the highest price in each 10 s tumbling window.</summary>
    public static IQStream<HighestBid> HighestBids(IQStream<Bid> bids) =>
        bids.TumblingWindow(Period).Select(w => new HighestBid(w.Max(b => b.Price), w.Count(), w.Window.Start, w.Window.End));

    /// <summary>NEXMark q8, new sellers: people who opened an auction in the 10 s window they registered in (a window join).</summary>
    public static IQStream<NewSeller> NewSellers(IQStream<Person> people, IQStream<Auction> auctions) =>
        from p in people.TumblingWindow(Period)
        join a in auctions.TumblingWindow(Period) on p.Id equals a.Seller
        select new NewSeller(p.Id, p.Name, a.Id);

    /// <summary>NEXMark q11 shape, user sessions: per bidder, a session ends after 2 s without bids.</summary>
    public static IQStream<BidderSession> Sessions(IQStream<Bid> bids) =>
        from b in bids.SessionWindow(SessionGap)
        group b by b.Bidder into g
        select new BidderSession(g.Key, g.Count(), g.Sum(b => b.Price), g.Window.Start, g.Window.End);

    /// <summary>Interval join (NEXMark q3/q9 shape): each bid with the auction it was made on, while that auction is open.</summary>
    public static IQStream<AuctionBid> AuctionBids(IQStream<Auction> auctions, IQStream<Bid> bids) =>
        from a in auctions
        join b in bids on a.Id equals b.Auction
        select new AuctionBid(a.Id, a.Seller, a.Reserve, b.Bidder, b.Price, b.DateTime);

    /// <summary>Builds a named query over empty sources, for <c>Explain()</c>.</summary>
    public static string Explain(string name)
    {
        var bids = Bids([]);
        return name switch
        {
            "q0" => PassThrough(bids).Explain(),
            "q1" => CurrencyConversion(bids).Explain(),
            "q2" => Selection(bids).Explain(),
            "q5" => HotItems(bids).Explain(),
            "q7" => HighestBids(bids).Explain(),
            "q8" => NewSellers(People([]), Auctions([])).Explain(),
            "q11" => Sessions(bids).Explain(),
            "join" => AuctionBids(LiveAuctions([]), bids).Explain(),
            _ => throw new ArgumentOutOfRangeException(nameof(name), name, "Unknown query name."),
        };
    }

    private static IngressPolicy Policy(IngressStatistics? statistics) =>
        statistics is null ? IngressPolicy.Throw : IngressPolicy.Throw.WithStatistics(statistics);
}

/// <summary>A q1 result.</summary>
internal sealed record EuroBid(long Auction, long Bidder, decimal PriceEur, DateTime DateTime);

/// <summary>A q2 result.</summary>
internal sealed record AuctionPrice(long Auction, long Price);

/// <summary>A hot-items result: the bids on one auction in one window.</summary>
internal sealed record AuctionCount(long Auction, int Bids, DateTimeOffset WindowStart, DateTimeOffset WindowEnd);

/// <summary>A session result: one bidder's bids until a gap.</summary>
internal sealed record BidderSession(long Bidder, int Bids, long TotalPrice, DateTimeOffset Start, DateTimeOffset End);

/// <summary>An interval-join result: a bid matched with its open auction.</summary>
internal sealed record AuctionBid(long Auction, long Seller, long Reserve, long Bidder, long Price, DateTime BidTime);

/// <summary>A q7 result: the highest price of one window.</summary>
internal sealed record HighestBid(long Price, int Bids, DateTimeOffset WindowStart, DateTimeOffset WindowEnd);

/// <summary>A q8 result: a person who registered and opened an auction in the same window.</summary>
internal sealed record NewSeller(long Person, string Name, long Auction);
