using System.Linq.Expressions;

namespace LinqStream.Physical.Aggregate;

/// <summary>The compiled form of a window's result selector: the incremental aggregates it needs and how to build a result.</summary>
/// <remarks>Built by physical planning (Query/Physicalization/AggregatePlanner.cs) from the aggregates translation recognised; one per operator.</remarks>
internal sealed class AggregatePlan<T, TKey, TResult>
{
    public required AggregateColumn<T>[] Columns { get; init; }

    /// <summary>Gets <c>(key, windowStart, windowEnd, slot) =&gt; result</c>.</summary>
    public required Func<TKey, long, long, int, TResult> Result { get; init; }

    /// <summary>
    /// Gets the expression of <see cref="Result"/>, for error messages: built when first read, since a kernel found by its recipe
    /// (a query compiled again) is not built (<see cref="Kernels.KernelRecipe"/>).
    /// </summary>
    public required Lazy<LambdaExpression> ResultExpression { get; init; }

    /// <summary>Gets why the window is buffered, or null when every aggregate is incremental.</summary>
    public string? BufferReason { get; init; }
}
