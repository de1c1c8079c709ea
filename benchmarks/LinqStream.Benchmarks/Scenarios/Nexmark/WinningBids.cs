using System.Reactive.Concurrency;
using System.Reactive.Linq;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Benchmarks.Scenarios.Nexmark;

/// <summary>A bid on an auction, with the auction's fields q4 and q9 need; as a q9 result, the auction's winning bid.</summary>
public readonly record struct AuctionBid(long Auction, long Category, long Expires, long Bidder, long Price, long BidTime);

/// <summary>Picks an auction's winning bid: the highest price, then the earliest bid, then the lowest bidder id (a total order, so every implementation agrees on ties).</summary>
/// <remarks>
/// Remaining ties (the same price, time and bidder) are broken by the auction's fields, so the winner is the maximum of a total
/// order over the whole value and does not depend on the order of <c>Add</c>: the aggregate is <see cref="CommutativeAggregateAttribute"/>,
/// which lets the plan rewrite <c>ExpiryJoinToKeyedFold</c> keep one best bid per open auction. With unique auction ids (NEXMark's)
/// those fields never differ within a group.
/// </remarks>
[CommutativeAggregate]
public readonly struct WinningBid : IAggregate<AuctionBid, (bool Any, AuctionBid Best), AuctionBid>
{
    public (bool Any, AuctionBid Best) Initial() => (false, default);

    public (bool Any, AuctionBid Best) Add((bool Any, AuctionBid Best) state, AuctionBid input) =>
        !state.Any || Beats(input, state.Best) ? (true, input) : state;

    public AuctionBid Result((bool Any, AuctionBid Best) state) => state.Best;

    public static bool Beats(AuctionBid a, AuctionBid b) =>
        a.Price != b.Price ? a.Price > b.Price
        : a.BidTime != b.BidTime ? a.BidTime < b.BidTime
        : a.Bidder != b.Bidder ? a.Bidder < b.Bidder
        : a.Auction != b.Auction ? a.Auction < b.Auction
        : a.Category != b.Category ? a.Category < b.Category
        : a.Expires < b.Expires;
}

/// <summary>
/// The winning bids of NEXMark q4 and q9 in their bounded form: an auction lives <c>[dateTime, expires)</c>; its winning bid is its
/// best bid placed while it was open at or above its reserve, emitted when it closes. The three implementations q4 and q9 share.
/// </summary>
public static class WinningBids
{
    /// <summary>
    /// LinqStream: the auctions are read a second time as a stream of closes (a point at <c>expires − 1 tick</c>, reordered at ingress
    /// since auctions close in a different order than they open); bids live for the longest auction, so a close overlaps every bid
    /// that could be on its auction; the join keeps the bids placed after the auction opened and at or above the reserve; and a
    /// one-tick tumbling window groups each auction's matches at its close, where <see cref="WinningBid"/> picks the winner.
    /// </summary>
    public static IQStream<AuctionBid> LinqStream(NexmarkInput input)
    {
        var bids = OpenBids(input);
        var closes = Closes(input);
        var matches =
            from a in closes
            join b in bids on a.Id equals b.Auction
            where b.DateTime >= a.DateTime && b.Price >= a.Reserve
            select new AuctionBid(a.Id, a.Category, a.Expires.Ticks, b.Bidder, b.Price, b.DateTime.Ticks);
        return
            from m in matches.TumblingWindow(TimeSpan.FromTicks(1))
            group m by m.Auction into g
            select g.Aggregate(new WinningBid());
    }

    /// <summary>The auctions read as a stream of closes: a point at <c>expires − 1 tick</c>, reordered at ingress (auctions close in a different order than they open).</summary>
    public static IQStream<Auction> Closes(NexmarkInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return QStream.From(input.Auctions, a => a.Expires.Ticks - 1, IngressPolicy.Reorder(input.AuctionCloseDisorder), "auction closes");
    }

    /// <summary>The bids, each alive for the longest auction's duration after it, so an auction's close overlaps every bid that could be on it.</summary>
    public static IQStream<Bid> OpenBids(NexmarkInput input) =>
        NexmarkStreams.Bids(NexmarkStreams.Events(input)).ExtendLifetime(input.MaxAuctionDuration);

