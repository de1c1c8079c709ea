using System.Linq.Expressions;
using System.Reflection;
using LinqStream.Linq.Provider;

namespace LinqStream;

public static partial class QStream
{
    /// <summary>
    /// A count-based (ROWS) over-window per key: for each event, <paramref name="aggregate"/> folded over the last
    /// <paramref name="rows"/> events of its key, the event itself included (SQL's
    /// <c>OVER (PARTITION BY key ORDER BY time ROWS BETWEEN rows − 1 PRECEDING AND CURRENT ROW)</c>).
    /// </summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <typeparam name="TKey">The key type (partition).</typeparam>
    /// <typeparam name="TState">The aggregate's accumulator.</typeparam>
    /// <typeparam name="TResult">The aggregate's result, the payload of the output.</typeparam>
    /// <param name="source">The stream.</param>
    /// <param name="keySelector">The key of an event.</param>
    /// <param name="rows">How many events of the key the aggregate sees, the current one included (at least 1).</param>
    /// <param name="keyIdleTimeout">
    /// When a key's rows are forgotten: once this much event time has passed since the start of the key's latest event, its
    /// rows are dropped, and its next event sees only itself. <see cref="TimeSpan.MaxValue"/> never forgets (then the state
    /// grows with the number of keys).
    /// </param>
    /// <param name="aggregate">The aggregate, folded from <see cref="IAggregate{TInput, TState, TResult}.Initial"/> over the key's
    /// rows oldest first, the current event last (implement it on a struct so the fold is specialised for it).</param>
    /// <returns>One result per event, with the event's lifetime, in the input's order.</returns>
    /// <remarks>
    /// "The last rows" are in the stream's order (docs/semantics.md §8): by start, ties in the order the engine delivers them,
    /// which is a function of the input alone. State: at most <paramref name="rows"/> payloads per key seen within
    /// <paramref name="keyIdleTimeout"/>; a key is freed when the watermark passes its latest start plus the timeout.
    /// Per event the aggregate adds <c>min(rows, events of the key)</c> values; nothing is allocated once the tables have grown.
    /// </remarks>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> is less than 1, or <paramref name="keyIdleTimeout"/> is not positive.</exception>
    public static IQStream<TResult> Over<T, TKey, TState, TResult>(
        this IQStream<T> source, Expression<Func<T, TKey>> keySelector, int rows, TimeSpan keyIdleTimeout, IAggregate<T, TState, TResult> aggregate)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(keySelector);
        ArgumentNullException.ThrowIfNull(aggregate);
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(keyIdleTimeout, TimeSpan.Zero);
        return QStreamProvider.Stream<TResult>(Expression.Call(
            null,
            Method<T, TKey, TState, TResult>(MethodBase.GetCurrentMethod()!),
            source.Expression,
            Expression.Quote(keySelector),
            Expression.Constant(rows),
            Expression.Constant(keyIdleTimeout),
            Expression.Constant(aggregate, typeof(IAggregate<T, TState, TResult>))));
    }
}
