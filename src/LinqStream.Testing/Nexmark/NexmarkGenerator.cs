namespace LinqStream.Testing.Nexmark;

/// <summary>
/// Generates the NEXMark auction stream (people, auctions and bids) deterministically from a <see cref="NexmarkConfig"/>.
/// </summary>
/// <remarks>
/// <para>
/// Every event is a pure function of the settings and its event number: the kind comes from the number's slot in
/// each epoch of 50 (slot 0 a person, 1–3 auctions, 4–49 bids), the event time is
/// <see cref="NexmarkConfig.BaseTime"/> + number × inter-event delay (minus an optional bounded delay, see
/// <see cref="NexmarkConfig.MaxDisorder"/>), and the random fields come from a stream seeded by the seed and the number.
/// So event <c>n</c> is the same whether it is made by <see cref="Generate"/>, in one big batch or in many small ones.
/// </para>
/// <para>
/// The model is Apache Beam's NEXMark generator with two changes: a bid or auction only refers to people and auctions
/// that already exist (Beam adds a lead of 10 future ids), and the hot bidder falls back to the hot seller until the
/// second person of its batch of 100 exists. Auctions last <see cref="NexmarkConfig.AuctionDurationSeconds"/> to
/// twice that, rather than Beam's horizon based on the event rate.
/// </para>
/// <para>The generator holds no mutable state: one instance may be used from several threads at once.</para>
/// </remarks>
public sealed partial class NexmarkGenerator
{
    /// <summary>How many different <c>Extra</c> strings are pre-built when <see cref="NexmarkConfig.ExtraFieldSize"/> is positive.</summary>
    private const int ExtraPoolSize = 64;

    private readonly ulong _seedHash;
    private readonly ulong _disorderSeedHash;
    private readonly long _baseTicks;
    private readonly long _eventsPerSecond;
    private readonly long _ticksPerEvent;
    private readonly long _maxDisorderTicks;
    private readonly long _auctionDurationTicks;
    private readonly int _hotAuctionRatio;
    private readonly int _hotBidderRatio;
    private readonly int _hotSellerRatio;
    private readonly long _numInFlightAuctions;
    private readonly long _numActivePeople;
    private readonly string[] _extras;

    /// <summary>Creates a generator with the default <see cref="NexmarkConfig"/>.</summary>
    public NexmarkGenerator()
        : this(new NexmarkConfig())
    {
    }

    /// <summary>Creates a generator with the given settings.</summary>
    /// <param name="config">The settings; see <see cref="NexmarkConfig"/> for each default and valid range.</param>
    /// <exception cref="ArgumentNullException"><paramref name="config"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A setting of <paramref name="config"/> is outside its valid range.</exception>
    public NexmarkGenerator(NexmarkConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        Validate(config);
        Config = config;
        _seedHash = EventRandom.Mix(unchecked((ulong)config.Seed));
        _disorderSeedHash = EventRandom.Mix(_seedHash ^ 0xD150D3E5UL);
        _baseTicks = config.BaseTime.Ticks;
        _eventsPerSecond = config.FirstEventRate;
        _ticksPerEvent = TimeSpan.TicksPerSecond % config.FirstEventRate == 0 ? TimeSpan.TicksPerSecond / config.FirstEventRate : -1;
        _maxDisorderTicks = config.MaxDisorder.Ticks;
        _auctionDurationTicks = config.AuctionDurationSeconds * TimeSpan.TicksPerSecond;
        _hotAuctionRatio = config.HotAuctionRatio;
        _hotBidderRatio = config.HotBidderRatio;
        _hotSellerRatio = config.HotSellerRatio;
        _numInFlightAuctions = config.NumInFlightAuctions;
        _numActivePeople = config.NumActivePeople;
        _extras = config.ExtraFieldSize == 0
            ? [string.Empty]
            : NexmarkStrings.BuildExtras(EventRandom.Mix(_seedHash ^ 0xE87AUL), config.ExtraFieldSize, ExtraPoolSize);
    }

    /// <summary>Gets the settings this generator was created with.</summary>
    public NexmarkConfig Config { get; }

