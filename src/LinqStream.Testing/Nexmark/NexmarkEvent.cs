namespace LinqStream.Testing.Nexmark;

/// <summary>One event of the NEXMark stream: exactly one of <see cref="Person"/>, <see cref="Auction"/> or <see cref="Bid"/>, as told by <see cref="Kind"/>.</summary>
public sealed record NexmarkEvent
{
    /// <summary>Gets which entity the event carries; the matching property is the only one that is not null.</summary>
    public NexmarkEventKind Kind { get; init; }

    /// <summary>Gets the new person when <see cref="Kind"/> is <see cref="NexmarkEventKind.Person"/>; otherwise null.</summary>
    public Person? Person { get; init; }

    /// <summary>Gets the new auction when <see cref="Kind"/> is <see cref="NexmarkEventKind.Auction"/>; otherwise null.</summary>
    public Auction? Auction { get; init; }

    /// <summary>Gets the new bid when <see cref="Kind"/> is <see cref="NexmarkEventKind.Bid"/>; otherwise null.</summary>
    public Bid? Bid { get; init; }

    /// <summary>Gets the event time (UTC); the same as the carried entity's own <c>DateTime</c>.</summary>
    public DateTime DateTime { get; init; }

    /// <summary>Wraps a person in an event.</summary>
    /// <param name="person">The new person.</param>
    /// <returns>An event of kind <see cref="NexmarkEventKind.Person"/> at the person's time.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="person"/> is null.</exception>
    public static NexmarkEvent ForPerson(Person person)
    {
        ArgumentNullException.ThrowIfNull(person);
        return new NexmarkEvent { Kind = NexmarkEventKind.Person, Person = person, DateTime = person.DateTime };
    }

    /// <summary>Wraps an auction in an event.</summary>
    /// <param name="auction">The new auction.</param>
    /// <returns>An event of kind <see cref="NexmarkEventKind.Auction"/> at the auction's opening time.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="auction"/> is null.</exception>
    public static NexmarkEvent ForAuction(Auction auction)
    {
        ArgumentNullException.ThrowIfNull(auction);
        return new NexmarkEvent { Kind = NexmarkEventKind.Auction, Auction = auction, DateTime = auction.DateTime };
    }

    /// <summary>Wraps a bid in an event.</summary>
    /// <param name="bid">The new bid.</param>
    /// <returns>An event of kind <see cref="NexmarkEventKind.Bid"/> at the bid's time.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="bid"/> is null.</exception>
    public static NexmarkEvent ForBid(Bid bid)
    {
        ArgumentNullException.ThrowIfNull(bid);
        return new NexmarkEvent { Kind = NexmarkEventKind.Bid, Bid = bid, DateTime = bid.DateTime };
    }
}
