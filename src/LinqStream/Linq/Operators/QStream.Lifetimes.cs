using System.Linq.Expressions;
using System.Reflection;
using LinqStream.Linq.Provider;

namespace LinqStream;

public static partial class QStream
{
    /// <summary>Gives each event of a source the lifetime <c>[start, end)</c> read from its payload (e.g. an auction alive until it expires).</summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <param name="source">A stream made by <c>QStream.From</c>.</param>
    /// <param name="start">The event's start time; it replaces the source's event time.</param>
    /// <param name="end">The event's end time (exclusive); an end at or before the start keeps the event alive one tick.</param>
    /// <returns>The stream with interval lifetimes.</returns>
    /// <remarks>Applies at ingress, so the source's disorder policy orders events by <paramref name="start"/>. Stateless.</remarks>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static IQStream<T> WithLifetime<T>(this IQStream<T> source, Expression<Func<T, DateTimeOffset>> start, Expression<Func<T, DateTimeOffset>> end) =>
        WithLifetimeCore<T>(MethodBase.GetCurrentMethod()!, source, start, end);

    /// <inheritdoc cref="WithLifetime{T}(IQStream{T}, Expression{Func{T, DateTimeOffset}}, Expression{Func{T, DateTimeOffset}})"/>
    public static IQStream<T> WithLifetime<T>(this IQStream<T> source, Expression<Func<T, DateTime>> start, Expression<Func<T, DateTime>> end) =>
        WithLifetimeCore<T>(MethodBase.GetCurrentMethod()!, source, start, end);

    /// <inheritdoc cref="WithLifetime{T}(IQStream{T}, Expression{Func{T, DateTimeOffset}}, Expression{Func{T, DateTimeOffset}})"/>
    public static IQStream<T> WithLifetime<T>(this IQStream<T> source, Expression<Func<T, long>> start, Expression<Func<T, long>> end) =>
        WithLifetimeCore<T>(MethodBase.GetCurrentMethod()!, source, start, end);

    /// <summary>Lengthens (or, with a negative duration, shortens) every event's lifetime.</summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <param name="source">The stream.</param>
    /// <param name="duration">Added to each event's end; an event whose lifetime becomes empty is dropped.</param>
    /// <returns>The stream with changed ends.</returns>
    /// <remarks>Stateless; starts and order unchanged. Longer lifetimes mean more join state downstream.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="source"/> is null.</exception>
    public static IQStream<T> ExtendLifetime<T>(this IQStream<T> source, TimeSpan duration)
    {
        ArgumentNullException.ThrowIfNull(source);
        return QStreamProvider.Stream<T>(Expression.Call(null, Method<T>(MethodBase.GetCurrentMethod()!), source.Expression, Expression.Constant(duration)));
    }

    /// <summary>Moves every event (start and end) and the watermark by <paramref name="offset"/>.</summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <param name="source">The stream.</param>
    /// <param name="offset">The shift; negative moves events earlier.</param>
    /// <returns>The shifted stream.</returns>
    /// <remarks>Stateless; order unchanged.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="source"/> is null.</exception>
    public static IQStream<T> ShiftTime<T>(this IQStream<T> source, TimeSpan offset)
    {
        ArgumentNullException.ThrowIfNull(source);
        return QStreamProvider.Stream<T>(Expression.Call(null, Method<T>(MethodBase.GetCurrentMethod()!), source.Expression, Expression.Constant(offset)));
    }

    /// <summary>Makes every event a point event: it lives one tick at its start.</summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <param name="source">The stream.</param>
    /// <returns>The stream of point events.</returns>
    /// <remarks>Stateless. Use it after a window aggregate to re-window its results by their start.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="source"/> is null.</exception>
    public static IQStream<T> ToPointEvents<T>(this IQStream<T> source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return QStreamProvider.Stream<T>(Expression.Call(null, Method<T>(MethodBase.GetCurrentMethod()!), source.Expression));
    }

    /// <summary>Ends each event when the next event with the same key starts ("the latest value per key").</summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <typeparam name="TKey">The key type.</typeparam>
    /// <param name="source">The stream.</param>
    /// <param name="keySelector">The key of an event.</param>
    /// <returns>The stream with clipped lifetimes.</returns>
    /// <remarks>State: one pending event per key, emitted (in start order) when its end is known.</remarks>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static IQStream<T> ClipLifetime<T, TKey>(this IQStream<T> source, Expression<Func<T, TKey>> keySelector)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(keySelector);
        return QStreamProvider.Stream<T>(Expression.Call(null, Method<T, TKey>(MethodBase.GetCurrentMethod()!), source.Expression, Expression.Quote(keySelector)));
    }

    private static IQStream<T> WithLifetimeCore<T>(MethodBase method, IQStream<T> source, LambdaExpression start, LambdaExpression end)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(start);
        ArgumentNullException.ThrowIfNull(end);
        return QStreamProvider.Stream<T>(Expression.Call(null, Method<T>(method), source.Expression, Expression.Quote(start), Expression.Quote(end)));
    }
}
