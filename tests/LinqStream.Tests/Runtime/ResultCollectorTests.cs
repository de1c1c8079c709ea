using LinqStream.Runtime;
using LinqStream.Runtime.Egress;
using LinqStream.Tests.Infrastructure;

namespace LinqStream.Tests.Runtime;

/// <summary>A job's step collector keeps its array across regular bursts (a tumbling window with many keys) and gives a lone burst's array back.</summary>
public sealed class ResultCollectorTests
{
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
            Step(collector, context, 200_000, ref next);
            Assert.Equal(200_000, collector.Count);
            Assert.Equal(first, collector.Items[0]);
            Assert.Equal(next - 1, collector.Items[199_999]);
            arrays.Add(collector.Items);
            collector.Clear();
            for (int s = 0; s < 300; s++)
            {
                Step(collector, context, 10, ref next);
                Assert.Equal(10, collector.Count);
                collector.Clear();
            }
        }

        // Shrunk after 64 quiet steps, then after 128, 256, 512: from then on the 300 quiet steps between bursts keep it.
        int reallocations = arrays.Zip(arrays.Skip(1)).Count(p => !ReferenceEquals(p.First, p.Second));
        Assert.InRange(reallocations, 1, 4);
        Assert.Same(arrays[^2], arrays[^1]);
    }

    [Fact]
    public void ALoneBurst_ItsArrayGoesBackAfterQuietSteps()
    {
        var context = new QueryContext(Harness.Options());
        var collector = new ResultCollector<string>(context);
        int next = 0;
        StepStrings(collector, context, 300_000, ref next);
        collector.Clear();
        Assert.True(collector.Items.Length >= 300_000);
        Assert.All(collector.Items, item => Assert.Null(item)); // a reference type's results are cleared (not kept alive)
        for (int s = 0; s < 64; s++)
        {
            StepStrings(collector, context, 5, ref next);
            collector.Clear();
        }

        Assert.True(collector.Items.Length <= 1024, $"the array has {collector.Items.Length} elements after 64 small steps");
    }

    private static void Step(ResultCollector<int> collector, QueryContext context, int count, ref int next)
    {
        var pool = context.Pool<int>();
        while (count > 0)
        {
            var batch = pool.Rent();
            while (count > 0 && !batch.IsFull)
            {
                batch.Add(next, next + 1, next);
                next++;
                count--;
            }

            collector.OnBatch(batch);
        }
    }

    private static void StepStrings(ResultCollector<string> collector, QueryContext context, int count, ref int next)
    {
        var pool = context.Pool<string>();
        while (count > 0)
        {
            var batch = pool.Rent();
            while (count > 0 && !batch.IsFull)
            {
                batch.Add(next, next + 1, "r" + next);
                next++;
                count--;
            }

            collector.OnBatch(batch);
        }
    }
}
