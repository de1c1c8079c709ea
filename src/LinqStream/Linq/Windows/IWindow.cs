namespace LinqStream;

/// <summary>The events of one window, to aggregate in <c>Select(w =&gt; ...)</c> after a window operator.</summary>
/// <typeparam name="T">The payload type.</typeparam>
/// <remarks>
/// Inside a query, aggregates over it (<c>w.Count()</c>, <c>w.Sum(e =&gt; e.Price)</c>, ...) are computed incrementally;
/// any other use of the events buffers the window (the plan says so, and strict mode refuses it).
/// </remarks>
public interface IWindow<out T> : IEnumerable<T>
{
    /// <summary>Gets the window's bounds.</summary>
    WindowBounds Window { get; }
}

/// <summary>The events of one key in one window, from <c>GroupBy</c> on a windowed stream.</summary>
/// <typeparam name="TKey">The grouping key.</typeparam>
/// <typeparam name="T">The payload type.</typeparam>
public interface IWindowGroup<out TKey, out T> : IWindow<T>
{
    /// <summary>Gets the group's key.</summary>
    TKey Key { get; }
}

/// <summary>A materialized window or group: what a buffering aggregate (and the reference oracle) sees.</summary>
/// <typeparam name="TKey">The grouping key.</typeparam>
/// <typeparam name="T">The payload type.</typeparam>
public sealed class WindowGroup<TKey, T> : IWindowGroup<TKey, T>
{
    private readonly IReadOnlyList<T> _events;

    /// <summary>Initializes a new instance of the <see cref="WindowGroup{TKey, T}"/> class.</summary>
    /// <param name="key">The key.</param>
    /// <param name="window">The bounds.</param>
    /// <param name="events">The events, in time order.</param>
    public WindowGroup(TKey key, WindowBounds window, IReadOnlyList<T> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        Key = key;
        Window = window;
        _events = events;
    }

    /// <inheritdoc/>
    public TKey Key { get; }

    /// <inheritdoc/>
    public WindowBounds Window { get; }

    /// <inheritdoc/>
    public IEnumerator<T> GetEnumerator() => _events.GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
