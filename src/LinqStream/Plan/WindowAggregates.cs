using System.Linq.Expressions;

namespace LinqStream.Plan;

/// <summary>Which aggregate a window's result selector computes (recognised by translation, mapped to a column by physical planning).</summary>
internal enum AggregateKind
{
    /// <summary><c>Count</c> or <c>LongCount</c>, with an optional predicate (in <see cref="AggregateCall.Filter"/>).</summary>
    Count,

    /// <summary><c>Any(p)</c>: at least one event passes the filter.</summary>
    Any,

    /// <summary><c>All(p)</c>: no event passes the filter, which holds <c>!p</c>.</summary>
    All,

    /// <summary><c>Select(f).Distinct().Count()</c>.</summary>
    DistinctCount,

    Sum,
    Average,
    Min,
    Max,

    /// <summary><c>OrderBy[Descending](f)[.ThenBy...][.Select(p)].Take(k)</c>.</summary>
    TopK,

    /// <summary><c>MinBy(f)</c>: the first event with the smallest key.</summary>
    MinBy,

    /// <summary><c>MaxBy(f)</c>: the first event with the largest key.</summary>
    MaxBy,

    /// <summary><c>Aggregate([seed,] func[, result])</c>.</summary>
    Fold,

    /// <summary><c>Aggregate(IAggregate)</c>.</summary>
    User,

    /// <summary>No incremental form: the group's events are kept until the window closes.</summary>
    Buffer,
}

/// <summary>One aggregate a window's result selector reads: its kind, its input (filter and value over the window's events) and its options.</summary>
/// <remarks>
/// <see cref="Placeholder"/> stands for the aggregate's value in <see cref="WindowAggregates.Result"/>; its type is the type the
/// selector reads there (the LINQ method's result type, <c>bool</c> for <c>Any</c>/<c>All</c>, the group's type for a buffer).
/// </remarks>
internal sealed class AggregateCall
{
    public required AggregateKind Kind { get; init; }

    /// <summary>Gets the printed form, e.g. <c>Count(where b =&gt; (b.Price &gt; 10))</c>; <c>Explain()</c> shows it.</summary>
    public required string Description { get; init; }

    public required ParameterExpression Placeholder { get; init; }

    /// <summary>Gets which events take part (null: all of them).</summary>
    public LambdaExpression? Filter { get; init; }

    /// <summary>Gets the value each event gives (the summed value, the distinct value, the sort key; null for counts and buffers).</summary>
    public LambdaExpression? Value { get; init; }

    /// <summary>Gets whether a nullable value's nulls were removed by <see cref="Filter"/> (<c>Average</c> then gives null for no value).</summary>
    public bool SkipsNulls { get; init; }

    /// <summary>Gets <c>k</c> of a top-k (1 for MinBy/MaxBy).</summary>
    public int K { get; init; }

    /// <summary>Gets whether a top-k's single sort key is descending.</summary>
    public bool Descending { get; init; }

    /// <summary>Gets the direction of each component when a top-k sorts by several keys (<see cref="Value"/> is then a value tuple of them).</summary>
    public IReadOnlyList<bool>? KeyDirections { get; init; }

    /// <summary>Gets a top-k's <c>Select(p)</c> applied to the kept events.</summary>
    public LambdaExpression? Projection { get; init; }

    /// <summary>Gets a fold's seed (null: the first value).</summary>
    public Expression? Seed { get; init; }

    /// <summary>Gets a fold's <c>(acc, value) =&gt; acc</c>.</summary>
    public LambdaExpression? Func { get; init; }

    /// <summary>Gets a fold's result selector.</summary>
    public LambdaExpression? ResultSelector { get; init; }

    /// <summary>Gets a user aggregate's instance (evaluated once, at translation).</summary>
    public object? Instance { get; init; }

    /// <summary>Gets a user aggregate's <c>TInput</c>, <c>TState</c> and <c>TResult</c>.</summary>
    public IReadOnlyList<Type>? InstanceTypes { get; init; }

    public override string ToString() => Description;

    /// <summary>The printed input of an aggregate: <c>where filter, value</c>.</summary>
    public static string FormatInput(LambdaExpression? filter, LambdaExpression? value) =>
        (filter is null ? string.Empty : "where " + filter + (value is null ? string.Empty : ", ")) + (value?.ToString() ?? string.Empty);
}

/// <summary>
/// A window's result selector as translation recognised it: the aggregates it reads, in order, and the result shape that
/// combines them.
/// </summary>
/// <remarks>
/// <see cref="Result"/> is <c>(key, windowStart, windowEnd) =&gt; ...</c> with each aggregate's <see cref="AggregateCall.Placeholder"/>
/// free in its body where the selector used the aggregate (<c>g.Key</c> is <c>key</c>, <c>g.Window</c> the bounds).
/// </remarks>
internal sealed class WindowAggregates
{
    public required IReadOnlyList<AggregateCall> Calls { get; init; }

    public required LambdaExpression Result { get; init; }

    /// <summary>Gets why the window is buffered, or null when every aggregate is incremental.</summary>
    public string? BufferReason { get; init; }

    public override string ToString() => string.Join(", ", Calls.Select(c => c.Description));
}
