using System.Collections.Concurrent;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Conformance.Tests.Infrastructure;

/// <summary>
/// A NEXMark data set split by entity, generated once per (size, disorder) and shared by the tests that use it.
/// </summary>
/// <remarks>
/// The event rate is 1,000 events per second of event time, so 10,000 events span 10 s and windows of seconds hold hundreds of
/// events (at the generator's default rate of 1,000,000 per second, 10,000 events would span 10 ms).
/// Out of every 50 events, 1 is a person, 3 are auctions and 46 are bids.
/// </remarks>
public sealed class NexmarkData
{
    public const long EventsPerSecond = 1000;

    private static readonly ConcurrentDictionary<(int, TimeSpan), Lazy<NexmarkData>> s_cache = new();

    private NexmarkData(int events, TimeSpan disorder)
    {
        Disorder = disorder;
        var generator = new NexmarkGenerator(new NexmarkConfig { FirstEventRate = EventsPerSecond, MaxDisorder = disorder });
        var all = generator.EventsArray(events);
        People = [.. all.Where(e => e.Person is not null).Select(e => e.Person!)];
        Auctions = [.. all.Where(e => e.Auction is not null).Select(e => e.Auction!)];
        Bids = [.. all.Where(e => e.Bid is not null).Select(e => e.Bid!)];
    }

    public TimeSpan Disorder { get; }

    /// <summary>Gets the people, in arrival (event number) order.</summary>
    public Person[] People { get; }

    /// <summary>Gets the auctions, in arrival (event number) order.</summary>
    public Auction[] Auctions { get; }

    /// <summary>Gets the bids, in arrival (event number) order.</summary>
    public Bid[] Bids { get; }

    public static NexmarkData Get(int events, Scenario scenario) => Get(events, scenario.MaxDisorder);

    public static NexmarkData Get(int events, TimeSpan disorder) =>
        s_cache.GetOrAdd((events, disorder), key => new Lazy<NexmarkData>(() => new NexmarkData(key.Item1, key.Item2))).Value;
}
