using LinqStream.Testing.Nexmark;

namespace LinqStream.Cli.Tests.Docs;

/// <summary>The data the documentation's examples run on: 30,000 NEXMark events at 1,000 events/s, so they span 30 s of event time.</summary>
internal static class DocsData
{
    private static readonly NexmarkEvent[] s_events = new NexmarkGenerator(new NexmarkConfig { FirstEventRate = 1_000 }).EventsArray(30_000);

    public static readonly QueryOptions Strict = new() { Strict = true };

    public static Bid[] Bids { get; } = [.. s_events.Where(e => e.Bid is not null).Select(e => e.Bid!)];

    public static Auction[] Auctions { get; } = [.. s_events.Where(e => e.Auction is not null).Select(e => e.Auction!)];

    public static Person[] People { get; } = [.. s_events.Where(e => e.Person is not null).Select(e => e.Person!)];

    /// <summary>The streams the examples start from, in strict mode (a fallback to buffering fails the test).</summary>
    public static (IQStream<Bid> Bids, IQStream<Auction> Auctions, IQStream<Person> People) Streams() => (
        QStream.From(Bids, b => b.DateTime).WithOptions(Strict),
        QStream.From(Auctions, a => a.DateTime).WithOptions(Strict),
        QStream.From(People, p => p.DateTime).WithOptions(Strict));

    public static long Ticks(TimeSpan span) => span.Ticks;
}
