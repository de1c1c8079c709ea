using LinqStream.Conformance.Tests.Infrastructure;
using LinqStream.Testing;

namespace LinqStream.Conformance.Tests.Nexmark;

/// <summary>
/// NEXMark q8: people who registered and opened an auction in the same 10-second tumbling window (a window join).
/// </summary>
/// <remarks>
/// Both sides are windowed, so each event lives for its window and two events overlap exactly when they are in the same
/// window; the result lives for that window.
/// </remarks>
public sealed class Q8NewUsersTests
{
    private static readonly TimeSpan Size = TimeSpan.FromSeconds(10);

    [Theory]
    [MemberData(nameof(Matrix.All), MemberType = typeof(Matrix))]
    public async Task NewUsers_AnyMode_JoinsPeopleAndTheirAuctionsOfTheSameWindow(Scenario scenario)
    {
        var sources = new Sources(NexmarkData.Get(50_000, scenario), scenario);
        var query =
            from p in sources.People.TumblingWindow(Size)
            join a in sources.Auctions.TumblingWindow(Size) on p.Id equals a.Seller
            select new { p.Id, p.Name, Auction = a.Id };

        var actual = await Run.EventsAsync(query, scenario, sources);

        var expected = ExpectedPairs(sources.Data).Select(x => Run.Event(x.Start, x.Start + Size.Ticks, new { x.Id, x.Name, x.Auction })).ToList();
        Assert.NotEmpty(expected);
        Run.AssertEquivalent(expected, actual);
    }

    [Theory]
    [MemberData(nameof(Matrix.All), MemberType = typeof(Matrix))]
    public async Task NewUsers_DistinctPerWindow_EmitsEachNewSellerOncePerWindow(Scenario scenario)
    {
        var sources = new Sources(NexmarkData.Get(50_000, scenario), scenario);
        var pairs =
            from p in sources.People.TumblingWindow(Size)
            join a in sources.Auctions.TumblingWindow(Size) on p.Id equals a.Seller
            select new { p.Id, p.Name };
        var query =
            from x in pairs.TumblingWindow(Size)
            group x by x.Id into g
            select new { Id = g.Key, Auctions = g.Count() };

        var actual = await Run.EventsAsync(query, scenario, sources);

        var expected =
            (from x in ExpectedPairs(sources.Data)
             group x by (x.Start, x.Id) into g
             select Run.Event(g.Key.Start, g.Key.Start + Size.Ticks, new { g.Key.Id, Auctions = g.Count() })).ToList();
        Assert.NotEmpty(expected);
        Run.AssertEquivalent(expected, actual);
    }

    private static IEnumerable<(long Start, long Id, string Name, long Auction)> ExpectedPairs(NexmarkData data) =>
        from p in data.People
        join a in data.Auctions on p.Id equals a.Seller
        let start = ReferenceWindows.WindowStart(p.DateTime.Ticks, Size.Ticks)
        where start == ReferenceWindows.WindowStart(a.DateTime.Ticks, Size.Ticks)
        select (start, p.Id, p.Name, a.Id);
}
