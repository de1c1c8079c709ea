namespace LinqStream.Testing.Nexmark;

/// <summary>A NEXMark person: someone who opens auctions as a seller or places bids as a bidder.</summary>
public sealed record Person
{
    /// <summary>Gets the person's id. Person ids start at 1,000 and grow by one per person.</summary>
    public long Id { get; init; }

    /// <summary>Gets the person's full name.</summary>
    public string Name { get; init; } = "";

    /// <summary>Gets the person's email address.</summary>
    public string EmailAddress { get; init; } = "";

    /// <summary>Gets the person's credit card number, as four space-separated groups of four digits.</summary>
    public string CreditCard { get; init; } = "";

    /// <summary>Gets the city the person lives in.</summary>
    public string City { get; init; } = "";

    /// <summary>Gets the two-letter US state the person lives in.</summary>
    public string State { get; init; } = "";

    /// <summary>Gets the event time (UTC) at which the person registered.</summary>
    public DateTime DateTime { get; init; }

    /// <summary>Gets padding that makes the record heavier; empty unless <see cref="NexmarkConfig.ExtraFieldSize"/> is set.</summary>
    public string Extra { get; init; } = "";
}
