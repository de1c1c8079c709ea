using LinqStream.Physical.Join;
using LinqStream.Runtime;

namespace LinqStream.Tests.Physical.Join;

/// <summary>Drives a join operator by hand the way the query runner does: the input with the lower watermark steps first.</summary>
internal static class Feeder
{
    /// <summary>One step: a batch of items <c>[From, To)</c> of one side and its watermark, or that side's completion.</summary>
    public sealed record Step(bool Left, int From, int To, long Watermark, bool Complete);

    public static List<Step> Schedule(Item[] left, Item[] right, int batchSize)
    {
        var steps = new List<Step>();
        long lw = long.MinValue, rw = long.MinValue;
        int li = 0, ri = 0;
        bool leftDone = false, rightDone = false;
        while (!leftDone || !rightDone)
        {
            bool useLeft = !leftDone && (rightDone || lw <= rw);
            var items = useLeft ? left : right;
            ref int index = ref useLeft ? ref li : ref ri;
            if (index < items.Length)
            {
                int to = Math.Min(index + batchSize, items.Length);
                long watermark = items[to - 1].Start;
                steps.Add(new Step(useLeft, index, to, watermark, false));
                index = to;
                _ = useLeft ? lw = watermark : rw = watermark;
            }
            else
            {
                steps.Add(new Step(useLeft, 0, 0, long.MaxValue, true));
                _ = useLeft ? leftDone = true : rightDone = true;
                _ = useLeft ? lw = long.MaxValue : rw = long.MaxValue;
            }
        }

        return steps;
    }

    public static void Apply<TResult>(Step step, TemporalJoinOperator<Item, Item, int, TResult> join, QueryContext context, Item[] left, Item[] right)
    {
        var input = step.Left ? join.Left : join.Right;
        if (step.Complete)
        {
            input.OnWatermark(long.MaxValue);
            input.OnCompleted();
            return;
        }

        var items = step.Left ? left : right;
        var batch = context.Pool<Item>().Rent();
        for (int i = step.From; i < step.To; i++)
        {
            batch.Add(items[i].Start, items[i].End, items[i]);
        }

        input.OnBatch(batch);
        input.OnWatermark(step.Watermark);
    }
}
