namespace LinqStream;

/// <summary>A user-defined incremental aggregate, usable in a window's <c>Select</c> as <c>g.Aggregate(new MyAggregate())</c>.</summary>
/// <typeparam name="TInput">The type of the values it folds.</typeparam>
/// <typeparam name="TState">Its accumulator, kept per key per open window.</typeparam>
/// <typeparam name="TResult">Its result.</typeparam>
/// <remarks>Implement it on a struct to let the JIT specialise the aggregation loop for it.</remarks>
public interface IAggregate<TInput, TState, TResult>
{
    /// <summary>Returns the state of an empty window.</summary>
    /// <returns>The initial state.</returns>
    TState Initial();

    /// <summary>Folds one value into the state.</summary>
    /// <param name="state">The state so far.</param>
    /// <param name="input">The value.</param>
    /// <returns>The new state.</returns>
    TState Add(TState state, TInput input);

    /// <summary>Computes the result from the state.</summary>
    /// <param name="state">The final state.</param>
    /// <returns>The result.</returns>
    TResult Result(TState state);
}

/// <summary>LINQ-to-objects forms of LinqStream's aggregates, so the same query text runs on a list (as in a test oracle).</summary>
public static class AggregateExtensions
{
    /// <summary>Folds <paramref name="source"/> with a user aggregate.</summary>
    /// <typeparam name="TInput">The element type.</typeparam>
    /// <typeparam name="TState">The accumulator type.</typeparam>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="source">The values.</param>
    /// <param name="aggregate">The aggregate.</param>
    /// <returns>The result.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static TResult Aggregate<TInput, TState, TResult>(this IEnumerable<TInput> source, IAggregate<TInput, TState, TResult> aggregate)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(aggregate);
        var state = aggregate.Initial();
        foreach (var item in source)
        {
            state = aggregate.Add(state, item);
        }

        return aggregate.Result(state);
    }
}