    /// <summary>
    /// Rx.NET, inside an <see cref="Infrastructure.RxEventTime"/> replay: the bids grouped by auction with <c>GroupByUntil</c>, each
    /// group ending at its auction's expiry (<c>Observable.Timer</c> on the virtual-time scheduler), then <c>Where</c> (open, at or
    /// above the reserve) and <c>Aggregate</c> to the winner. Rx has no join with the auctions, so the bids' groups look their
    /// auction up in a dictionary that a <c>Do</c> fills from the auction events (never pruned: a simplification in Rx's favour).
    /// </summary>
    public static IObservable<AuctionBid> Rx(IObservable<NexmarkEvent> events, IScheduler scheduler)
    {
        var auctions = new Dictionary<long, Auction>();
        return events
            .Do(e =>
            {
                if (e.Kind == NexmarkEventKind.Auction)
                {
                    auctions[e.Auction!.Id] = e.Auction;
                }
            })
            .Where(e => e.Kind == NexmarkEventKind.Bid)
            .Select(e => e.Bid!)
            .GroupByUntil(b => b.Auction, g => Observable.Timer(new DateTimeOffset(auctions[g.Key].Expires), scheduler))
            .SelectMany(g =>
            {
                var a = auctions[g.Key];
                return g
                    .Where(b => b.DateTime >= a.DateTime && b.DateTime < a.Expires && b.Price >= a.Reserve)
                    .Select(b => new AuctionBid(a.Id, a.Category, a.Expires.Ticks, b.Bidder, b.Price, b.DateTime.Ticks))
                    .Aggregate(new WinningBid().Initial(), new WinningBid().Add)
                    .Where(s => s.Any)
                    .Select(s => s.Best);
            });
    }

    /// <summary>
    /// Hand-written: open auctions in a dictionary with their best bid so far, and a priority queue of closes; before each event,
    /// the auctions that closed at or before its time emit their winner.
    /// </summary>
    public static void HandWritten(NexmarkInput input, Action<AuctionBid> emit)
    {
        var open = new Dictionary<long, (Auction Auction, bool Any, AuctionBid Best)>();
        var closes = new PriorityQueue<Auction, long>();
        foreach (var e in input.Events)
        {
            long t = e.DateTime.Ticks;
            CloseUntil(t);
            if (e.Kind == NexmarkEventKind.Auction)
            {
                open[e.Auction!.Id] = (e.Auction, false, default);
                closes.Enqueue(e.Auction, e.Auction.Expires.Ticks);
            }
            else if (e.Kind == NexmarkEventKind.Bid && open.TryGetValue(e.Bid!.Auction, out var entry))
            {
                var (a, b) = (entry.Auction, e.Bid);
                if (b.DateTime >= a.DateTime && b.Price >= a.Reserve)
                {
                    var bid = new AuctionBid(a.Id, a.Category, a.Expires.Ticks, b.Bidder, b.Price, t);
                    if (!entry.Any || WinningBid.Beats(bid, entry.Best))
                    {
                        open[a.Id] = (a, true, bid);
                    }
                }
            }
        }

        CloseUntil(long.MaxValue);

        void CloseUntil(long now)
        {
            while (closes.TryPeek(out var a, out long expires) && expires <= now)
            {
                closes.Dequeue();
                if (open.Remove(a.Id, out var entry) && entry.Any)
                {
                    emit(entry.Best);
                }
            }
        }
    }

    /// <summary>The model: every bid on an auction while it was open and at or above its reserve; per auction, the best by <see cref="WinningBid.Beats"/>.</summary>
    public static IEnumerable<AuctionBid> Model(NexmarkInput input) =>
        from a in input.Auctions
        join b in input.Bids on a.Id equals b.Auction
        where b.DateTime >= a.DateTime && b.DateTime < a.Expires && b.Price >= a.Reserve
        group new AuctionBid(a.Id, a.Category, a.Expires.Ticks, b.Bidder, b.Price, b.DateTime.Ticks) by a.Id into bids
        select bids.OrderByDescending(m => m.Price).ThenBy(m => m.BidTime).ThenBy(m => m.Bidder).First();
}
