using System.Linq.Expressions;
using LinqStream.Physical.Join;
using LinqStream.Physical.Join.Window;
using LinqStream.Runtime;
using LinqStream.Temporal;
using LinqStream.Tests.Infrastructure;

namespace LinqStream.Tests.Physical.Join;

/// <summary>
/// <see cref="WindowJoinOperator{TLeft, TRight, TKey, TResult}"/> against the temporal join it replaces, driven by hand with the
/// same calls: random tumbling-windowed inputs (ties, empty windows, null keys, windows at the ends of time) and random
/// interleavings of batches and watermarks. The results, their order and lifetimes, and the output watermarks must be equal,
/// call for call; and the same after a checkpoint is captured and restored into a fresh operator part way.
/// </summary>
public sealed class WindowJoinOperatorTests
{
    private const long Size = 100;

    private static readonly Expression<Func<Item, int?>> Key = JoinTestData.NullableKey;

    public static TheoryData<int, int, long> Cases()
    {
        var data = new TheoryData<int, int, long>();
        foreach (int seed in new[] { 1, 2, 3 })
        {
            foreach (int batchSize in new[] { 1, 7, 4096 })
            {
                // Origins: near zero, the top of time (windows whose end saturates at long.MaxValue), far below zero.
                foreach (long origin in new[] { 0L, long.MaxValue - (35 * Size) - 30, -1_000_000_000_000_000 })
                {
                    data.Add(seed, batchSize, origin);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void RandomWindowedInputs_SameEventsOrderAndWatermarksAsTheTemporalJoin(int seed, int batchSize, long origin)
    {
        var random = new Random(seed * 31 + batchSize);
        var left = Generate(random, origin, firstId: 1);
        var right = Generate(random, origin, firstId: 1_000_000);
        var calls = Schedule(random, left, right, batchSize);

        var (expected, _) = RunTemporal(left, right, calls, batchSize);
        var (actual, context) = RunWindowJoin(left, right, calls, batchSize, restoreAt: null);

        Assert.True(expected.Events.Count > 20, $"too few results to compare ({expected.Events.Count})");
        Assert.Equal(expected.Events, actual.Events);
        Assert.Equal(expected.Watermarks, actual.Watermarks);
        Assert.True(actual.Completed && expected.Completed);
        Assert.Empty(actual.Errors);
        Assert.Equal(JoinTestData.Oracle(JoinKind.Inner, left, right, x => x.Key < 0 ? null : x.Key), JoinTestData.Sorted(actual.Events));
        Assert.Equal(0, context.OutstandingBatches());
    }

    [Theory]
    [InlineData(1, 7)]
    [InlineData(2, 64)]
    [InlineData(3, 4096)]
    public void CheckpointPartWay_RestoredOperatorGoesOnWithTheSameOutput(int seed, int batchSize)
    {
        var random = new Random(seed);
        var left = Generate(random, 0, firstId: 1);
        var right = Generate(random, 0, firstId: 1_000_000);
        var calls = Schedule(random, left, right, batchSize);
        var (expected, _) = RunTemporal(left, right, calls, batchSize);

        foreach (int at in new[] { 1, calls.Count / 3, calls.Count / 2, calls.Count - 2 })
        {
            var (actual, context) = RunWindowJoin(left, right, calls, batchSize, restoreAt: at);
            Assert.Equal(expected.Events, actual.Events);
            Assert.Equal(expected.Watermarks, actual.Watermarks);
            Assert.Equal(0, context.OutstandingBatches());
        }
    }

    [Fact]
    public void AllEventsDone_HoldsNothing()
    {
        var random = new Random(5);
        var left = Generate(random, 0, firstId: 1);
        var right = Generate(random, 0, firstId: 1_000_000);
        var calls = Schedule(random, left, right, 64);
        var context = new QueryContext(Harness.Options(64));
        var sink = new ProbeSink<Pair>(context);
        var join = new WindowJoinOperator<Item, Item, int?, Pair>(sink, context, Kernels(), Size);
        var waiting = new List<int>();
        sink.AtWatermark = _ => waiting.Add(join.LeftWaiting + join.RightWaiting);

        foreach (var call in calls)
        {
            Apply(call, join.Left, join.Right, context, left, right);
        }

        Assert.True(sink.Completed);
        Assert.Equal(0, join.LeftWaiting + join.RightWaiting);
        Assert.Equal(long.MaxValue, join.Frontier);
        Assert.Contains(waiting, w => w > 0); // it did hold windows while the other input lagged
    }

    [Theory]
    [InlineData(true, 150, 250, "left", "lives from")]    // a start that is not a window start
    [InlineData(false, 100, 250, "right", "lives from")]  // a lifetime longer than one window
    public void EventThatIsNotOneWindow_StopsTheQueryNamingTheRewrite(bool left, long start, long end, string side, string text)
    {
        var context = new QueryContext(Harness.Options(16));
        var sink = new ProbeSink<Pair>(context);
        var join = new WindowJoinOperator<Item, Item, int?, Pair>(sink, context, Kernels(), Size);
        var batch = context.Pool<Item>().Rent();
        batch.Add(start, end, new Item(1, 1, start, end));

        (left ? join.Left : (IStreamObserver<Item>)join.Right).OnBatch(batch);

        var error = Assert.Single(sink.Errors);
        Assert.Contains("TumblingJoinToWindowJoin", error.ToString(), StringComparison.Ordinal);
        Assert.Contains(side + " event", error.ToString(), StringComparison.Ordinal);
        Assert.Contains(text, error.ToString(), StringComparison.Ordinal);
        Assert.Equal(0, context.OutstandingBatches());
    }

    /// <summary>One call into an operator: a batch of items <c>[From, To)</c> of one side, a watermark of one side, or a side's completion.</summary>
    private sealed record Call(bool Left, int From, int To, long Watermark, bool Complete);

    private static JoinKernels<Item, Item, int?, Pair> Kernels() => new(JoinKind.Inner, "Join", Key, Key, JoinTestData.Result);

    /// <summary>
    /// About 600 events per side in tumbling windows of <see cref="Size"/> ticks: many per window and key (ties), about a third of
    /// the windows empty on one side, keys below zero standing for null; ends at the window's end, saturated at long.MaxValue.
    /// </summary>
    private static Item[] Generate(Random random, long origin, int firstId)
    {
        var items = new List<Item>();
        for (int w = 0; w < 36; w++)
        {
            long start = Ticks.WindowStart(Ticks.SaturatingAdd(origin, w * Size), Size);
            long end = Ticks.SaturatingAdd(start, Size);
            if (random.Next(3) == 0)
            {
                continue;
            }

            int n = random.Next(1, 35);
            for (int i = 0; i < n; i++)
            {
                items.Add(new Item(firstId + items.Count, random.Next(-1, 6), start, end));
            }
        }

        return [.. items];
    }

    /// <summary>A random interleaving, as the runner may make it: batches of random sizes, watermarks that lag, jump, or repeat.</summary>
    private static List<Call> Schedule(Random random, Item[] left, Item[] right, int batchSize)
    {
        var calls = new List<Call>();
        int li = 0, ri = 0;
        long lw = long.MinValue, rw = long.MinValue;
        bool leftDone = false, rightDone = false;
        while (!leftDone || !rightDone)
        {
            bool useLeft = !leftDone && (rightDone || random.Next(2) == 0);
            var items = useLeft ? left : right;
            ref int index = ref useLeft ? ref li : ref ri;
            ref long watermark = ref useLeft ? ref lw : ref rw;
            if (index == items.Length)
            {
                calls.Add(new Call(useLeft, 0, 0, long.MaxValue, Complete: true));
                _ = useLeft ? leftDone = true : rightDone = true;
                continue;
            }

            if (random.Next(4) > 0)
            {
                int to = Math.Min(items.Length, index + random.Next(1, batchSize + 1));
                calls.Add(new Call(useLeft, index, to, 0, Complete: false));
                index = to;
            }

            // A watermark no later than the side's next event (any time after the last one when the side has no more).
            long bound = index < items.Length ? items[index].Start : long.MaxValue - 1;
            long next = random.Next(3) switch
            {
                0 => watermark,
                1 => bound,
                _ => watermark == long.MinValue ? bound - random.NextInt64(0, 3 * Size) : (long)(watermark + (Int128)(random.NextDouble() * (double)((Int128)bound - watermark))),
            };
            next = Math.Clamp(next, watermark, bound);
            watermark = next;
            calls.Add(new Call(useLeft, 0, 0, next, Complete: false));
        }

        return calls;
    }

    private static void Apply(Call call, IStreamObserver<Item> leftInput, IStreamObserver<Item> rightInput, QueryContext context, Item[] left, Item[] right)
    {
        var input = call.Left ? leftInput : rightInput;
        if (call.Complete)
        {
            input.OnCompleted();
            return;
        }

        if (call.To > call.From)
        {
            var items = call.Left ? left : right;
            var batch = context.Pool<Item>().Rent();
            for (int i = call.From; i < call.To; i++)
            {
                batch.Add(items[i].Start, items[i].End, items[i]);
            }

            input.OnBatch(batch);
            return;
        }

        input.OnWatermark(call.Watermark);
    }

    private static (ProbeSink<Pair> Sink, QueryContext Context) RunTemporal(Item[] left, Item[] right, List<Call> calls, int batchSize)
    {
        var context = new QueryContext(Harness.Options(batchSize));
        var sink = new ProbeSink<Pair>(context);
        var join = new TemporalJoinOperator<Item, Item, int?, Pair>(sink, context, Kernels());
        foreach (var call in calls)
        {
            Apply(call, join.Left, join.Right, context, left, right);
        }

        return (sink, context);
    }

    private static (ProbeSink<Pair> Sink, QueryContext Context) RunWindowJoin(Item[] left, Item[] right, List<Call> calls, int batchSize, int? restoreAt)
    {
        var context = new QueryContext(Harness.Options(batchSize));
        var sink = new ProbeSink<Pair>(context);
        var join = new WindowJoinOperator<Item, Item, int?, Pair>(sink, context, Kernels(), Size);
        for (int c = 0; c < calls.Count; c++)
        {
            if (c == restoreAt)
            {
                // Through the checkpoint codec, into a new operator that writes to the same sink.
                using var stream = new MemoryStream();
                using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
                {
                    join.WriteState(writer);
                }

                stream.Position = 0;
                join = new WindowJoinOperator<Item, Item, int?, Pair>(sink, context, Kernels(), Size);
                using var reader = new BinaryReader(stream);
                join.ReadState(reader);
            }

            Apply(calls[c], join.Left, join.Right, context, left, right);
        }

        return (sink, context);
    }
}
