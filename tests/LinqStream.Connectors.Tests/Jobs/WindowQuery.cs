using System.Diagnostics.CodeAnalysis;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Connectors.Tests.Jobs;

public sealed record WindowCount(DateTimeOffset End, long Auction, int Bids, long MaxPrice);

/// <summary>The query every end-to-end test runs: bids per auction per 1 ms window, with the highest price.</summary>
public static class WindowQuery
{
    [SuppressMessage("Trimming", "IL2026", Justification = "Tests run untrimmed.")]
    [SuppressMessage("AOT", "IL3050", Justification = "Tests run with the JIT.")]
    public static EventSerializer<WindowCount> Json { get; } = EventSerializer<WindowCount>.Json();

    public static IQStream<WindowCount> Over(IQStream<Bid> bids) =>
        from b in bids.TumblingWindow(TimeSpan.FromMilliseconds(1))
        group b by b.Auction into g
        select new WindowCount(g.Window.End, g.Key, g.Count(), g.Max(b => b.Price));

    public static Task<List<WindowCount>> ReferenceAsync(Bid[] bids) =>
        Over(QStream.From(bids, b => b.DateTime)).ToListAsync();
}
