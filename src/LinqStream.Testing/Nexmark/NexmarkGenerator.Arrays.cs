namespace LinqStream.Testing.Nexmark;

/// <summary>Bulk generation into arrays, for benchmarks that must not measure the generator.</summary>
public sealed partial class NexmarkGenerator
{
    /// <summary>Generates consecutive events into an array.</summary>
    /// <param name="count">How many events to generate, at most <see cref="Array.MaxLength"/>.</param>
    /// <param name="firstEventNumber">The number of the first event.</param>
    /// <returns>Events <paramref name="firstEventNumber"/> to <paramref name="firstEventNumber"/> + <paramref name="count"/> − 1, in order of event number.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative or too large, or <paramref name="firstEventNumber"/> is negative.</exception>
    public NexmarkEvent[] EventsArray(long count, long firstEventNumber = 0)
    {
        var events = new NexmarkEvent[CheckArrayLength(count)];
        ArgumentOutOfRangeException.ThrowIfNegative(firstEventNumber);
        for (var i = 0; i < events.Length; i++)
        {
            events[i] = GenerateCore(firstEventNumber + i);
        }

        return events;
    }

    /// <summary>Generates the people of the stream by person index, skipping the other events.</summary>
    /// <param name="count">How many people to generate, at most <see cref="Array.MaxLength"/>.</param>
    /// <param name="firstPersonIndex">The index of the first person: 0 is the stream's first person (id 1,000, event 0).</param>
    /// <returns>
    /// Persons <paramref name="firstPersonIndex"/> to <paramref name="firstPersonIndex"/> + <paramref name="count"/> − 1,
    /// equal to the ones <see cref="Events"/> yields. Person <c>k</c> is event number <c>50k</c>.
    /// </returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative or too large, or <paramref name="firstPersonIndex"/> is negative.</exception>
    public Person[] People(long count, long firstPersonIndex = 0)
    {
        var people = new Person[CheckArrayLength(count)];
        ArgumentOutOfRangeException.ThrowIfNegative(firstPersonIndex);
        for (var i = 0; i < people.Length; i++)
        {
            var eventNumber = NexmarkModel.PersonEventNumber(firstPersonIndex + i);
            people[i] = NextPerson(eventNumber, EventTimeCore(eventNumber));
        }

        return people;
    }

    /// <summary>Generates the auctions of the stream by auction index, skipping the other events.</summary>
    /// <param name="count">How many auctions to generate, at most <see cref="Array.MaxLength"/>.</param>
    /// <param name="firstAuctionIndex">The index of the first auction: 0 is the stream's first auction (id 1,000, event 1).</param>
    /// <returns>
    /// Auctions <paramref name="firstAuctionIndex"/> to <paramref name="firstAuctionIndex"/> + <paramref name="count"/> − 1,
    /// equal to the ones <see cref="Events"/> yields. Auction <c>a</c> is event number <c>50(a / 3) + 1 + a % 3</c>.
    /// </returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative or too large, or <paramref name="firstAuctionIndex"/> is negative.</exception>
    public Auction[] Auctions(long count, long firstAuctionIndex = 0)
    {
        var auctions = new Auction[CheckArrayLength(count)];
        ArgumentOutOfRangeException.ThrowIfNegative(firstAuctionIndex);
        for (var i = 0; i < auctions.Length; i++)
        {
            var eventNumber = NexmarkModel.AuctionEventNumber(firstAuctionIndex + i);
            auctions[i] = NextAuction(eventNumber, EventTimeCore(eventNumber));
        }

        return auctions;
    }

    /// <summary>Generates the bids of the stream by bid index, skipping the other events.</summary>
    /// <param name="count">How many bids to generate, at most <see cref="Array.MaxLength"/>.</param>
    /// <param name="firstBidIndex">The index of the first bid: 0 is the stream's first bid (event 4).</param>
    /// <returns>
    /// Bids <paramref name="firstBidIndex"/> to <paramref name="firstBidIndex"/> + <paramref name="count"/> − 1, equal to
    /// the ones <see cref="Events"/> yields. Bid <c>b</c> is event number <c>50(b / 46) + 4 + b % 46</c>, so
    /// <c>count</c> bids span about <c>count × 50 / 46</c> events of event time.
    /// </returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative or too large, or <paramref name="firstBidIndex"/> is negative.</exception>
    public Bid[] Bids(long count, long firstBidIndex = 0)
    {
        var bids = new Bid[CheckArrayLength(count)];
        ArgumentOutOfRangeException.ThrowIfNegative(firstBidIndex);
        for (var i = 0; i < bids.Length; i++)
        {
            var eventNumber = NexmarkModel.BidEventNumber(firstBidIndex + i);
            bids[i] = NextBid(eventNumber, EventTimeCore(eventNumber));
        }

        return bids;
    }

    private static int CheckArrayLength(long count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, Array.MaxLength);
        return (int)count;
    }
}
