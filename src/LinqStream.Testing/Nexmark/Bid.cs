namespace LinqStream.Testing.Nexmark;

/// <summary>A NEXMark bid: a person offering a price on an auction.</summary>
public sealed record Bid
{
    /// <summary>Gets the id of the <see cref="Nexmark.Auction"/> bid on.</summary>
    public long Auction { get; init; }

    /// <summary>Gets the id of the <see cref="Person"/> bidding.</summary>
    public long Bidder { get; init; }

    /// <summary>Gets the price offered, in cents, from 100 to 100,000,000.</summary>
    public long Price { get; init; }

    /// <summary>Gets the channel the bid came through (for example "Google" or "channel-42").</summary>
    public string Channel { get; init; } = "";

    /// <summary>Gets the URL of the page the bid was placed from.</summary>
    public string Url { get; init; } = "";

    /// <summary>Gets the event time (UTC) at which the bid was placed.</summary>
    public DateTime DateTime { get; init; }

    /// <summary>Gets padding that makes the record heavier; empty unless <see cref="NexmarkConfig.ExtraFieldSize"/> is set.</summary>
    public string Extra { get; init; } = "";
}
