using LinqStream.Runtime;
using LinqStream.Runtime.Egress;
using LinqStream.Tests.Infrastructure;

namespace LinqStream.Tests.Runtime;

/// <summary>A job's step collector keeps its array across regular bursts (a tumbling window with many keys) and gives a lone burst's array back.</summary>
public sealed class ResultCollectorTests
{
    private static readonly Func<int, int> Number = n => n;
    private static readonly Func<int, string> Text = n => "r" + n;

    [Fact]
    public void RegularBursts_StopReallocatingTheArray_AndResultsStayExact()
    {
        var context = new QueryContext(Harness.Options());
        var collector = new ResultCollector<int>(context);
        var arrays = new List<int[]>();
        int next = 0;
        for (int window = 0; window < 40; window++)
        {
            // A burst of 200k results (a window closing), then 300 small steps.
            int first = next;
            Step(collector, context, 200_000, ref next, Number);
            Assert.Equal(200_000, collector.Count);
            Assert.Equal(first, collector.Items[0]);
            Assert.Equal(next - 1, collector.Items[199_999]);
            arrays.Add(collector.Items);
            collector.Clear();
            for (int s = 0; s < 300; s++)
            {
                Step(collector, context, 10, ref next, Number);
                Assert.Equal(10, collector.Count);
                collector.Clear();
            }
        }

        // Shrunk after 1 quiet step, then after 2, 4, ..., 256; from then on (512) the 300 quiet steps between bursts keep it:
        // 9 reallocations in 40 windows, where shrinking at every first small step reallocated at every window (39).
        int reallocations = arrays.Zip(arrays.Skip(1)).Count(p => !ReferenceEquals(p.First, p.Second));
        Assert.Equal(9, reallocations);
        Assert.Same(arrays[^2], arrays[^1]);
    }

    [Fact]
    public void ALoneBurst_ItsArrayGoesBackAtTheFirstSmallStep()
    {
        var context = new QueryContext(Harness.Options());
        var collector = new ResultCollector<string>(context);
        int next = 0;
        Step(collector, context, 300_000, ref next, Text);
        collector.Clear();
        Assert.True(collector.Items.Length >= 300_000);
        Assert.All(collector.Items, item => Assert.Null(item)); // a reference type's results are cleared (not kept alive)
        Step(collector, context, 5, ref next, Text);
        collector.Clear();

        // A lone burst's array goes back at the first small step (the job's memory after a big window closes).
        Assert.True(collector.Items.Length <= 1024, $"the array has {collector.Items.Length} elements after a small step");
    }

    /// <summary>Pushes <paramref name="count"/> results (numbered from <paramref name="next"/>, each made by <paramref name="result"/>) in pooled batches.</summary>
    private static void Step<T>(ResultCollector<T> collector, QueryContext context, int count, ref int next, Func<int, T> result)
    {
        var pool = context.Pool<T>();
        while (count > 0)
        {
            var batch = pool.Rent();
            while (count > 0 && !batch.IsFull)
            {
                batch.Add(next, next + 1, result(next));
                next++;
                count--;
            }

            collector.OnBatch(batch);
        }
    }
}
