using LinqStream.Physical.Kernels;
using LinqStream.Runtime.Tables;
namespace LinqStream.Physical.Aggregate;

/// <summary><c>Count()</c>, <c>LongCount()</c>, <c>Count(p)</c>, <c>Any(p)</c> and <c>All(p)</c> (as a count of exceptions): a counter per slot.</summary>
internal sealed class CountColumn<T> : ValueAggregateColumn<T, byte>
{
    private long[] _counts = [];

    public CountColumn(string description, AggregateInput input, KernelCompiler kernels)
        : base(description, input, kernels)
    {
    }

    public override void Grow(int capacity) => PooledArrays.ResizeCleared(ref _counts, capacity);

    public override void Release() => PooledArrays.ReleaseColumn(ref _counts);

    public override void Accumulate(int[] slots, int count)
    {
        var include = Include;
        var counts = _counts;
        for (int i = 0; i < count; i++)
        {
            int s = slots[i];
            if (s >= 0 && include[i])
            {
                counts[s]++;
            }
        }
    }

    public override void Clear(int slot) => _counts[slot] = 0;

    public override Type SlotType => typeof(long);

    public override object? CaptureSlot(int slot) => _counts[slot];

    public override bool CaptureIsACopy => true;

    public override void RestoreSlot(int slot, object? state) => _counts[slot] = (long)state!;

    public override void CopySlot(int source, int target) => _counts[target] = _counts[source];

    public override bool CanMerge => true;

    public override void Merge(int target, int source) => _counts[target] += _counts[source];

    public override int PartialWordCount => 1;

    public override void ExportPartial(int slot, Span<long> words) => words[0] = _counts[slot];

    public override void MergePartials(int[] slots, long[] words, int count)
    {
        var counts = _counts;
        for (int i = 0; i < count; i++)
        {
            int s = slots[i];
            if (s >= 0)
            {
                counts[s] += words[i];
            }
        }
    }

    public long Result(int slot) => _counts[slot];
}
