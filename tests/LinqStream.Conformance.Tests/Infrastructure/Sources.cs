using LinqStream.Testing.Nexmark;

namespace LinqStream.Conformance.Tests.Infrastructure;

/// <summary>
/// The streams of one test run: each entity of a <see cref="NexmarkData"/> as a <see cref="QStream"/> source with the scenario's
/// ingress policy (<c>Throw</c> in order, <c>Reorder(disorder)</c> out of order) and its own statistics.
/// </summary>
/// <remarks>Each property call makes a new source; keep the stream in a variable to use one source twice (multicast).</remarks>
public sealed class Sources(NexmarkData data, Scenario scenario)
{
    private readonly List<(string Name, IngressStatistics Statistics)> _statistics = [];

    public NexmarkData Data { get; } = data;

    public IQStream<Bid> Bids => QStream.From(Data.Bids, b => b.DateTime, Policy("bids"), "bids");

    public IQStream<Auction> Auctions => QStream.From(Data.Auctions, a => a.DateTime, Policy("auctions"), "auctions");

    public IQStream<Person> People => QStream.From(Data.People, p => p.DateTime, Policy("people"), "people");

    /// <summary>Makes the policy for a source whose own disorder is at most <paramref name="extra"/> beyond the data set's.</summary>
    public IngressPolicy Policy(string name, TimeSpan extra = default)
    {
        var statistics = new IngressStatistics();
        _statistics.Add((name, statistics));
        var disorder = scenario.MaxDisorder + extra;
        var policy = disorder > TimeSpan.Zero ? IngressPolicy.Reorder(disorder) : IngressPolicy.Throw;
        return policy.WithStatistics(statistics);
    }

    /// <summary>Asserts that no source saw a late event: the reorder bound covers the generator's disorder.</summary>
    public void AssertNoLateEvents()
    {
        foreach (var (name, statistics) in _statistics)
        {
            Assert.True(statistics.Late == 0, $"Source '{name}' saw {statistics.Late} late events ({statistics.Dropped} dropped).");
        }
    }
}
