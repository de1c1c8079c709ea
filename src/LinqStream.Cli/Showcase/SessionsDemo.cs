using System.Globalization;
using Spectre.Console;

namespace LinqStream.Cli.Showcase;

/// <summary>User sessions (NEXMark q11 shape): per bidder, bids until a gap; the longest sessions are ranked here, for display.</summary>
internal sealed class SessionsDemo : DemoQuery
{
    private const int Rows = 10;

    public override string Name => "sessions";

    public override string Shape => "NEXMark q11";

    public override string Describe(DemoData data) =>
        $"Per bidder, a session window that closes after {Format.Seconds(BuiltInQueries.SessionGap)} without a bid; count and total price per session "
        + "(SessionWindow + group by + Count/Sum). The table shows the sessions with the most bids.";

    public override long InputEvents(DemoData data) => data.Bids.Length;

    public override DemoResult Run(DemoData data, IngressStatistics statistics)
    {
        // Keep the top sessions only: a min-heap on bid count.
        var top = new PriorityQueue<BidderSession, int>();
        long results = ResultObserver<BidderSession>.Drain(BuiltInQueries.Sessions(BuiltInQueries.Bids(data.Bids, statistics)), s =>
        {
            if (top.Count < Rows)
            {
                top.Enqueue(s, s.Bids);
            }
            else if (top.TryPeek(out _, out int least) && s.Bids > least)
            {
                top.EnqueueDequeue(s, s.Bids);
            }
        });

        var rows = new List<BidderSession>();
        while (top.TryDequeue(out var s, out _))
        {
            rows.Add(s);
        }

        rows.Reverse();
        var table = new Table().Title("sessions with the most bids")
            .AddColumn("bidder").AddColumn("session (UTC)").AddColumn(new TableColumn("length").RightAligned())
            .AddColumn(new TableColumn("bids").RightAligned()).AddColumn(new TableColumn("total price").RightAligned());
        foreach (var s in rows)
        {
            table.AddRow(
                s.Bidder.ToString(CultureInfo.InvariantCulture),
                $"{Format.Time(s.Start)}–{Format.Time(s.End)}",
                Format.Seconds(s.End - s.Start),
                Format.Count(s.Bids),
                Format.Count(s.TotalPrice));
        }

        return new DemoResult(results, table, "A session's end is its last bid plus the gap; its result comes out when the watermark passes that end.");
    }
}
