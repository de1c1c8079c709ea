using LinqStream.Testing.Nexmark;

namespace LinqStream.Cli.Showcase;

/// <summary>A generated NEXMark data set, split into the bid and auction streams the showcase queries read.</summary>
internal sealed class DemoData
{
    private DemoData(long events, long eventsPerSecond, Bid[] bids, Auction[] auctions)
    {
        Events = events;
        EventsPerSecond = eventsPerSecond;
        Bids = bids;
        Auctions = auctions;
    }

    /// <summary>Gets the number of NEXMark events generated (people, auctions and bids).</summary>
    public long Events { get; }

    /// <summary>Gets the generator's event rate, in events per second of event time.</summary>
    public long EventsPerSecond { get; }

    public Bid[] Bids { get; }

    public Auction[] Auctions { get; }

    /// <summary>Gets the event time the data set spans.</summary>
    public TimeSpan Span => TimeSpan.FromTicks(Events * TimeSpan.TicksPerSecond / EventsPerSecond);

    /// <summary>Generates the first <paramref name="events"/> NEXMark events at <paramref name="eventsPerSecond"/> and keeps their bids and auctions.</summary>
    /// <remarks>
    /// Bids and auctions are generated directly (no <see cref="NexmarkEvent"/> wrappers), with the same ids and times as in the
    /// interleaved stream, so that 2 million events fit comfortably in memory.
    /// </remarks>
    public static DemoData Generate(long events, long eventsPerSecond)
    {
        long bids = 0, auctions = 0;
        for (long i = 0; i < events; i++)
        {
            switch (NexmarkGenerator.KindOf(i))
            {
                case NexmarkEventKind.Bid: bids++; break;
                case NexmarkEventKind.Auction: auctions++; break;
            }
        }

        var generator = new NexmarkGenerator(new NexmarkConfig { FirstEventRate = eventsPerSecond });
        return new DemoData(events, eventsPerSecond, generator.Bids(bids), generator.Auctions(auctions));
    }
}
