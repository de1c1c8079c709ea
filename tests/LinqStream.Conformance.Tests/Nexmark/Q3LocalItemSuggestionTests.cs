using LinqStream.Conformance.Tests.Infrastructure;

namespace LinqStream.Conformance.Tests.Nexmark;

/// <summary>
/// NEXMark q3: people in Oregon, Idaho or California who sell in category 10.
/// </summary>
/// <remarks>
/// Bounded form: a person is remembered for <see cref="PersonLife"/> after registering (<c>ExtendLifetime</c>), and an auction
/// is a point event, so an auction matches its seller only when it starts within that time: <c>p.t &lt;= a.t &lt;= p.t + life</c>
/// (a person lives <c>[p.t, p.t + 1 tick + life)</c>). The result lives in the intersection, at the auction's instant.
/// </remarks>
public sealed class Q3LocalItemSuggestionTests
{
    private static readonly TimeSpan PersonLife = TimeSpan.FromSeconds(10);

    [Theory]
    [MemberData(nameof(Matrix.All), MemberType = typeof(Matrix))]
    public async Task LocalItemSuggestion_AnyMode_JoinsSellersRememberedWhenTheAuctionStarts(Scenario scenario)
    {
        var sources = new Sources(NexmarkData.Get(50_000, scenario), scenario);
        var query =
            from p in sources.People.ExtendLifetime(PersonLife)
            join a in sources.Auctions on p.Id equals a.Seller
            where p.State == "OR" || p.State == "ID" || p.State == "CA"
            where a.Category == 10
            select new { p.Name, p.City, p.State, Auction = a.Id };

        var actual = await Run.EventsAsync(query, scenario, sources);

        var data = sources.Data;
        var expected =
            (from p in data.People
             join a in data.Auctions on p.Id equals a.Seller
             where p.State is "OR" or "ID" or "CA" && a.Category == 10
             where p.DateTime <= a.DateTime && a.DateTime.Ticks < p.DateTime.Ticks + 1 + PersonLife.Ticks
             select Run.Point(a.DateTime, new { p.Name, p.City, p.State, Auction = a.Id })).ToList();
        Assert.NotEmpty(expected);
        int unbounded =
            (from p in data.People
             join a in data.Auctions on p.Id equals a.Seller
             where p.State is "OR" or "ID" or "CA" && a.Category == 10
             select a).Count();
        Assert.True(expected.Count < unbounded, "The data set should have sellers whose lifetime has ended, or the test does not check the bound.");
        Run.AssertEquivalent(expected, actual);
    }
}
