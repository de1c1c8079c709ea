using LinqStream.Physical.Kernels;
using LinqStream.Runtime;

namespace LinqStream.Physical.Aggregate;

/// <summary>
/// One incremental aggregate (count, sum, ...) kept for every open (window, key) slot, in column arrays indexed by slot.
/// </summary>
/// <remarks>
/// Per batch: <see cref="Prepare"/> computes the input values once (one compiled loop), then <see cref="Accumulate"/> folds them
/// into the slots given per event (once per window the events belong to). One virtual call per batch, none per event.
/// </remarks>
internal abstract class AggregateColumn<T>
{
    protected AggregateColumn(string description) => Description = description;

    /// <summary>Gets how the plan printer shows this aggregate.</summary>
    public string Description { get; }

    /// <summary>Gets a value indicating whether the aggregate keeps every event (no incremental form).</summary>
    public virtual bool Buffers => false;

    /// <summary>Makes room for slots <c>0 .. capacity-1</c> (new slots empty; a smaller capacity keeps the slots below it).</summary>
    public abstract void Grow(int capacity);

    /// <summary>
    /// At the end of a run, with no slot live: gives the per-slot arrays back to the shared array pool, so the next run of a query in
    /// the process grows into them instead of allocating them again (a column that rents its arrays; the others keep theirs for
    /// the collector). The column holds no slot after it; <see cref="Grow"/> makes room again.
    /// </summary>
    public virtual void Release()
    {
    }

    /// <summary>Computes this aggregate's input values for the batch.</summary>
    public abstract void Prepare(EventBatch<T> batch);

    /// <summary>Folds event <c>i</c> into slot <c>slots[i]</c> for each <c>i</c> with <c>slots[i] &gt;= 0</c>.</summary>
    public abstract void Accumulate(int[] slots, int count);

    /// <summary>Empties a slot for reuse.</summary>
    public abstract void Clear(int slot);

    /// <summary>Gets a value indicating whether two slots' accumulators can be combined (hopping windows are then built from panes).</summary>
    public virtual bool CanMerge => false;

    /// <summary>Folds slot <paramref name="source"/> into slot <paramref name="target"/>, as if target's events came first.</summary>
    public virtual void Merge(int target, int source) => throw new NotSupportedException(Description + " cannot be merged.");

    /// <summary>
    /// Gets the number of 64-bit words this aggregate's accumulator takes in a partial group (two-phase aggregation,
    /// docs/parallelism.md), or 0 when it cannot be shipped and merged with the same answer as parallelism 1 whatever the order
    /// of the partials (an ordered fold, a floating-point sum, an integer sum's overflow check, a minimum of values that compare
    /// equal but differ).
    /// </summary>
    public virtual int PartialWordCount => 0;

    /// <summary>Writes slot <paramref name="slot"/>'s accumulator into <paramref name="words"/> (<see cref="PartialWordCount"/> words).</summary>
    public virtual void ExportPartial(int slot, Span<long> words) => throw new NotSupportedException(Description + " cannot be shipped as a partial accumulator.");

    /// <summary>
    /// Merges partial accumulators into slots: row <c>i</c>'s words (<c>words[i * PartialWordCount ..]</c>) into slot
    /// <c>slots[i]</c>, for each <c>i</c> with <c>slots[i] &gt;= 0</c>. One call per batch of partials.
    /// </summary>
    public virtual void MergePartials(int[] slots, long[] words, int count) => throw new NotSupportedException(Description + " cannot merge partial accumulators.");

    /// <summary>Gets the type of what <see cref="CaptureSlot"/> returns, so a checkpoint can write and read it.</summary>
    public abstract Type SlotType { get; }

    /// <summary>Copies one slot's accumulator out as plain data (checkpoints and state inspection).</summary>
    public abstract object? CaptureSlot(int slot);

    /// <summary>Gets a value indicating whether what <see cref="CaptureSlot"/> returns shares nothing the column changes later (so a
    /// checkpoint may write it off the query's thread); false when the accumulator may be an object the aggregate changes in place.</summary>
    public virtual bool CaptureIsACopy => false;

    /// <summary>Puts back what <see cref="CaptureSlot"/> gave, into a slot of a fresh column.</summary>
    public abstract void RestoreSlot(int slot, object? state);

    /// <summary>Gives slot <paramref name="target"/> (allocated, empty) a copy of slot <paramref name="source"/>'s accumulator, sharing
    /// nothing with it when <see cref="CaptureIsACopy"/> (a checkpoint's cut keeps the source slot unchanged while it is written off
    /// the query's thread, and the query goes on in the copy: docs/state.md, "Copy on write at the cut").</summary>
    public virtual void CopySlot(int source, int target) => RestoreSlot(target, CaptureSlot(source));

    public override string ToString() => Description;
}

/// <summary>An aggregate over values computed from each event (with an optional filter), e.g. <c>Sum(b =&gt; b.Price)</c>.</summary>
internal abstract class ValueAggregateColumn<T, TValue> : AggregateColumn<T>
{
    private readonly Action<T[], ulong[]?, TValue[], bool[], int> _kernel;
    private TValue[] _values = [];
    private bool[] _include = [];

    protected ValueAggregateColumn(string description, AggregateInput input, KernelCompiler kernels)
        : base(description) => _kernel = ValueKernel.Compile<T, TValue>(input, kernels);

    protected TValue[] Values => _values;

    protected bool[] Include => _include;

    public override void Prepare(EventBatch<T> batch)
    {
        if (_values.Length < batch.Count)
        {
            _values = new TValue[batch.Capacity];
            _include = new bool[batch.Capacity];
        }

        _kernel(batch.Payload, batch.Absent, _values, _include, batch.Count);
    }
}
