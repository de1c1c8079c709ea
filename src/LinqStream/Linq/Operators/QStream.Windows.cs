using System.Linq.Expressions;
using System.Reflection;
using LinqStream.Linq.Provider;

namespace LinqStream;

public static partial class QStream
{
    /// <summary>Puts each event in the fixed-size, non-overlapping window that holds its time.</summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <param name="source">The stream.</param>
    /// <param name="size">The window size.</param>
    /// <returns>A windowed stream.</returns>
    /// <remarks>
    /// Lifetime: an event at <c>t</c> lives <c>[floor(t/size)*size, +size)</c>, windows aligned to the Unix epoch (as Flink).
    /// State: none by itself; a following aggregate keeps one accumulator per key per open window, freed when the watermark passes the window's end.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="source"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is zero or negative.</exception>
    public static IQWindowedStream<T> TumblingWindow<T>(this IQStream<T> source, TimeSpan size)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(size, TimeSpan.Zero);
        return QStreamProvider.Windowed<T>(Expression.Call(null, Method<T>(MethodBase.GetCurrentMethod()!), source.Expression, Expression.Constant(size)));
    }

    /// <summary>Puts each event in every window of length <paramref name="size"/>, starting every <paramref name="hop"/>, that holds its time.</summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <param name="source">The stream.</param>
    /// <param name="size">The window size.</param>
    /// <param name="hop">How often a window starts; at most <paramref name="size"/>.</param>
    /// <returns>A windowed stream.</returns>
    /// <remarks>
    /// Lifetime: an event at <c>t</c> lives <c>[floor(t/hop)*hop, +size)</c>, so it is counted in <c>size/hop</c> windows.
    /// State: one accumulator per key per open window, freed when the watermark passes the window's end.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="source"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> or <paramref name="hop"/> is zero or negative, or <paramref name="hop"/> is larger than <paramref name="size"/>.</exception>
    public static IQWindowedStream<T> HoppingWindow<T>(this IQStream<T> source, TimeSpan size, TimeSpan hop)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(size, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(hop, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(hop, size);
        return QStreamProvider.Windowed<T>(Expression.Call(null, Method<T>(MethodBase.GetCurrentMethod()!), source.Expression, Expression.Constant(size), Expression.Constant(hop)));
    }

    /// <summary>Groups each key's events into sessions that end after <paramref name="gap"/> without events.</summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <param name="source">The stream.</param>
    /// <param name="gap">The inactivity that ends a session.</param>
    /// <param name="maxDuration">The longest a session may last before it is cut, or null for no limit.</param>
    /// <returns>A windowed stream, to aggregate with <c>GroupBy(...).Select(...)</c> or <c>Select(w =&gt; ...)</c>.</returns>
    /// <remarks>
    /// <c>Window.Start</c> is the session's first event time; <c>Window.End</c> its last event time plus the gap. A result comes out when
    /// the watermark reaches <c>Window.End</c>, in order of <c>Window.End</c>, and lives <c>[End - 1 tick, End)</c>.
    /// State: one open session per key.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="source"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="gap"/> or <paramref name="maxDuration"/> is zero or negative.</exception>
    public static IQWindowedStream<T> SessionWindow<T>(this IQStream<T> source, TimeSpan gap, TimeSpan? maxDuration = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(gap, TimeSpan.Zero);
        if (maxDuration is { } max)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(max, TimeSpan.Zero, nameof(maxDuration));
        }

        return QStreamProvider.Windowed<T>(Expression.Call(null, Method<T>(MethodBase.GetCurrentMethod()!), source.Expression, Expression.Constant(gap), Expression.Constant(maxDuration, typeof(TimeSpan?))));
    }

    /// <summary>Groups the events of each window by key; follow with <c>Select(g =&gt; ...)</c> to aggregate each (window, key).</summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <typeparam name="TKey">The key type.</typeparam>
    /// <param name="source">The windowed stream.</param>
    /// <param name="keySelector">The key of an event.</param>
    /// <returns>A stream of groups, one per (window, key) with at least one event.</returns>
    /// <remarks>Each group gives exactly one result, when the watermark passes its window's end; results come in order of window end.</remarks>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static IQStream<IWindowGroup<TKey, T>> GroupBy<T, TKey>(this IQWindowedStream<T> source, Expression<Func<T, TKey>> keySelector)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(keySelector);
        return QStreamProvider.Stream<IWindowGroup<TKey, T>>(Expression.Call(null, Method<T, TKey>(MethodBase.GetCurrentMethod()!), source.Expression, Expression.Quote(keySelector)));
    }

    /// <summary>
    /// Groups the events of each window by key, each event seen through <paramref name="elementSelector"/>: what
    /// <c>group e.Price by e.Auction into g</c> writes. Follow with <c>Select(g =&gt; ...)</c>: <c>g.Sum()</c> sums the selected values.
    /// </summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <typeparam name="TKey">The key type.</typeparam>
    /// <typeparam name="TElement">The type of what each event contributes to its group.</typeparam>
    /// <param name="source">The windowed stream.</param>
    /// <param name="keySelector">The key of an event.</param>
    /// <param name="elementSelector">What an event contributes to its group.</param>
    /// <returns>A stream of groups, one per (window, key) with at least one event.</returns>
    /// <remarks>
    /// The same as <c>GroupBy(keySelector)</c> with every use of the group's elements read through <paramref name="elementSelector"/>:
    /// <c>g.Sum()</c> translates as <c>g.Select(elementSelector).Sum()</c>, so it is incremental wherever that is.
    /// </remarks>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static IQStream<IWindowGroup<TKey, TElement>> GroupBy<T, TKey, TElement>(this IQWindowedStream<T> source, Expression<Func<T, TKey>> keySelector, Expression<Func<T, TElement>> elementSelector)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(keySelector);
        ArgumentNullException.ThrowIfNull(elementSelector);
        return QStreamProvider.Stream<IWindowGroup<TKey, TElement>>(Expression.Call(null, Method<T, TKey, TElement>(MethodBase.GetCurrentMethod()!), source.Expression, Expression.Quote(keySelector), Expression.Quote(elementSelector)));
    }

    /// <summary>Aggregates each whole window: one result per window with at least one event.</summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="source">The windowed stream.</param>
    /// <param name="selector">The result of one window, from aggregates over it (<c>w.Count()</c>, <c>w.Max(e =&gt; e.Price)</c>, <c>w.Window.End</c>).</param>
    /// <returns>The results, in order of window end; each lives for its window.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static IQStream<TResult> Select<T, TResult>(this IQWindowedStream<T> source, Expression<Func<IWindow<T>, TResult>> selector)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(selector);
        return QStreamProvider.Stream<TResult>(Expression.Call(null, Method<T, TResult>(MethodBase.GetCurrentMethod()!), source.Expression, Expression.Quote(selector)));
    }

    /// <summary>Keeps the events of a windowed stream whose payload satisfies <paramref name="predicate"/> (before aggregation).</summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <param name="source">The windowed stream.</param>
    /// <param name="predicate">The condition.</param>
    /// <returns>The windowed stream, filtered.</returns>
    /// <remarks>Stateless; lifetimes unchanged. The plan moves the filter below the window.</remarks>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static IQWindowedStream<T> Where<T>(this IQWindowedStream<T> source, Expression<Func<T, bool>> predicate)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(predicate);
        return QStreamProvider.Windowed<T>(Expression.Call(null, Method<T>(MethodBase.GetCurrentMethod()!), source.Expression, Expression.Quote(predicate)));
    }

    private static MethodInfo Method<T>(MethodBase method) => ((MethodInfo)method).MakeGenericMethod(typeof(T));

    private static MethodInfo Method<T1, T2>(MethodBase method) => ((MethodInfo)method).MakeGenericMethod(typeof(T1), typeof(T2));

    private static MethodInfo Method<T1, T2, T3>(MethodBase method) => ((MethodInfo)method).MakeGenericMethod(typeof(T1), typeof(T2), typeof(T3));

    private static MethodInfo Method<T1, T2, T3, T4>(MethodBase method) => ((MethodInfo)method).MakeGenericMethod(typeof(T1), typeof(T2), typeof(T3), typeof(T4));
}
