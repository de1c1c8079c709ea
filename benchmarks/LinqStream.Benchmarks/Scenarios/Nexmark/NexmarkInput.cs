using LinqStream.Testing.Nexmark;

namespace LinqStream.Benchmarks.Scenarios.Nexmark;

/// <summary>
/// A pre-generated NEXMark stream: every query reads the same interleaved array of people, auctions and bids (as NEXMark's
/// single event source), so events per second always counts every event the source produced, not only the ones a query keeps.
/// </summary>
public sealed class NexmarkInput
{
    /// <summary>Events per benchmark run: 50 s of event time at <see cref="BenchmarkRate"/>, so five 10 s tumbling windows and 25 hops of 2 s.</summary>
    public const int BenchmarkEvents = 5_000_000;

    /// <summary>Events per second of event time in benchmarks: a 10 s window holds a million events (920k bids, 60k auctions, 20k people).</summary>
    public const long BenchmarkRate = 100_000;

    /// <summary>Events for the quick answer checks (CI): 60 s of event time at <see cref="QuickRate"/>, the same number of windows as a benchmark, thinly filled.</summary>
    public const int QuickEvents = 120_000;

    /// <summary>Events per second of event time in the quick checks.</summary>
    public const long QuickRate = 2_000;

    private NexmarkInput(NexmarkConfig config, NexmarkEvent[] events)
    {
        Config = config;
        Events = events;
        Auctions = [.. events.Where(e => e.Kind == NexmarkEventKind.Auction).Select(e => e.Auction!)];
        People = [.. events.Where(e => e.Kind == NexmarkEventKind.Person).Select(e => e.Person!)];
        Bids = [.. events.Where(e => e.Kind == NexmarkEventKind.Bid).Select(e => e.Bid!)];
    }

    /// <summary>Gets the generator's settings.</summary>
    public NexmarkConfig Config { get; }

    /// <summary>Gets every event, in event-time order: what the measured queries read.</summary>
    public NexmarkEvent[] Events { get; }

    /// <summary>Gets the auctions in order of creation. q4 and q9 read them a second time as the stream of auction closes.</summary>
    public Auction[] Auctions { get; }

    /// <summary>Gets the people, for the models.</summary>
    public Person[] People { get; }

    /// <summary>Gets the bids, for the models.</summary>
    public Bid[] Bids { get; }

    /// <summary>Gets the longest an auction can last (twice <see cref="NexmarkConfig.AuctionDurationSeconds"/>).</summary>
    public TimeSpan MaxAuctionDuration => TimeSpan.FromSeconds(2 * Config.AuctionDurationSeconds);

    /// <summary>Gets the largest difference between two auctions' durations: how far closes can be out of order.</summary>
    public TimeSpan AuctionCloseDisorder => TimeSpan.FromSeconds(Config.AuctionDurationSeconds);

    /// <summary>Gets the benchmark-scale input.</summary>
    public static NexmarkInput ForBenchmark() => Generate(BenchmarkEvents, BenchmarkRate);

    /// <summary>Gets the small input of the quick checks.</summary>
    public static NexmarkInput ForQuickCheck() => Generate(QuickEvents, QuickRate);

    /// <summary>Generates the first <paramref name="events"/> events at <paramref name="eventsPerSecond"/> (seed 42, in order).</summary>
    public static NexmarkInput Generate(int events, long eventsPerSecond)
    {
        var config = new NexmarkConfig { FirstEventRate = eventsPerSecond };
        return new NexmarkInput(config, new NexmarkGenerator(config).EventsArray(events));
    }
}
