using LinqStream.Physical.Aggregate;
using LinqStream.Runtime;

namespace LinqStream.Parallel.TwoPhase;

/// <summary>
/// The second phase of a two-phase aggregate, for one aggregate: reads its words out of each partial group and merges them into
/// the slots of the aggregate's own column, which holds the state, answers the result kernel and writes checkpoints exactly
/// as at parallelism 1 (so a checkpoint restores at any parallelism).
/// </summary>
internal sealed class PartialMergeColumn<T, TKey, TWords> : AggregateColumn<PartialGroup<TKey, TWords>>
    where TWords : struct
{
    private readonly AggregateColumn<T> _inner;
    private readonly int _offset;
    private readonly int _width;
    private long[] _words = [];

    public PartialMergeColumn(AggregateColumn<T> inner, int offset)
        : base(inner.Description)
    {
        _inner = inner;
        _offset = offset;
        _width = inner.PartialWordCount;
    }

    /// <summary>Wraps a plan's columns and keeps its result kernel (which reads the same column objects).</summary>
    public static AggregatePlan<PartialGroup<TKey, TWords>, TKey, TResult> PlanOf<TResult>(AggregatePlan<T, TKey, TResult> plan)
    {
        var columns = new AggregateColumn<PartialGroup<TKey, TWords>>[plan.Columns.Length];
        int offset = 0;
        for (int c = 0; c < columns.Length; c++)
        {
            columns[c] = new PartialMergeColumn<T, TKey, TWords>(plan.Columns[c], offset);
            offset += plan.Columns[c].PartialWordCount;
        }

        return new AggregatePlan<PartialGroup<TKey, TWords>, TKey, TResult>
        {
            Columns = columns,
            Result = plan.Result,
            ResultExpression = plan.ResultExpression,
            BufferReason = plan.BufferReason,
        };
    }

    public override void Grow(int capacity) => _inner.Grow(capacity);

    public override void Release() => _inner.Release();

    public override void Prepare(EventBatch<PartialGroup<TKey, TWords>> batch)
    {
        int count = batch.Count, width = _width;
        if (_words.Length < batch.Capacity * width)
        {
            _words = new long[batch.Capacity * width];
        }

        var groups = batch.Payload;
        var words = _words.AsSpan();
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<long> own = PartialGroup<TKey, TWords>.WordsOf(ref groups[i]);
            own.Slice(_offset, width).CopyTo(words.Slice(i * width, width));
        }
    }

    public override void Accumulate(int[] slots, int count) => _inner.MergePartials(slots, _words, count);

    public override void Clear(int slot) => _inner.Clear(slot);

    public override bool CanMerge => _inner.CanMerge;

    public override void Merge(int target, int source) => _inner.Merge(target, source);

    public override Type SlotType => _inner.SlotType;

    public override object? CaptureSlot(int slot) => _inner.CaptureSlot(slot);

    public override void RestoreSlot(int slot, object? state) => _inner.RestoreSlot(slot, state);
}
