using System.Globalization;
using Spectre.Console;

namespace LinqStream.Cli.Showcase;

/// <summary>Interval join (NEXMark q3/q9 shape): auctions live from creation to expiry; each bid matches the open auction it names.</summary>
internal sealed class AuctionJoinDemo : DemoQuery
{
    private const int Rows = 10;

    public override string Name => "interval join";

    public override string Shape => "NEXMark q3/q9";

    public override string Describe(DemoData data) =>
        "Auctions with WithLifetime(a => a.DateTime, a => a.Expires) joined with bids on the auction id: a bid matches while its auction is open "
        + "(overlapping lifetimes). The table shows the first matches; the line below counts them all.";

    public override long InputEvents(DemoData data) => data.Auctions.Length + data.Bids.Length;

    public override DemoResult Run(DemoData data, IngressStatistics statistics)
    {
        var first = new List<AuctionBid>(Rows);
        long atReserve = 0;
        var query = BuiltInQueries.AuctionBids(BuiltInQueries.LiveAuctions(data.Auctions, statistics), BuiltInQueries.Bids(data.Bids, statistics));
        long results = ResultObserver<AuctionBid>.Drain(query, m =>
        {
            if (first.Count < Rows)
            {
                first.Add(m);
            }

            if (m.Price >= m.Reserve)
            {
                atReserve++;
            }
        });

        var table = new Table().Title("first matches")
            .AddColumn("auction").AddColumn("seller").AddColumn(new TableColumn("reserve").RightAligned())
            .AddColumn("bidder").AddColumn(new TableColumn("price").RightAligned()).AddColumn("bid time (UTC)");
        foreach (var m in first)
        {
            table.AddRow(
                m.Auction.ToString(CultureInfo.InvariantCulture),
                m.Seller.ToString(CultureInfo.InvariantCulture),
                Format.Count(m.Reserve),
                m.Bidder.ToString(CultureInfo.InvariantCulture),
                Format.Count(m.Price),
                Format.Time(m.BidTime));
        }

        return new DemoResult(results, table, $"{Format.Count(results)} bids matched an open auction ({Format.Count(atReserve)} at or above its reserve) out of {Format.Count(data.Bids.Length)} bids.");
    }
}
