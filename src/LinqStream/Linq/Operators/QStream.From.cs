using System.Linq.Expressions;
using System.Reflection;
using LinqStream.Linq.Provider;

namespace LinqStream;

/// <summary>LinqStream's query operators: ingress, windows, lifetimes, joins and egress over <see cref="IQStream{T}"/>.</summary>
public static partial class QStream
{
    /// <summary>Replays <paramref name="source"/> as a stream, as fast as the CPU allows, with each event's time from <paramref name="eventTime"/>.</summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <param name="source">The events, in (roughly) time order.</param>
    /// <param name="eventTime">The event time of a payload.</param>
    /// <param name="policy">What to do with out-of-order events; the default is <see cref="IngressPolicy.Throw"/>.</param>
    /// <param name="name">The source's name in messages and plans.</param>
    /// <returns>A stream of point events.</returns>
    /// <remarks>Each event lives one tick at its time. A finished source sends a final watermark of +infinity.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="source"/> or <paramref name="eventTime"/> is null.</exception>
    public static IQStream<T> From<T>(IEnumerable<T> source, Expression<Func<T, DateTimeOffset>> eventTime, IngressPolicy? policy = null, string? name = null) =>
        FromCore<T>((MethodInfo)MethodBase.GetCurrentMethod()!, source, eventTime, policy, name);

    /// <inheritdoc cref="From{T}(IEnumerable{T}, Expression{Func{T, DateTimeOffset}}, IngressPolicy?, string?)"/>
    public static IQStream<T> From<T>(IEnumerable<T> source, Expression<Func<T, DateTime>> eventTime, IngressPolicy? policy = null, string? name = null) =>
        FromCore<T>((MethodInfo)MethodBase.GetCurrentMethod()!, source, eventTime, policy, name);

    /// <inheritdoc cref="From{T}(IEnumerable{T}, Expression{Func{T, DateTimeOffset}}, IngressPolicy?, string?)"/>
    public static IQStream<T> From<T>(IEnumerable<T> source, Expression<Func<T, long>> eventTime, IngressPolicy? policy = null, string? name = null) =>
        FromCore<T>((MethodInfo)MethodBase.GetCurrentMethod()!, source, eventTime, policy, name);

    /// <summary>Streams <paramref name="source"/> live, as its items arrive, with each event's time from <paramref name="eventTime"/>.</summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <param name="source">The events.</param>
    /// <param name="eventTime">The event time of a payload.</param>
    /// <param name="policy">What to do with out-of-order events; the default is <see cref="IngressPolicy.Throw"/>.</param>
    /// <param name="name">The source's name in messages and plans.</param>
    /// <returns>A stream of point events.</returns>
    /// <remarks>The source is read on a pool thread into a bounded buffer, so a slow query slows the reader (backpressure).</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="source"/> or <paramref name="eventTime"/> is null.</exception>
    public static IQStream<T> From<T>(IAsyncEnumerable<T> source, Expression<Func<T, DateTimeOffset>> eventTime, IngressPolicy? policy = null, string? name = null) =>
        FromCore<T>((MethodInfo)MethodBase.GetCurrentMethod()!, source, eventTime, policy, name);

    /// <inheritdoc cref="From{T}(IAsyncEnumerable{T}, Expression{Func{T, DateTimeOffset}}, IngressPolicy?, string?)"/>
    public static IQStream<T> From<T>(IAsyncEnumerable<T> source, Expression<Func<T, DateTime>> eventTime, IngressPolicy? policy = null, string? name = null) =>
        FromCore<T>((MethodInfo)MethodBase.GetCurrentMethod()!, source, eventTime, policy, name);

    /// <inheritdoc cref="From{T}(IAsyncEnumerable{T}, Expression{Func{T, DateTimeOffset}}, IngressPolicy?, string?)"/>
    public static IQStream<T> From<T>(IAsyncEnumerable<T> source, Expression<Func<T, long>> eventTime, IngressPolicy? policy = null, string? name = null) =>
        FromCore<T>((MethodInfo)MethodBase.GetCurrentMethod()!, source, eventTime, policy, name);

