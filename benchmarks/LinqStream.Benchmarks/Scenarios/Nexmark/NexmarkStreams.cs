using LinqStream.Testing.Nexmark;

namespace LinqStream.Benchmarks.Scenarios.Nexmark;

/// <summary>The LinqStream side of the NEXMark setup: one source over the interleaved events, split into the three entity streams.</summary>
/// <remarks>
/// As in NEXMark's SQL suites (a view per entity over one source), each query filters the one event stream; a query that reads two
/// entities reads the source once (the plan multicasts it). Every query runs with <c>Strict = true</c>, so an aggregate without an
/// incremental form fails instead of silently buffering.
/// </remarks>
public static class NexmarkStreams
{
    /// <summary>The event stream, as point events at each event's time, with the input's <see cref="NexmarkInput.Policy"/> and <see cref="NexmarkInput.Options"/>.</summary>
    public static IQStream<NexmarkEvent> Events(NexmarkInput input) =>
        QStream.From(input.Events, e => e.DateTime, input.Policy, "nexmark").WithOptions(input.Options);

    /// <summary>The bids of an event stream.</summary>
    public static IQStream<Bid> Bids(IQStream<NexmarkEvent> events) =>
        from e in events
        where e.Kind == NexmarkEventKind.Bid
        select e.Bid!;

    /// <summary>The auctions of an event stream (point events at creation).</summary>
    public static IQStream<Auction> Auctions(IQStream<NexmarkEvent> events) =>
        from e in events
        where e.Kind == NexmarkEventKind.Auction
        select e.Auction!;

    /// <summary>The people of an event stream (point events at registration).</summary>
    public static IQStream<Person> People(IQStream<NexmarkEvent> events) =>
        from e in events
        where e.Kind == NexmarkEventKind.Person
        select e.Person!;
}
