namespace LinqStream.Physical.Windows.ArgMax;

/// <summary>
/// An operator that keeps, of each window of its input (the events that share a start, in a row), only the events at the window's
/// maximum value: <see cref="WindowArgMaxOperator{TIn, TRow, TKey, TResult}"/>. A window aggregate that feeds it directly may pass on
/// only its window's results at that maximum (<see cref="FixedWindowAggregateOperator{T, TKey, TResult}"/>), in their order: the
/// operator then sees the same maximum and keeps the same events, in the same order, without the rest crossing to it (issue #19, q5).
/// </summary>
/// <typeparam name="T">The operator's input (the aggregate's results).</typeparam>
internal interface IWindowMaximumInput<T>
{
    /// <summary>Computes the compared value of each of <paramref name="count"/> events, widened to <c>long</c>, as the operator does per batch (<paramref name="absent"/> null: all present).</summary>
    void ComputeValues(T[] payload, ulong[]? absent, long[] values, int count);
}