    /// <summary>Tells which kind of event an event number is: slot 0 of every 50 is a person, slots 1–3 auctions, 4–49 bids.</summary>
    /// <param name="eventNumber">The event number, from 0.</param>
    /// <returns>The kind of event number <paramref name="eventNumber"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="eventNumber"/> is negative.</exception>
    public static NexmarkEventKind KindOf(long eventNumber)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(eventNumber);
        return NexmarkModel.KindOf(eventNumber);
    }

    /// <summary>Returns the event time of an event without generating the event.</summary>
    /// <param name="eventNumber">The event number, from 0.</param>
    /// <returns>The same value as <c>Generate(eventNumber).DateTime</c>, in UTC.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="eventNumber"/> is negative.</exception>
    public DateTime EventTime(long eventNumber)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(eventNumber);
        return EventTimeCore(eventNumber);
    }

    /// <summary>Generates one event.</summary>
    /// <param name="eventNumber">The event number, from 0.</param>
    /// <returns>Event number <paramref name="eventNumber"/> of the stream; equal to the same event generated any other way.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="eventNumber"/> is negative.</exception>
    public NexmarkEvent Generate(long eventNumber)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(eventNumber);
        return GenerateCore(eventNumber);
    }

    /// <summary>Lazily generates consecutive events.</summary>
    /// <param name="count">How many events to generate.</param>
    /// <param name="firstEventNumber">The number of the first event.</param>
    /// <returns>Events <paramref name="firstEventNumber"/> to <paramref name="firstEventNumber"/> + <paramref name="count"/> − 1, in order of event number.</returns>
    /// <remarks>Streams: each event is made when enumerated, so this works for counts too large to hold in memory.</remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> or <paramref name="firstEventNumber"/> is negative.</exception>
    public IEnumerable<NexmarkEvent> Events(long count, long firstEventNumber = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegative(firstEventNumber);
        return EventsIterator(count, firstEventNumber);
    }

    private static void Validate(NexmarkConfig config)
    {
        const string Name = nameof(config);
        ArgumentOutOfRangeException.ThrowIfLessThan(config.FirstEventRate, 1, Name + "." + nameof(config.FirstEventRate));
        ArgumentOutOfRangeException.ThrowIfLessThan(config.MaxDisorder, TimeSpan.Zero, Name + "." + nameof(config.MaxDisorder));
        ArgumentOutOfRangeException.ThrowIfLessThan(config.HotAuctionRatio, 1, Name + "." + nameof(config.HotAuctionRatio));
        ArgumentOutOfRangeException.ThrowIfLessThan(config.HotBidderRatio, 1, Name + "." + nameof(config.HotBidderRatio));
        ArgumentOutOfRangeException.ThrowIfLessThan(config.HotSellerRatio, 1, Name + "." + nameof(config.HotSellerRatio));
        ArgumentOutOfRangeException.ThrowIfLessThan(config.NumInFlightAuctions, 1, Name + "." + nameof(config.NumInFlightAuctions));
        ArgumentOutOfRangeException.ThrowIfLessThan(config.NumActivePeople, 1, Name + "." + nameof(config.NumActivePeople));
        ArgumentOutOfRangeException.ThrowIfLessThan(config.AuctionDurationSeconds, 1, Name + "." + nameof(config.AuctionDurationSeconds));
        ArgumentOutOfRangeException.ThrowIfNegative(config.ExtraFieldSize, Name + "." + nameof(config.ExtraFieldSize));
    }

    private IEnumerable<NexmarkEvent> EventsIterator(long count, long firstEventNumber)
    {
        for (var i = 0L; i < count; i++)
        {
            yield return GenerateCore(firstEventNumber + i);
        }
    }

    private NexmarkEvent GenerateCore(long eventNumber)
    {
        var time = EventTimeCore(eventNumber);
        return NexmarkModel.KindOf(eventNumber) switch
        {
            NexmarkEventKind.Person => new NexmarkEvent { Kind = NexmarkEventKind.Person, Person = NextPerson(eventNumber, time), DateTime = time },
            NexmarkEventKind.Auction => new NexmarkEvent { Kind = NexmarkEventKind.Auction, Auction = NextAuction(eventNumber, time), DateTime = time },
            _ => new NexmarkEvent { Kind = NexmarkEventKind.Bid, Bid = NextBid(eventNumber, time), DateTime = time },
        };
    }

    private DateTime EventTimeCore(long eventNumber)
    {
        var offset = _ticksPerEvent >= 0
            ? eventNumber * _ticksPerEvent
            : (long)((Int128)eventNumber * TimeSpan.TicksPerSecond / _eventsPerSecond);
        var ticks = _baseTicks + offset;
        if (_maxDisorderTicks > 0)
        {
            var random = new EventRandom(_disorderSeedHash, eventNumber);
            ticks = Math.Max(_baseTicks, ticks - random.NextLong(_maxDisorderTicks + 1));
        }

        return new DateTime(ticks, DateTimeKind.Utc);
    }
}
