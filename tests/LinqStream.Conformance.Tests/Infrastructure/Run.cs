namespace LinqStream.Conformance.Tests.Infrastructure;

/// <summary>Runs a query under a scenario and compares its events with an oracle's.</summary>
public static class Run
{
    /// <summary>Runs <paramref name="query"/> with the scenario's options and returns its events with their lifetimes.</summary>
    /// <remarks>Also checks two contracts that hold for every query: output in start order, and no late event at any source.</remarks>
    public static async Task<List<StreamEvent<T>>> EventsAsync<T>(IQStream<T> query, Scenario scenario, Sources? sources = null)
    {
        var events = new List<StreamEvent<T>>();
        await foreach (var e in query.WithOptions(scenario.Options).ToStreamEvents())
        {
            events.Add(e);
        }

        for (int i = 1; i < events.Count; i++)
        {
            Assert.True(events[i - 1].Start <= events[i].Start, $"Output is not in start order at {i}: {events[i - 1]} then {events[i]}.");
        }

        sources?.AssertNoLateEvents();
        return events;
    }

    /// <summary>Runs <paramref name="query"/> as built (its own options) and returns its events with their lifetimes, checking they come in start order.</summary>
    public static async Task<List<StreamEvent<T>>> EventsInStartOrder<T>(IQStream<T> query)
    {
        var events = new List<StreamEvent<T>>();
        await foreach (var e in query.ToStreamEvents())
        {
            Assert.True(events.Count == 0 || events[^1].Start <= e.Start, $"Output is not in start order at {events.Count}.");
            events.Add(e);
        }

        return events;
    }

    /// <summary>Asserts the same events (lifetime and payload) in any order; payloads compare by <paramref name="canonical"/> (default ToString).</summary>
    public static void AssertEquivalent<T>(IEnumerable<StreamEvent<T>> expected, IEnumerable<StreamEvent<T>> actual, Func<T, string>? canonical = null)
    {
        Assert.Equal(Canonical(expected, canonical), Canonical(actual, canonical));
    }

    /// <summary>Asserts the same events in the same order.</summary>
    public static void AssertSequence<T>(IEnumerable<StreamEvent<T>> expected, IEnumerable<StreamEvent<T>> actual, Func<T, string>? canonical = null)
    {
        canonical ??= p => p?.ToString() ?? "null";
        Assert.Equal(expected.Select(e => Line(e, canonical)), actual.Select(e => Line(e, canonical)));
    }

    public static StreamEvent<T> Event<T>(long start, long end, T payload) => new(start, end, payload);

    public static StreamEvent<T> Point<T>(DateTime time, T payload) => new(time.Ticks, time.Ticks + 1, payload);

    private static List<string> Canonical<T>(IEnumerable<StreamEvent<T>> events, Func<T, string>? canonical)
    {
        canonical ??= p => p?.ToString() ?? "null";
        return events.Select(e => Line(e, canonical)).Order(StringComparer.Ordinal).ToList();
    }

    // Fixed-width ticks so that ordinal string order is time order (all times are after year 2000, positive and 18 digits).
    private static string Line<T>(StreamEvent<T> e, Func<T, string> canonical) =>
        FormattableString.Invariant($"[{e.Start:D19}, {e.End:D19}) {canonical(e.Payload)}");
}
