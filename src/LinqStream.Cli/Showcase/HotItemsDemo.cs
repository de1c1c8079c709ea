using Spectre.Console;

namespace LinqStream.Cli.Showcase;

/// <summary>Hot items (NEXMark q5 shape): bids per auction in a hopping window; the hottest auction of each window is picked here, for display.</summary>
internal sealed class HotItemsDemo : DemoQuery
{
    private const int Rows = 10;

    public override string Name => "hot items";

    public override string Shape => "NEXMark q5";

    public override string Describe(DemoData data) =>
        $"Bids per auction in a hopping window of {Format.Seconds(BuiltInQueries.HotItemsSize)} every {Format.Seconds(BuiltInQueries.HotItemsHop)} "
        + "(HoppingWindow + group by + Count, incremental). The engine emits one count per (window, auction); "
        + "the table ranks each window's auctions client-side and shows the first complete windows.";

    public override long InputEvents(DemoData data) => data.Bids.Length;

    public override DemoResult Run(DemoData data, IngressStatistics statistics)
    {
        var windows = new SortedDictionary<DateTimeOffset, WindowTop>();
        long results = ResultObserver<AuctionCount>.Drain(BuiltInQueries.HotItems(BuiltInQueries.Bids(data.Bids, statistics)), r =>
        {
            if (!windows.TryGetValue(r.WindowStart, out var top))
            {
                top = new WindowTop(r.WindowStart, r.WindowEnd);
                windows.Add(r.WindowStart, top);
            }

            top.Add(r);
        });

        var table = new Table().Title("hottest auction per window")
            .AddColumn("window (UTC)").AddColumn("hottest auction").AddColumn(new TableColumn("bids").RightAligned())
            .AddColumn("runner-up").AddColumn(new TableColumn("bids").RightAligned()).AddColumn(new TableColumn("auctions").RightAligned());
        // A window is complete when the data covers all of it; the first and last few windows overlap the data's edges.
        var dataStart = data.Bids.Length == 0 ? DateTimeOffset.MinValue : new DateTimeOffset(data.Bids[0].DateTime);
        var dataEnd = data.Bids.Length == 0 ? DateTimeOffset.MaxValue : new DateTimeOffset(data.Bids[^1].DateTime);
        var complete = windows.Values.Where(w => w.Start >= dataStart && w.End <= dataEnd).ToList();
        foreach (var w in (complete.Count > 0 ? complete : [.. windows.Values]).Take(Rows))
        {
            table.AddRow(
                $"{Format.Clock(w.Start)}–{Format.Clock(w.End)}",
                w.First?.Auction.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "",
                Format.Count(w.First?.Bids ?? 0),
                w.Second?.Auction.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "",
                Format.Count(w.Second?.Bids ?? 0),
                Format.Count(w.Auctions));
        }

        return new DemoResult(results, table, $"{Format.Count(windows.Count)} windows, {Format.Count(complete.Count)} of them complete; the partial windows at the edges of the data are not shown.");
    }

    private sealed class WindowTop(DateTimeOffset start, DateTimeOffset end)
    {
        public DateTimeOffset Start { get; } = start;

        public DateTimeOffset End { get; } = end;

        public AuctionCount? First { get; private set; }

        public AuctionCount? Second { get; private set; }

        public long Auctions { get; private set; }

        public void Add(AuctionCount r)
        {
            Auctions++;
            if (First is null || r.Bids > First.Bids)
            {
                Second = First;
                First = r;
            }
            else if (Second is null || r.Bids > Second.Bids)
            {
                Second = r;
            }
        }
    }
}
