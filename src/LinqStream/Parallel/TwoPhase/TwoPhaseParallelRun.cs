using LinqStream.Runtime;

namespace LinqStream.Parallel.TwoPhase;

/// <summary>
/// A keyed window aggregate in two phases (docs/parallelism.md, "Two-phase aggregation"): each source task folds its events
/// into local (pane, key) groups (<see cref="LocalAggregateOperator{T, TKey, TWords}"/>) and ships each group once, as a
/// <see cref="PartialGroup{TKey, TWords}"/>, to the task owning the key's key group, which merges the partials of every source task
/// into its window state (<see cref="PartialMergeColumn{T, TKey, TWords}"/>) and emits as at parallelism 1.
/// </summary>
/// <remarks>
/// Only for aggregates whose partials merge to parallelism 1's answer in any order (<see cref="TwoPhaseAggregation.WhyNot"/>):
/// so a task takes its source tasks' channels as they come (<see cref="PartialsFanIn{T}"/>, no union, nothing buffered). At a
/// checkpoint barrier each source task ships its whole local table before the barrier: the local phase holds nothing, and the
/// tasks' window state is exactly parallelism 1's, so the checkpoint has parallelism 1's sections and restores at any parallelism.
/// </remarks>
internal sealed class TwoPhaseParallelRun<T, TKey, TWords, TResult> : KeyedParallelRun<T, PartialGroup<TKey, TWords>, TKey, TResult>
    where TWords : struct
{
    public TwoPhaseParallelRun(
        IReadOnlyList<PhysicalStream<T>> inputs,
        bool partitioned,
        Func<IStreamObserver<PartialGroup<TKey, TWords>>, QueryContext, IStreamObserver<T>> createLocal,
        Func<IStreamObserver<TResult>, QueryContext, IStreamObserver<PartialGroup<TKey, TWords>>> createMerge,
        IStreamObserver<TResult> downstream,
        QueryContext context,
        BroadcastSide<T>? broadcast = null)
        : base(inputs, partitioned, createLocal, PartialGroup<TKey, TWords>.KeyKernel, createMerge, orderedTaskInput: false, downstream, context, broadcast: broadcast)
    {
    }
}
