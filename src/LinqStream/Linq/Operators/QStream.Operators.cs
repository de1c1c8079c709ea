using System.Linq.Expressions;
using System.Reflection;
using LinqStream.Linq.Provider;

namespace LinqStream;

public static partial class QStream
{
    /// <summary>Keeps the events whose payload satisfies <paramref name="predicate"/>.</summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <param name="source">The stream.</param>
    /// <param name="predicate">The condition.</param>
    /// <returns>The filtered stream.</returns>
    /// <remarks>Stateless: lifetimes are unchanged and nothing is buffered. Consecutive filters and projections run as one compiled loop.</remarks>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static IQStream<T> Where<T>(this IQStream<T> source, Expression<Func<T, bool>> predicate)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(predicate);
        return QStreamProvider.Stream<T>(Expression.Call(null, Method<T>(MethodBase.GetCurrentMethod()!), source.Expression, Expression.Quote(predicate)));
    }

    /// <summary>Projects each payload into a new form.</summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="source">The stream.</param>
    /// <param name="selector">The projection.</param>
    /// <returns>The projected stream.</returns>
    /// <remarks>Stateless: lifetimes are unchanged and nothing is buffered.</remarks>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static IQStream<TResult> Select<T, TResult>(this IQStream<T> source, Expression<Func<T, TResult>> selector)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(selector);
        return QStreamProvider.Stream<TResult>(Expression.Call(null, Method<T, TResult>(MethodBase.GetCurrentMethod()!), source.Expression, Expression.Quote(selector)));
    }

    /// <summary>Replaces each event by the events of a sequence computed from its payload.</summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="source">The stream.</param>
    /// <param name="selector">The sequence for one payload.</param>
    /// <returns>The flattened stream.</returns>
    /// <remarks>Stateless: each result keeps the lifetime of the event it came from.</remarks>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static IQStream<TResult> SelectMany<T, TResult>(this IQStream<T> source, Expression<Func<T, IEnumerable<TResult>>> selector)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(selector);
        return QStreamProvider.Stream<TResult>(Expression.Call(null, Method<T, TResult>(MethodBase.GetCurrentMethod()!), source.Expression, Expression.Quote(selector)));
    }

    /// <summary>Replaces each event by the results of pairing it with each element of a sequence (query syntax <c>from a in s from b in f(a)</c>).</summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <typeparam name="TCollection">The element type of the sequence.</typeparam>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="source">The stream.</param>
    /// <param name="collectionSelector">The sequence for one payload.</param>
    /// <param name="resultSelector">The result for a payload and one element.</param>
    /// <returns>The flattened stream.</returns>
    /// <remarks>Stateless: each result keeps the lifetime of the event it came from.</remarks>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static IQStream<TResult> SelectMany<T, TCollection, TResult>(
        this IQStream<T> source, Expression<Func<T, IEnumerable<TCollection>>> collectionSelector, Expression<Func<T, TCollection, TResult>> resultSelector)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(collectionSelector);
        ArgumentNullException.ThrowIfNull(resultSelector);
        return QStreamProvider.Stream<TResult>(Expression.Call(
            null, Method<T, TCollection, TResult>(MethodBase.GetCurrentMethod()!), source.Expression, Expression.Quote(collectionSelector), Expression.Quote(resultSelector)));
    }

    /// <summary>Merges two streams into one, in time order.</summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <param name="first">The first stream.</param>
    /// <param name="second">The second stream.</param>
    /// <returns>Every event of both.</returns>
    /// <remarks>Lifetimes unchanged. State: the events of the stream that is ahead, until the other's watermark catches up.</remarks>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static IQStream<T> Union<T>(this IQStream<T> first, IQStream<T> second)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        return QStreamProvider.Stream<T>(Expression.Call(null, Method<T>(MethodBase.GetCurrentMethod()!), first.Expression, second.Expression));
    }

    /// <summary>Merges several streams into one, in time order.</summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <param name="first">The first stream.</param>
    /// <param name="others">The other streams.</param>
    /// <returns>Every event of all of them.</returns>
    /// <remarks>Lifetimes unchanged. State: the events of the streams that are ahead, until the slowest watermark catches up.</remarks>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static IQStream<T> Merge<T>(this IQStream<T> first, params IQStream<T>[] others)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(others);
        var expressions = new Expression[others.Length];
        for (int i = 0; i < others.Length; i++)
        {
            ArgumentNullException.ThrowIfNull(others[i], nameof(others));
            expressions[i] = others[i].Expression;
        }

        return QStreamProvider.Stream<T>(Expression.Call(null, Method<T>(MethodBase.GetCurrentMethod()!), first.Expression, Expression.NewArrayInit(typeof(IQStream<T>), expressions)));
    }
}
