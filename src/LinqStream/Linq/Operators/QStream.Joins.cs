using System.Linq.Expressions;
using System.Reflection;
using LinqStream.Linq.Provider;

namespace LinqStream;

public static partial class QStream
{
    /// <summary>Pairs events with equal keys whose lifetimes overlap (query syntax <c>join b in bids on a.Id equals b.Auction</c>).</summary>
    /// <typeparam name="TLeft">The left payload type.</typeparam>
    /// <typeparam name="TRight">The right payload type.</typeparam>
    /// <typeparam name="TKey">The key type.</typeparam>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="left">The left stream.</param>
    /// <param name="right">The right stream.</param>
    /// <param name="leftKey">The key of a left event.</param>
    /// <param name="rightKey">The key of a right event.</param>
    /// <param name="resultSelector">The result of a matched pair.</param>
    /// <returns>The matches; each lives for the intersection of the two lifetimes.</returns>
    /// <remarks>
    /// Two windowed streams with the same window are matched within each window (Flink's window join). State: the live events of each
    /// side, per key, freed when the watermark passes their end; a lifetime that never ends keeps state forever.
    /// </remarks>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static IQStream<TResult> Join<TLeft, TRight, TKey, TResult>(
        this IQStream<TLeft> left, IQStream<TRight> right, Expression<Func<TLeft, TKey>> leftKey, Expression<Func<TRight, TKey>> rightKey, Expression<Func<TLeft, TRight, TResult>> resultSelector) =>
        JoinCore<TResult>(Method<TLeft, TRight, TKey, TResult>(MethodBase.GetCurrentMethod()!), left, right, leftKey, rightKey, resultSelector);

    /// <summary>Like <c>Join</c>, and also gives each left event that matched nothing during its lifetime, paired with <c>default</c>.</summary>
    /// <typeparam name="TLeft">The left payload type.</typeparam>
    /// <typeparam name="TRight">The right payload type.</typeparam>
    /// <typeparam name="TKey">The key type.</typeparam>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="left">The left stream.</param>
    /// <param name="right">The right stream.</param>
    /// <param name="leftKey">The key of a left event.</param>
    /// <param name="rightKey">The key of a right event.</param>
    /// <param name="resultSelector">The result of a pair; the right side is <c>default</c> for an unmatched left event.</param>
    /// <returns>The matches and the unmatched left events.</returns>
    /// <remarks>An unmatched left event is known only when the watermark passes its end, so results are held back until then, in start order.</remarks>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static IQStream<TResult> LeftJoin<TLeft, TRight, TKey, TResult>(
        this IQStream<TLeft> left, IQStream<TRight> right, Expression<Func<TLeft, TKey>> leftKey, Expression<Func<TRight, TKey>> rightKey, Expression<Func<TLeft, TRight?, TResult>> resultSelector) =>
        JoinCore<TResult>(Method<TLeft, TRight, TKey, TResult>(MethodBase.GetCurrentMethod()!), left, right, leftKey, rightKey, resultSelector);

    /// <summary>Keeps the left events that no right event with an equal key overlaps (anti-join).</summary>
    /// <typeparam name="TLeft">The left payload type.</typeparam>
    /// <typeparam name="TRight">The right payload type.</typeparam>
    /// <typeparam name="TKey">The key type.</typeparam>
    /// <param name="left">The left stream.</param>
    /// <param name="right">The right stream.</param>
    /// <param name="leftKey">The key of a left event.</param>
    /// <param name="rightKey">The key of a right event.</param>
    /// <returns>The left events with no match, each with its own lifetime.</returns>
    /// <remarks>A left event is emitted when the watermark passes its end (only then is "no match" known), in start order.</remarks>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static IQStream<TLeft> WhereNotExists<TLeft, TRight, TKey>(
        this IQStream<TLeft> left, IQStream<TRight> right, Expression<Func<TLeft, TKey>> leftKey, Expression<Func<TRight, TKey>> rightKey)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        ArgumentNullException.ThrowIfNull(leftKey);
        ArgumentNullException.ThrowIfNull(rightKey);
        return QStreamProvider.Stream<TLeft>(Expression.Call(
            null, Method<TLeft, TRight, TKey>(MethodBase.GetCurrentMethod()!), left.Expression, right.Expression, Expression.Quote(leftKey), Expression.Quote(rightKey)));
    }

    private static IQStream<TResult> JoinCore<TResult>(MethodInfo method, System.Reactive.Linq.IQbservable left, System.Reactive.Linq.IQbservable right, LambdaExpression leftKey, LambdaExpression rightKey, LambdaExpression resultSelector)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        ArgumentNullException.ThrowIfNull(leftKey);
        ArgumentNullException.ThrowIfNull(rightKey);
        ArgumentNullException.ThrowIfNull(resultSelector);
        return QStreamProvider.Stream<TResult>(Expression.Call(
            null, method, left.Expression, right.Expression, Expression.Quote(leftKey), Expression.Quote(rightKey), Expression.Quote(resultSelector)));
    }
}
