using LinqStream.Physical.Join;
using LinqStream.Runtime;
using LinqStream.Temporal;
using LinqStream.Tests.Infrastructure;

namespace LinqStream.Tests.Physical.Join;

/// <summary>
/// Issue #23: a join gives memory back after a burst (tens of thousands of events of as many keys alive at once, then few):
/// its live-event columns and key table shrink, and the results, their order and a restore after the shrink are exactly what
/// a join that never compacts gives (and what the LINQ-to-objects oracle gives).
/// </summary>
public sealed class JoinMemoryTests
{
    [Theory]
    [InlineData("Inner")]
    [InlineData("LeftOuter")]
    [InlineData("Anti")]
    public void Burst_ThenFewLiveEvents_ShrinksTheStateAndGivesTheSameOutputInTheSameOrder(string kindName)
    {
        var kind = Enum.Parse<JoinKind>(kindName);
        var left = Input(seed: 11, firstId: 1);
        var right = Input(seed: 12, firstId: 1_000_000);
        var steps = Feeder.Schedule(left, right, batchSize: 256);

        var (compacted, peak, afterBurst) = Run(kind, left, right, steps, compaction: true);
        var (plain, plainPeak, plainAfter) = Run(kind, left, right, steps, compaction: false);

        Assert.True(peak.Live >= 32_768 && peak.Keys >= 16_384, $"peak: {peak}");
        Assert.True(afterBurst.Live <= 4_096 && afterBurst.Keys <= 4_096, $"after the burst: {afterBurst} (peak {peak})");
        Assert.True(plainAfter.Live >= 32_768, $"the uncompacted join kept {plainAfter}: the test would not see a shrink");
        Assert.Equal(plain.Select(Flat), compacted.Select(Flat));
        Assert.Equal(JoinTestData.Oracle(kind, left, right), JoinTestData.Sorted(compacted));
    }

    // Cut half-way and three quarters into the quiet stretch: at three quarters the outer joins' queues hold undecided left
    // events with equal starts, which a restore once released in the other order (the capture sorted by start only).
    [Theory]
    [InlineData("Inner", 2)]
    [InlineData("Inner", 3)]
    [InlineData("LeftOuter", 2)]
    [InlineData("LeftOuter", 3)]
    [InlineData("Anti", 2)]
    [InlineData("Anti", 3)]
    public void Restore_StateCapturedAfterTheShrink_ContinuesAsIfUninterrupted(string kindName, int quarters)
    {
        var kind = Enum.Parse<JoinKind>(kindName);
        var left = Input(seed: 21, firstId: 1);
        var right = Input(seed: 22, firstId: 1_000_000);
        var steps = Feeder.Schedule(left, right, batchSize: 256);
        int cut = steps.FindIndex(s => !s.Complete && s.Watermark >= QuietFrom + (QuietSpan * quarters / 4));

        var context = new QueryContext(Harness.Options(256));
        var sink = new ProbeSink<Pair>(context);
        var join = new TemporalJoinOperator<Item, Item, int, Pair>(sink, context, Kernels(kind));
        JoinState<Item, Item, int>? state = null;
        int before = 0, capacityAtCut = 0;
        for (int i = 0; i < steps.Count; i++)
        {
            Feeder.Apply(steps[i], join, context, left, right);
            if (i == cut)
            {
                state = join.CaptureState();
                before = sink.Events.Count;
                capacityAtCut = join.LiveCapacity;
            }
        }

        var context2 = new QueryContext(Harness.Options(256));
        var sink2 = new ProbeSink<Pair>(context2);
        var join2 = new TemporalJoinOperator<Item, Item, int, Pair>(sink2, context2, Kernels(kind));
        join2.Restore(state!);
        for (int i = cut + 1; i < steps.Count; i++)
        {
            Feeder.Apply(steps[i], join2, context2, left, right);
        }

        Assert.True(capacityAtCut <= 4_096, $"the state was not compacted before the cut: {capacityAtCut}");
        Assert.Equal(sink.Events.Skip(before).Select(Flat), sink2.Events.Select(Flat));
        Assert.Equal(JoinTestData.Oracle(kind, left, right), JoinTestData.Sorted(sink.Events));
        Assert.Equal(0, context2.OutstandingBatches());
    }

