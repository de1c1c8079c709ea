namespace LinqStream.Physical.Windows.ArgMax;

/// <summary>
/// An operator that keeps, of each window of its input (the events that share a start, in a row), only the events at the window's
/// maximum value: both arg-max steps (<see cref="WindowMaximumOperator{TIn, TOut}"/>: parallelism 1's and the global
/// <see cref="WindowArgMaxOperator{TIn, TRow, TKey, TResult}"/>, and a task's local <see cref="TaskArgMaxOperator{T}"/> at
/// parallelism &gt; 1). A window aggregate that feeds one directly (<see cref="FixedWindowAggregateOperator{T, TKey, TResult}"/>)
/// passes on only its window's results at that maximum, in their order: the operator then sees the same maximum and keeps the same
/// events, in the same order, and the rest are neither sorted into key order nor sent (issues #16 and #19, q5).
/// </summary>
/// <typeparam name="T">The operator's input (the aggregate's results).</typeparam>
internal interface IWindowMaximumInput<T>
{
    /// <summary>
    /// Computes the compared value of each of <paramref name="count"/> events, widened to <c>long</c>, with the operator's own compiled
    /// kernel, as it does per batch (<paramref name="absent"/> null: all present). User code: it may throw.
    /// </summary>
    void ComputeValues(T[] payload, ulong[]? absent, long[] values, int count);
}
