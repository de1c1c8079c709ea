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
        Auctions = [.. events.Where(e => e.Kind == NexmarkEventKind.Auction).Select(e => e.Auction!).OrderBy(a => a.DateTime)];
        People = [.. events.Where(e => e.Kind == NexmarkEventKind.Person).Select(e => e.Person!).OrderBy(p => p.DateTime)];
        Bids = [.. events.Where(e => e.Kind == NexmarkEventKind.Bid).Select(e => e.Bid!).OrderBy(b => b.DateTime)];
        Options = new QueryOptions { Strict = true };
        Policy = config.MaxDisorder > TimeSpan.Zero ? IngressPolicy.Reorder(config.MaxDisorder) : IngressPolicy.Throw;
    }

    private NexmarkInput(NexmarkInput input, QueryOptions options)
    {
        Config = input.Config;
        Events = input.Events;
        Auctions = input.Auctions;
        People = input.People;
        Bids = input.Bids;
        Options = options;
        Policy = input.Policy;
    }

    /// <summary>Gets the options the LinqStream queries run with: <c>Strict = true</c> (an aggregate without an incremental form fails instead of buffering) and the default batch size and fusion.</summary>
    public QueryOptions Options { get; }

    /// <summary>Gets the ingress policy of the LinqStream queries: <c>Throw</c> for an in-order stream, <c>Reorder(MaxDisorder)</c> for a disordered one.</summary>
    public IngressPolicy Policy { get; }

    /// <summary>Gets the generator's settings.</summary>
    public NexmarkConfig Config { get; }

    /// <summary>Gets every event, in event-time order unless generated with disorder: what the measured queries read.</summary>
    public NexmarkEvent[] Events { get; }

    /// <summary>Gets the auctions in order of creation time. q4 and q9 read them a second time as the stream of auction closes.</summary>
    public Auction[] Auctions { get; }

    /// <summary>Gets the people in time order, for the models.</summary>
    public Person[] People { get; }

    /// <summary>Gets the bids in time order (events at the same time in stream order, as <c>Reorder</c> releases them), for the models.</summary>
    public Bid[] Bids { get; }

    /// <summary>Gets the longest an auction can last (twice <see cref="NexmarkConfig.AuctionDurationSeconds"/>).</summary>
    public TimeSpan MaxAuctionDuration => TimeSpan.FromSeconds(2 * Config.AuctionDurationSeconds);

    /// <summary>Gets the largest difference between two auctions' durations: how far closes can be out of order.</summary>
    public TimeSpan AuctionCloseDisorder => TimeSpan.FromSeconds(Config.AuctionDurationSeconds);

    /// <summary>The first <paramref name="events"/> events alone (the models of a benchmark case that reads a prefix of the input).</summary>
    public NexmarkInput Prefix(int events) => new(Config, Events[..events]);

    /// <summary>The same events, for LinqStream queries run with other options (the checks vary batch size and fusion, which must not change answers).</summary>
    public NexmarkInput With(QueryOptions options) => new(this, options);

    /// <summary>Gets the benchmark-scale input.</summary>
    public static NexmarkInput ForBenchmark() => Generate(BenchmarkEvents, BenchmarkRate);

    /// <summary>Gets the small input of the quick checks.</summary>
    public static NexmarkInput ForQuickCheck() => Generate(QuickEvents, QuickRate);

    /// <summary>Generates the first <paramref name="events"/> events at <paramref name="eventsPerSecond"/> (seed 42), in order or with bounded disorder.</summary>
    /// <param name="events">How many events.</param>
    /// <param name="eventsPerSecond">Events per second of event time.</param>
    /// <param name="maxDisorder">How late an event may be (<see cref="NexmarkConfig.MaxDisorder"/>); zero for an in-order stream.</param>
    public static NexmarkInput Generate(int events, long eventsPerSecond, TimeSpan maxDisorder = default)
    {
        var config = new NexmarkConfig { FirstEventRate = eventsPerSecond, MaxDisorder = maxDisorder };
        return new NexmarkInput(config, new NexmarkGenerator(config).EventsArray(events));
    }
}
