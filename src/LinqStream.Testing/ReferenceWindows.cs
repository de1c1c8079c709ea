namespace LinqStream.Testing;

/// <summary>
/// The obviously correct answers: window queries computed naively with LINQ-to-objects over the whole input. Tests compare the
/// engine with these.
/// </summary>
public static class ReferenceWindows
{
    private const long UnixEpoch = 621_355_968_000_000_000L;

    /// <summary>The start of the epoch-aligned window of <paramref name="size"/> ticks that holds <paramref name="time"/>.</summary>
    /// <param name="time">The time in ticks.</param>
    /// <param name="size">The window size in ticks.</param>
    /// <returns>The window's start.</returns>
    public static long WindowStart(long time, long size)
    {
        var rel = (System.Numerics.BigInteger)time - UnixEpoch;
        var floor = System.Numerics.BigInteger.Divide(rel, size) * size;
        if (floor > rel)
        {
            floor -= size;
        }

        return (long)(floor + UnixEpoch);
    }

    /// <summary>Tumbling or hopping windows: every (window, key) with at least one event gives one result, ordered by window end.</summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <typeparam name="TKey">The key type.</typeparam>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="events">The events with their times, in arrival order (ties keep this order inside a group).</param>
    /// <param name="size">The window size in ticks.</param>
    /// <param name="hop">The hop in ticks (the size for tumbling windows).</param>
    /// <param name="key">The grouping key.</param>
    /// <param name="selector">The result selector over a materialized group.</param>
    /// <returns>(window start, window end, key, result), ordered by window end.</returns>
    public static List<(long Start, long End, TKey Key, TResult Result)> Fixed<T, TKey, TResult>(
        IEnumerable<(long Time, T Payload)> events, long size, long hop, Func<T, TKey> key, Func<IWindowGroup<TKey, T>, TResult> selector)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(selector);
        var memberships = new List<(long Start, long Time, int Order, T Payload)>();
        int order = 0;
        foreach (var (time, payload) in events)
        {
            // Every aligned window start s with s <= time < s + size.
            for (long s = WindowStart(time, hop); (System.Numerics.BigInteger)s + size > time; s -= hop)
            {
                memberships.Add((s, time, order, payload));
                if ((System.Numerics.BigInteger)s - hop < long.MinValue)
                {
                    break;
                }
            }

            order++;
        }

        return memberships
            .GroupBy(m => (m.Start, Key: new KeyBox<TKey>(key(m.Payload))))
            .Select(g =>
            {
                var items = g.OrderBy(m => m.Time).ThenBy(m => m.Order).Select(m => m.Payload).ToList();
                long end = (long)Math.Min((decimal)long.MaxValue, (decimal)g.Key.Start + size);
                return (g.Key.Start, End: end, g.Key.Key.Value, selector(new WindowGroup<TKey, T>(g.Key.Key.Value, WindowBounds.FromTicks(g.Key.Start, end), items)));
            })
            .OrderBy(r => r.End)
            .ToList();
    }

    /// <summary>Session windows per key: a session ends <paramref name="gap"/> after its last event (or at <paramref name="maxDuration"/>).</summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <typeparam name="TKey">The key type.</typeparam>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="events">The events with their times.</param>
    /// <param name="gap">The gap in ticks.</param>
    /// <param name="maxDuration">The longest session in ticks, or 0 for no limit.</param>
    /// <param name="key">The grouping key.</param>
    /// <param name="selector">The result selector over a materialized session.</param>
    /// <returns>(session start, session end, key, result), ordered by session end.</returns>
    public static List<(long Start, long End, TKey Key, TResult Result)> Sessions<T, TKey, TResult>(
        IEnumerable<(long Time, T Payload)> events, long gap, long maxDuration, Func<T, TKey> key, Func<IWindowGroup<TKey, T>, TResult> selector)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(selector);
        var results = new List<(long Start, long End, TKey Key, TResult Result)>();
        foreach (var byKey in events.Select((e, i) => (e.Time, e.Payload, Order: i)).GroupBy(e => new KeyBox<TKey>(key(e.Payload))))
        {
            var sorted = byKey.OrderBy(e => e.Time).ThenBy(e => e.Order).ToList();
            int first = 0;
            while (first < sorted.Count)
            {
                long start = sorted[first].Time;
                long end = Cap(start, sorted[first].Time);
                int last = first + 1;
                while (last < sorted.Count && sorted[last].Time < end)
                {
                    end = Cap(start, sorted[last].Time);
                    last++;
                }

                var items = sorted.Skip(first).Take(last - first).Select(e => e.Payload).ToList();
                results.Add((start, end, byKey.Key.Value, selector(new WindowGroup<TKey, T>(byKey.Key.Value, WindowBounds.FromTicks(start, end), items))));
                first = last;
            }
        }

        return results.OrderBy(r => r.End).ToList();

        long Cap(long start, long lastTime)
        {
            decimal end = (decimal)lastTime + gap;
            if (maxDuration > 0)
            {
                end = Math.Min(end, (decimal)start + maxDuration);
            }

            return (long)Math.Min(end, long.MaxValue);
        }
    }

    private readonly record struct KeyBox<TKey>(TKey Value);
}
