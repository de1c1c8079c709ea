using LinqStream.Runtime;

namespace LinqStream.Parallel;

/// <summary>
/// Runs the split keyed aggregate of a job somewhere else than on this process's threads: the cluster package places the source
/// task and the keyed tasks on other machines and connects them with its own channels (docs/cluster.md, Milestone 2). When a
/// run's context has a host, <see cref="Physical.Windows.WindowAggregateStream{T, TKey, TResult}"/> hands the aggregate to it
/// instead of building a <see cref="KeyedParallelRun{T, TKey, TResult}"/>; everything else of the plan is wired as usual.
/// </summary>
internal interface IParallelRunHost
{
    /// <summary>
    /// Connects the split aggregate: its input (one stream, or one per union input when <paramref name="partitioned"/>), its key kernel,
    /// a factory of its operator (one per task), what the operator reads of each event (<paramref name="crossing"/>: the members an
    /// exchange that copies events must carry, docs/cluster.md "Projection below the exchange") and what follows it.
    /// </summary>
    void Connect<T, TKey, TResult>(
        IReadOnlyList<PhysicalStream<T>> inputs,
        bool partitioned,
        Action<T[], ulong[]?, TKey[], int> keyKernel,
        Func<IStreamObserver<TResult>, QueryContext, IStreamObserver<T>> createOperator,
        ExchangeProjection crossing,
        IStreamObserver<TResult> downstream,
        QueryContext context);
}
