namespace LinqStream.Physical.Windows.ArgMax;

/// <summary>
/// An operator right after a window aggregate that passes on, of each window's results, only those at the window's maximum of a value
/// (a task's arg-max step, <see cref="TaskArgMaxOperator{T}"/>): the aggregate may then leave out, before it sorts a window's keys,
/// every result below the maximum of its keyed results (docs/parallelism.md, "q5: the window's maximum on every task").
/// </summary>
/// <typeparam name="T">The aggregate's results.</typeparam>
internal interface IKeepsWindowMaximum<T>
{
    /// <summary>Computes the compared value of each of <paramref name="count"/> results (the step's own kernel: it may throw, as user code).</summary>
    void ComputeValues(T[] results, long[] values, int count);
}
