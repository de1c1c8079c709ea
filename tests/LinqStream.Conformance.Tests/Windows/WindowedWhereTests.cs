using LinqStream.Conformance.Tests.Infrastructure;
using LinqStream.Testing;

namespace LinqStream.Conformance.Tests.Windows;

/// <summary>
/// <c>Where</c> on a windowed stream (<c>from b in s.TumblingWindow(...) where ... group b by ...</c>): a filter before the
/// aggregate, documented as moved below the window by the plan.
/// </summary>
public sealed class WindowedWhereTests
{
    private static readonly TimeSpan Size = TimeSpan.FromSeconds(6);
    private static readonly TimeSpan Hop = TimeSpan.FromSeconds(2);

    [Theory]
    [MemberData(nameof(Matrix.All), MemberType = typeof(Matrix))]
    public async Task WindowedWhere_ThenGroupBy_FiltersBeforeAggregating(Scenario scenario)
    {
        var sources = new Sources(NexmarkData.Get(20_000, scenario), scenario);
        var query =
            from b in sources.Bids.HoppingWindow(Size, Hop)
            where b.Price > 1000
            group b by b.Auction into g
            select new { Auction = g.Key, Bids = g.Count(), Bidders = g.Select(b => b.Bidder).Distinct().Count() };

        var actual = await Run.EventsAsync(query, scenario, sources);

        var expected = ReferenceWindows.Fixed(sources.Data.Bids.Where(b => b.Price > 1000).Select(b => (b.DateTime.Ticks, b)), Size.Ticks, Hop.Ticks, b => b.Auction,
                g => new { Auction = g.Key, Bids = g.Count(), Bidders = g.Select(b => b.Bidder).Distinct().Count() })
            .Select(r => Run.Event(r.Start, r.End, r.Result))
            .ToList();
        Run.AssertEquivalent(expected, actual);
    }

    [Theory]
    [MemberData(nameof(Matrix.All), MemberType = typeof(Matrix))]
    public async Task WindowedWhere_ThenWholeWindowSelect_FiltersBeforeAggregating(Scenario scenario)
    {
        var sources = new Sources(NexmarkData.Get(20_000, scenario), scenario);
        var query = sources.Bids.TumblingWindow(Size).Where(b => b.Price > 1000).Select(w => new { Bids = w.Count(), Max = w.Max(b => b.Price) });

        var actual = await Run.EventsAsync(query, scenario, sources);

        var expected = ReferenceWindows.Fixed(sources.Data.Bids.Where(b => b.Price > 1000).Select(b => (b.DateTime.Ticks, b)), Size.Ticks, Size.Ticks, b => 0,
                g => new { Bids = g.Count(), Max = g.Max(b => b.Price) })
            .Select(r => Run.Event(r.Start, r.End, r.Result))
            .ToList();
        Run.AssertEquivalent(expected, actual);
    }
}