    /// <summary>Streams a live <paramref name="source"/>, with each event's time from <paramref name="eventTime"/>.</summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <param name="source">The events.</param>
    /// <param name="eventTime">The event time of a payload.</param>
    /// <param name="policy">What to do with out-of-order events; the default is <see cref="IngressPolicy.Throw"/>.</param>
    /// <param name="name">The source's name in messages and plans.</param>
    /// <returns>A stream of point events.</returns>
    /// <remarks>The observable is subscribed on a pool thread; <c>OnNext</c> waits while the query's input buffer is full.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="source"/> or <paramref name="eventTime"/> is null.</exception>
    public static IQStream<T> From<T>(IObservable<T> source, Expression<Func<T, DateTimeOffset>> eventTime, IngressPolicy? policy = null, string? name = null) =>
        FromCore<T>((MethodInfo)MethodBase.GetCurrentMethod()!, source, eventTime, policy, name);

    /// <inheritdoc cref="From{T}(IObservable{T}, Expression{Func{T, DateTimeOffset}}, IngressPolicy?, string?)"/>
    public static IQStream<T> From<T>(IObservable<T> source, Expression<Func<T, DateTime>> eventTime, IngressPolicy? policy = null, string? name = null) =>
        FromCore<T>((MethodInfo)MethodBase.GetCurrentMethod()!, source, eventTime, policy, name);

    /// <inheritdoc cref="From{T}(IObservable{T}, Expression{Func{T, DateTimeOffset}}, IngressPolicy?, string?)"/>
    public static IQStream<T> From<T>(IObservable<T> source, Expression<Func<T, long>> eventTime, IngressPolicy? policy = null, string? name = null) =>
        FromCore<T>((MethodInfo)MethodBase.GetCurrentMethod()!, source, eventTime, policy, name);

    /// <summary>Streams a partition of a file, log or message stream, read in batches ahead of the query, with each event's time from <paramref name="eventTime"/>.</summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <param name="source">The source (for example <see cref="JsonLinesFileSource{T}"/>).</param>
    /// <param name="eventTime">The event time of a payload.</param>
    /// <param name="policy">What to do with out-of-order events; the default is <see cref="IngressPolicy.Throw"/>.</param>
    /// <param name="name">The source's name in messages and plans; the default is the source's own name.</param>
    /// <returns>A stream of point events.</returns>
    /// <remarks>
    /// The source is read on a pool thread into a bounded queue (backpressure). Its position travels with each batch, so a job's
    /// checkpoint resumes it exactly after the last event the query consumed (<see cref="EventSource{T}.CanReplay"/>).
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="source"/> or <paramref name="eventTime"/> is null.</exception>
    public static IQStream<T> From<T>(EventSource<T> source, Expression<Func<T, DateTimeOffset>> eventTime, IngressPolicy? policy = null, string? name = null) =>
        FromCore<T>((MethodInfo)MethodBase.GetCurrentMethod()!, source, eventTime, policy, name ?? source?.Name);

    /// <inheritdoc cref="From{T}(EventSource{T}, Expression{Func{T, DateTimeOffset}}, IngressPolicy?, string?)"/>
    public static IQStream<T> From<T>(EventSource<T> source, Expression<Func<T, DateTime>> eventTime, IngressPolicy? policy = null, string? name = null) =>
        FromCore<T>((MethodInfo)MethodBase.GetCurrentMethod()!, source, eventTime, policy, name ?? source?.Name);

    /// <inheritdoc cref="From{T}(EventSource{T}, Expression{Func{T, DateTimeOffset}}, IngressPolicy?, string?)"/>
    public static IQStream<T> From<T>(EventSource<T> source, Expression<Func<T, long>> eventTime, IngressPolicy? policy = null, string? name = null) =>
        FromCore<T>((MethodInfo)MethodBase.GetCurrentMethod()!, source, eventTime, policy, name ?? source?.Name);

    private static IQStream<T> FromCore<T>(MethodInfo method, object source, LambdaExpression eventTime, IngressPolicy? policy, string? name)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(eventTime);
        name ??= $"{source.GetType().Name}<{typeof(T).Name}>";
        var closed = method.MakeGenericMethod(typeof(T));
        return QStreamProvider.Stream<T>(Expression.Call(
            null,
            closed,
            Expression.Constant(source, closed.GetParameters()[0].ParameterType),
            Expression.Quote(eventTime),
            Expression.Constant(policy ?? IngressPolicy.Throw, typeof(IngressPolicy)),
            Expression.Constant(name, typeof(string))));
    }
}
