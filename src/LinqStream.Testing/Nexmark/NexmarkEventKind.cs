namespace LinqStream.Testing.Nexmark;

/// <summary>Says which of the three NEXMark entities a <see cref="NexmarkEvent"/> carries.</summary>
public enum NexmarkEventKind
{
    /// <summary>A new <see cref="Nexmark.Person"/>.</summary>
    Person = 0,

    /// <summary>A new <see cref="Nexmark.Auction"/>.</summary>
    Auction = 1,

    /// <summary>A new <see cref="Nexmark.Bid"/>.</summary>
    Bid = 2,
}
