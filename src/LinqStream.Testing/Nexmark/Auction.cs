namespace LinqStream.Testing.Nexmark;

/// <summary>A NEXMark auction: an item a seller puts up for bidding until it expires.</summary>
public sealed record Auction
{
    /// <summary>Gets the auction's id. Auction ids start at 1,000 and grow by one per auction.</summary>
    public long Id { get; init; }

    /// <summary>Gets the name of the item on sale.</summary>
    public string ItemName { get; init; } = "";

    /// <summary>Gets the description of the item on sale.</summary>
    public string Description { get; init; } = "";

    /// <summary>Gets the opening price, in cents.</summary>
    public long InitialBid { get; init; }

    /// <summary>Gets the reserve price, in cents; always above <see cref="InitialBid"/>.</summary>
    public long Reserve { get; init; }

    /// <summary>Gets the event time (UTC) at which the auction opened.</summary>
    public DateTime DateTime { get; init; }

    /// <summary>Gets the event time (UTC) at which the auction closes; always after <see cref="DateTime"/>.</summary>
    public DateTime Expires { get; init; }

    /// <summary>Gets the id of the <see cref="Person"/> selling the item.</summary>
    public long Seller { get; init; }

    /// <summary>Gets the item's category, from 10 to 14.</summary>
    public long Category { get; init; }

    /// <summary>Gets padding that makes the record heavier; empty unless <see cref="NexmarkConfig.ExtraFieldSize"/> is set.</summary>
    public string Extra { get; init; } = "";
}
