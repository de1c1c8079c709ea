namespace LinqStream.Testing.Nexmark;

/// <summary>
/// The id arithmetic of the NEXMark model: which kind each event number is, and which person and auction ids exist
/// by then. Every answer is a pure function of the event number, which is what lets events be generated independently.
/// </summary>
/// <remarks>
/// Event numbers come in epochs of <see cref="TotalProportion"/> = 50: slot 0 is a person, slots 1–3 are auctions,
/// slots 4–49 are bids. So person <c>k</c> (base 0) is event <c>50k</c> and auction <c>a</c> is event <c>50(a / 3) + 1 + a % 3</c>.
/// </remarks>
internal static class NexmarkModel
{
    public const int PersonProportion = 1;
    public const int AuctionProportion = 3;
    public const int BidProportion = 46;
    public const int TotalProportion = PersonProportion + AuctionProportion + BidProportion;

    public const long FirstPersonId = 1000;
    public const long FirstAuctionId = 1000;
    public const long FirstCategoryId = 10;
    public const int NumCategories = 5;

    /// <summary>Hot auctions, sellers and bidders move on every this many new auctions or people (Beam's HOT_*_RATIO constants).</summary>
    public const long HotIdGranularity = 100;

    public static NexmarkEventKind KindOf(long eventNumber)
    {
        var slot = eventNumber % TotalProportion;
        return slot < PersonProportion ? NexmarkEventKind.Person
            : slot < PersonProportion + AuctionProportion ? NexmarkEventKind.Auction
            : NexmarkEventKind.Bid;
    }

    /// <summary>The base-0 id of the latest person generated at or before <paramref name="eventNumber"/>.</summary>
    public static long LastBase0PersonId(long eventNumber)
    {
        var epoch = eventNumber / TotalProportion;
        var offset = eventNumber % TotalProportion;
        if (offset >= PersonProportion)
        {
            offset = PersonProportion - 1;
        }

        return (epoch * PersonProportion) + offset;
    }

    /// <summary>The base-0 id of the latest auction generated at or before <paramref name="eventNumber"/>; -1 before the first auction.</summary>
    public static long LastBase0AuctionId(long eventNumber)
    {
        var epoch = eventNumber / TotalProportion;
        var offset = eventNumber % TotalProportion;
        if (offset < PersonProportion)
        {
            epoch--;
            offset = AuctionProportion - 1;
        }
        else if (offset >= PersonProportion + AuctionProportion)
        {
            offset = AuctionProportion - 1;
        }
        else
        {
            offset -= PersonProportion;
        }

        return (epoch * AuctionProportion) + offset;
    }

    public static long PersonEventNumber(long personIndex)
        => (personIndex / PersonProportion * TotalProportion) + (personIndex % PersonProportion);

    public static long AuctionEventNumber(long auctionIndex)
        => (auctionIndex / AuctionProportion * TotalProportion) + PersonProportion + (auctionIndex % AuctionProportion);

    public static long BidEventNumber(long bidIndex)
        => (bidIndex / BidProportion * TotalProportion) + PersonProportion + AuctionProportion + (bidIndex % BidProportion);
}