    /// <summary>
    /// A periodic load is not a burst: tumbling-window-like inputs (every event lives until its window's end, 20,000 per window and
    /// side over 5,000 keys, starts spread over the window) empty the join at each window's end and fill it again, and the columns keep the size
    /// they grew to in the first window instead of shrinking and growing again every window (NEXMark q8's regression).
    /// </summary>
    [Fact]
    public void PeriodicWindows_KeepTheirCapacity_AndGiveTheSameOutput()
    {
        var left = Windows(seed: 31, firstId: 1);
        var right = Windows(seed: 32, firstId: 1_000_000);
        var steps = Feeder.Schedule(left, right, batchSize: 256);

        var context = new QueryContext(Harness.Options(256));
        var sink = new ProbeSink<Pair>(context);
        var join = new TemporalJoinOperator<Item, Item, int, Pair>(sink, context, Kernels(JoinKind.Inner));
        int grown = 0, lowest = int.MaxValue;
        foreach (var step in steps)
        {
            Feeder.Apply(step, join, context, left, right);
            if (!step.Complete && step.Watermark >= Window)
            {
                // From the second window on: the capacity reached in the first one stays.
                grown = grown == 0 ? join.LiveCapacity : grown;
                lowest = Math.Min(lowest, join.LiveCapacity);
            }
        }

        Assert.True(grown >= 2 * 32_768, $"the first window grew the columns to {grown} slots only");
        Assert.Equal(grown, lowest);
        var (plain, _, _) = Run(JoinKind.Inner, left, right, steps, compaction: false);
        Assert.Equal(plain.Select(Flat), sink.Events.Select(Flat));
        Assert.Equal(JoinTestData.Oracle(JoinKind.Inner, left, right), JoinTestData.Sorted(sink.Events));
    }

    private const long Window = 100_000;

    private static Item[] Windows(int seed, int firstId)
    {
        var random = new Random(seed);
        var items = new List<Item>();
        for (long w = 0; w < 6; w++)
        {
            for (int i = 0; i < 20_000; i++)
            {
                int k = random.Next(5_000);
                int key = k % 2 == 0 ? int.MaxValue - k : k;
                items.Add(new Item(0, key, (w * Window) + random.NextInt64(Window - 1_000), (w + 1) * Window));
            }
        }

        return [.. items.OrderBy(x => x.Start).Select((x, i) => x with { Id = firstId + i })];
    }

    private const long BurstFrom = 100_000;
    private const long QuietFrom = 200_000;
    private const long QuietSpan = 400_000;

    /// <summary>
    /// Quiet traffic on a few keys, then a burst of 40,000 events over 20,000 keys (huge and negative ones among them) that stay
    /// alive about 20,000 ticks, then a long quiet stretch again (80,000 events: the columns shrink once half their capacity's
    /// worth of new events found them a quarter full or less, about two in five of the way through).
    /// </summary>
    private static Item[] Input(int seed, int firstId)
    {
        var random = new Random(seed);
        var items = new List<Item>();
        for (int i = 0; i < 2_000; i++)
        {
            long start = random.NextInt64(BurstFrom);
            items.Add(new Item(0, random.Next(30), start, start + 1 + random.Next(20)));
        }

        for (int i = 0; i < 40_000; i++)
        {
            int k = random.Next(20_000);
            int key = k % 3 == 0 ? int.MaxValue - k : k % 3 == 1 ? int.MinValue + k : k;
            long start = BurstFrom + random.NextInt64(10_000);
            items.Add(new Item(0, key, start, start + 15_000 + random.Next(10_000)));
        }

        for (int i = 0; i < 80_000; i++)
        {
            long start = QuietFrom + random.NextInt64(QuietSpan);
            items.Add(new Item(0, random.Next(30), start, start + 1 + random.Next(20)));
        }

        var sorted = items.OrderBy(x => x.Start).ToArray();
        for (int i = 0; i < sorted.Length; i++)
        {
            sorted[i] = sorted[i] with { Id = firstId + i };
        }

        return sorted;
    }

    private static (List<StreamEvent<Pair>> Events, (int Live, int Keys) Peak, (int Live, int Keys) AfterBurst) Run(
        JoinKind kind, Item[] left, Item[] right, List<Feeder.Step> steps, bool compaction)
    {
        var context = new QueryContext(Harness.Options(256));
        var sink = new ProbeSink<Pair>(context);
        var join = new TemporalJoinOperator<Item, Item, int, Pair>(sink, context, Kernels(kind)) { CompactionEnabled = compaction };
        (int Live, int Keys) peak = (0, 0), after = (0, 0);
        foreach (var step in steps)
        {
            Feeder.Apply(step, join, context, left, right);
            peak = (Math.Max(peak.Live, join.LiveCapacity), Math.Max(peak.Keys, join.KeyCapacity));
            if (!step.Complete && step.Watermark >= QuietFrom + (QuietSpan / 2) && after == (0, 0))
            {
                after = (join.LiveCapacity, join.KeyCapacity);
            }
        }

        Assert.True(sink.Completed);
        Assert.Empty(sink.Errors);
        Assert.Equal(0, context.OutstandingBatches());
        return (sink.Events, peak, after);
    }

    private static (long, long, int, int) Flat(StreamEvent<Pair> e) => (e.Start, e.End, e.Payload.L, e.Payload.R);

    private static JoinKernels<Item, Item, int, Pair> Kernels(JoinKind kind) => kind switch
    {
        JoinKind.Inner => new(kind, "Join", JoinTestData.Key, JoinTestData.Key, JoinTestData.Result),
        JoinKind.LeftOuter => new(kind, "LeftJoin", JoinTestData.Key, JoinTestData.Key, JoinTestData.Result),
        _ => new(kind, "WhereNotExists", JoinTestData.Key, JoinTestData.Key, (System.Linq.Expressions.Expression<Func<Item, Item, Pair>>)((l, r) => new Pair(l.Id, 0))),
    };
}
