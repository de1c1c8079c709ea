namespace LinqStream.Testing.Nexmark;

/// <summary>Settings for <see cref="NexmarkGenerator"/>. Two generators with equal settings produce identical streams.</summary>
/// <remarks>
/// The model follows the published NEXMark benchmark as Apache Beam's generator implements it: out of every 50 events,
/// 1 is a person, 3 are auctions and 46 are bids; a few "hot" auctions, bidders and sellers get most of the traffic.
/// </remarks>
public sealed record NexmarkConfig
{
    /// <summary>Gets the seed that every event's random draws are derived from.</summary>
    /// <value>The default value is 42. Any value is valid.</value>
    public long Seed { get; init; } = 42;

    /// <summary>Gets how many events happen per second of event time.</summary>
    /// <value>
    /// The default value is 1,000,000 events per second, which puts consecutive events 10 ticks (1 µs) apart.
    /// Must be at least 1. When 10,000,000 is not a multiple of the rate, event times are rounded down to the tick.
    /// </value>
    public long FirstEventRate { get; init; } = 1_000_000;

    /// <summary>Gets the event time of event number 0. A value whose kind is not UTC is read as UTC.</summary>
    /// <value>The default value is 2026-01-01T00:00:00Z.</value>
    public DateTime BaseTime { get; init; } = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    /// <summary>Gets how far an event's time may lag behind its in-order time.</summary>
    /// <value>
    /// The default value is <see cref="TimeSpan.Zero"/>: event time never decreases. When positive, each event's time
    /// is its in-order time minus a delay drawn from [0, <see cref="MaxDisorder"/>] (never earlier than
    /// <see cref="BaseTime"/>), so a watermark of "latest time seen minus <see cref="MaxDisorder"/>" is never passed
    /// by a later event. The delay has its own random stream, so turning disorder on changes no other field.
    /// Must not be negative.
    /// </value>
    public TimeSpan MaxDisorder { get; init; }

    /// <summary>Gets how bids are spread over auctions: one bid in <see cref="HotAuctionRatio"/> picks an in-flight auction at random, the others go to the hot auction.</summary>
    /// <value>The default value is 2 (half the bids go to the hot auction). Must be at least 1; 1 turns the hot auction off.</value>
    public int HotAuctionRatio { get; init; } = 2;

    /// <summary>Gets how bids are spread over bidders: one bid in <see cref="HotBidderRatio"/> comes from a random active person, the others from the hot bidder.</summary>
    /// <value>The default value is 4 (three bids in four come from the hot bidder). Must be at least 1; 1 turns the hot bidder off.</value>
    public int HotBidderRatio { get; init; } = 4;

    /// <summary>Gets how auctions are spread over sellers: one auction in <see cref="HotSellerRatio"/> has a random active person as seller, the others the hot seller.</summary>
    /// <value>The default value is 4 (three auctions in four come from the hot seller). Must be at least 1; 1 turns the hot seller off.</value>
    public int HotSellerRatio { get; init; } = 4;

    /// <summary>Gets how many of the latest auctions a non-hot bid picks from.</summary>
    /// <value>The default value is 100. Must be at least 1.</value>
    public int NumInFlightAuctions { get; init; } = 100;

    /// <summary>Gets how many of the latest people a non-hot bidder or seller is picked from.</summary>
    /// <value>The default value is 1,000. Must be at least 1.</value>
    public int NumActivePeople { get; init; } = 1000;

    /// <summary>Gets the shortest auction, in seconds of event time; each auction lasts between this and twice this.</summary>
    /// <value>The default value is 10 (auctions last 10 to 20 seconds, uniformly at tick resolution). Must be at least 1.</value>
    public int AuctionDurationSeconds { get; init; } = 10;

    /// <summary>Gets the length, in characters, of the <c>Extra</c> padding field of every person, auction and bid.</summary>
    /// <value>The default value is 0, which leaves <c>Extra</c> empty. Must not be negative.</value>
    public int ExtraFieldSize { get; init; }
}
