using System.Linq.Expressions;
using LinqStream.Parallel;
using LinqStream.Parallel.TwoPhase;
using LinqStream.Physical.Kernels;
using LinqStream.Physical.Windows;
using LinqStream.Physical.Windows.ArgMax;
using LinqStream.Temporal;
using LinqStream.Tests.Infrastructure;
using LinqStream.Query;
using LinqStream.Runtime;
using LinqStream.Runtime.Egress;
using LinqStream.Tests.Physical.Join;

namespace LinqStream.Tests.Parallel;

/// <summary>
/// The local step of q5's per-window maximum on a task (<see cref="TaskArgMaxOperator{T}"/>), against a plain reference: it
/// passes on, per window (events sharing a start), exactly the events at the window's maximum in their input order, whatever
/// the batches and watermarks; and split over tasks by key, the global maximum over what the tasks pass on (merged by start,
/// then task) equals the global maximum over everything, also when the tasks flush at barriers in the middle of a window.
/// </summary>
public sealed class TaskArgMaxOperatorTests
{
    public readonly record struct Count(long Key, int Value);

    private static readonly Action<Count[], ulong[]?, long[], int> Value = (payload, _, values, count) =>
    {
        for (int i = 0; i < count; i++)
        {
            values[i] = payload[i].Value;
        }
    };

    /// <summary>Random windows in start order: some empty, some with every event tied, values in a small range (ties), some events with an empty lifetime, huge keys.</summary>
    private static List<StreamEvent<Count>> Generate(Random random, int windows)
    {
        var events = new List<StreamEvent<Count>>();
        long start = -5_000;
        for (int w = 0; w < windows; w++)
        {
            start += random.Next(1, 3) * 1_000L;
            int size = random.Next(4) == 0 ? 0 : random.Next(1, 60);
            bool allTied = random.Next(5) == 0;
            for (int i = 0; i < size; i++)
            {
                long key = random.Next(8) == 0 ? (random.Next(2) == 0 ? long.MaxValue - i : long.MinValue + i) : random.NextInt64(0, 1_000);
                int value = allTied ? 7 : random.Next(6) == 0 ? int.MinValue : random.Next(0, 5);
                long end = random.Next(20) == 0 ? start : start + 10_000; // an empty lifetime now and then
                events.Add(new StreamEvent<Count>(start, end, new Count(key, value)));
            }
        }

        return events;
    }

    /// <summary>The events at their window's maximum (over the events with a non-empty lifetime), in input order.</summary>
    private static List<StreamEvent<Count>> Reference(IEnumerable<StreamEvent<Count>> events) =>
        [.. events.Where(e => e.End > e.Start)
            .GroupBy(e => e.Start)
            .SelectMany(g => g.Where(e => e.Payload.Value == g.Max(x => x.Payload.Value)))];

    /// <summary>Feeds <paramref name="events"/> in random batches, with a watermark at each window start now and then, and flushes at random points.</summary>
    private static List<StreamEvent<Count>> Run(List<StreamEvent<Count>> events, Random random, bool flushes, out QueryContext context)
    {
        context = new QueryContext(new QueryOptions { BatchSize = 16 });
        var sink = new ProbeSink<Count>(context);
        var step = new TaskArgMaxOperator<Count>(sink, context, Value, "c => c.Value");
        var pool = context.Pool<Count>();
        int at = 0;
        while (at < events.Count)
        {
            var batch = pool.Rent();
            int take = Math.Min(random.Next(1, 16), events.Count - at); // one slot left for an absent event
            for (int i = 0; i < take; i++, at++)
            {
                batch.Add(events[at].Start, events[at].End, events[at].Payload);
            }

            if (random.Next(4) == 0)
            {
                // An absent slot (a filtered event) in the middle of the batch: its payload must never come out.
                batch.Add(events[at - 1].Start, events[at - 1].End + 1, new Count(-42, int.MaxValue));
                batch.SetAbsent(batch.Count - 1);
            }

            step.OnBatch(batch);
            if (flushes && random.Next(3) == 0)
            {
                step.FlushAtBarrier();
            }

            if (at < events.Count && random.Next(3) == 0)
            {
                step.OnWatermark(events[at].Start); // never past an event still to come
            }
        }

        step.OnCompleted();
        Assert.True(sink.Completed);
        Assert.Empty(sink.Errors);
        Assert.Equal(0, step.HeldCount);
        Assert.Equal(sink.Events.Count, step.Passed);
        return sink.Events;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void OneTask_PassesExactlyTheEventsAtEachWindowsMaximum_InInputOrder(int seed)
    {
        var random = new Random(seed);
        var events = Generate(random, 200);
        var passed = Run(events, random, flushes: false, out var context);
        Assert.Equal(Reference(events), passed);
        Assert.Contains(passed, e => passed.Count(x => x.Start == e.Start) > 1); // ties were kept
        Assert.Equal(0, context.OutstandingBatches());
    }

    [Theory]
    [InlineData(1, 2, false)]
    [InlineData(2, 3, false)]
    [InlineData(3, 4, true)]
    [InlineData(4, 2, true)]
    [InlineData(5, 7, true)]
    public void SplitOverTasks_GlobalMaximumOfWhatTheTasksPass_EqualsTheMaximumOfEverything(int seed, int tasks, bool flushes)
    {
        var random = new Random(seed);
        var events = Generate(random, 300);
        // Keys to tasks by a hash: each task's events keep their order, as behind the hash exchange.
        int TaskOf(long key) => (int)(unchecked((ulong)key * 0x9E3779B97F4A7C15UL) % (ulong)tasks);
        var passedPerTask = Enumerable.Range(0, tasks).Select(t => Run([.. events.Where(e => TaskOf(e.Payload.Key) == t)], random, flushes, out _)).ToArray();

        // The merge: by start, then task (stable within a task). Applied to the tasks' whole inputs, it is the order the
        // global step would see without the local step.
        static List<StreamEvent<Count>> Merge(IEnumerable<(int Task, List<StreamEvent<Count>> Events)> parts) =>
            [.. parts.SelectMany(p => p.Events.Select((e, i) => (e, p.Task, i))).OrderBy(x => x.e.Start).ThenBy(x => x.Task).ThenBy(x => x.i).Select(x => x.e)];

        var all = Merge(Enumerable.Range(0, tasks).Select(t => (t, events.Where(e => TaskOf(e.Payload.Key) == t).ToList())));
        var reduced = Merge(passedPerTask.Select((p, t) => (t, p)));
        Assert.True(reduced.Count < all.Count, "the local step should drop the events below their task's maximum");
        Assert.Equal(Reference(all), Reference(reduced));
    }

    [Fact]
    public void FlushAtBarrier_InTheMiddleOfAWindow_LaterLowerValuesAreStillDropped()
    {
        var context = new QueryContext(new QueryOptions { BatchSize = 8 });
        var sink = new ProbeSink<Count>(context);
        var step = new TaskArgMaxOperator<Count>(sink, context, Value, "c => c.Value");
        var pool = context.Pool<Count>();
        void Send(params (long Key, int Value)[] counts)
        {
            var batch = pool.Rent();
            foreach (var (key, value) in counts)
            {
                batch.Add(100, 200, new Count(key, value));
            }

            step.OnBatch(batch);
        }

        Send((1, 3), (2, 5), (3, 5));
        step.FlushAtBarrier();
        Assert.Equal([2L, 3L], sink.Events.Select(e => e.Payload.Key));
        Send((4, 4), (5, 5), (6, 9), (7, 9));
        step.OnWatermark(101);
        Assert.Equal([2L, 3L, 6L, 7L], sink.Events.Select(e => e.Payload.Key));
        Assert.Equal([101L], sink.Watermarks);
        Assert.All(sink.Events, e => Assert.Equal((100L, 200L), (e.Start, e.End)));
    }

    public readonly record struct Bid(long Time, long Auction);

    public readonly record struct AuctionCount(long Auction, int Bids, long WindowStart);

    public readonly record struct WindowMax(long WindowStart, long Max);

    [Fact]
    public async Task HotItems_Parallelism2_EachTaskRunsTheLocalStep_AndOnlyTheirMaximaCrossToTheMerge()
    {
        var random = new Random(11);
        var bids = Enumerable.Range(0, 60_000).Select(i => new Bid(i * 1_000L, random.NextInt64(0, 500))).ToArray();
        IQStream<string> Query(int parallelism)
        {
            var counts =
                from b in QStream.From(bids, b => b.Time).WithOptions(new QueryOptions { Parallelism = parallelism, BatchSize = 256 }).HoppingWindow(TimeSpan.FromTicks(1_000_000), TimeSpan.FromTicks(250_000))
                group b by b.Auction into g
                select new AuctionCount(g.Key, g.Count(), g.Window.StartTicks);
            var maxima = counts.TumblingWindow(TimeSpan.FromTicks(250_000)).Select(w => new WindowMax(w.Window.StartTicks, w.Max(c => c.Bids)));
            return from c in counts
                   join m in maxima on c.WindowStart equals m.WindowStart
                   where c.Bids == m.Max
                   select $"{c.Auction} {c.Bids} {c.WindowStart}";
        }

        var expected = await Query(1).ToListAsync();
        var compiled = QueryCompiler.Compile<string>(Query(2).Expression);
        var results = new List<string>();
        var execution = QueryExecution.Create(compiled.Root, c => new ObserverSink<string>(System.Reactive.Observer.Create<string>(results.Add), c), compiled.Options, parallel: compiled.Parallel);
        var run = Assert.Single(execution.Context.Operators.OfType<KeyedParallelRun<Bid, PartialGroup<long, long>, long, AuctionCount>>());

        execution.Run();

        Assert.True(run.Join(TimeSpan.FromMinutes(1)), "a task thread did not end");
        Assert.Equal(expected, results);
        var steps = run.TaskContexts.SelectMany(c => c.Operators.OfType<TaskArgMaxOperator<AuctionCount>>()).ToList();
        Assert.Equal(2, steps.Count);
        long counts = bids.SelectMany(b => Enumerable.Range(0, 4).Select(k => (Window: (b.Time / 250_000) - k, b.Auction))).Distinct().Count();
        long passed = steps.Sum(s => s.Passed);
        Assert.True(passed >= results.Count, $"{passed} passed, {results.Count} results"); // the overall maxima are among each task's own
        Assert.True(passed * 20 < counts, $"{passed} of {counts} counts crossed to the merge");
        Assert.All(run.TaskContexts, c => Assert.Equal(0, c.OutstandingBatches()));
        Assert.Equal(0, execution.Context.OutstandingBatches());
    }

    public sealed record Item(long Time, string? Key, int Value);

    public readonly record struct KeyTotal(string? Key, int Total, long WindowStart);

    private static readonly Expression<Func<Item, string>> ItemKey = i => i.Key!;

    private static readonly Action<KeyTotal[], ulong[]?, long[], int> TotalValue = (payload, _, values, count) =>
    {
        for (int i = 0; i < count; i++)
        {
            values[i] = payload[i].Total;
        }
    };

    /// <summary>A result selector that fails for the key "boom" when its total passes 40 (a result that throws while a window closes).</summary>
    public static int Checked(string? key, int total) => key == "boom" && total > 40 ? throw new InvalidOperationException("boom's total passed 40") : total;

    /// <summary>Random items in start order: a null key now and then (its group comes out first), keys that tie, a few heavy keys, empty stretches.</summary>
    private static List<Item> Items(Random random, int count, bool withBoom)
    {
        var items = new List<Item>();
        long t = 0;
        for (int i = 0; i < count; i++)
        {
            t += random.Next(200) == 0 ? 3_000 : random.Next(0, 30);
            string? key = random.Next(15) == 0 ? null
                : withBoom && i > count / 2 && random.Next(8) == 0 ? "boom"
                : random.Next(6) == 0 ? "heavy" + random.Next(2)
                : "k" + random.Next(0, 60);
            items.Add(new Item(t, key, random.Next(1, 4)));
        }

        return items;
    }

    /// <summary>
    /// A window aggregate (sums per key) into an arg-max step, directly (the aggregate cuts each window to its maximum before the key
    /// order) or through a pass-through (the aggregate emits every group, as before), fed in random batches with watermarks. The step is
    /// a task's local <see cref="TaskArgMaxOperator{T}"/>, or with <paramref name="global"/> parallelism 1's
    /// <see cref="WindowArgMaxOperator{TIn, TRow, TKey, TResult}"/> (its row: the window's start and maximum; its result: the count).
    /// </summary>
    private static (ProbeSink<KeyTotal> Sink, FixedWindowAggregateOperator<Item, string, KeyTotal> Aggregate, QueryContext Context) RunAggregateIntoStep(
        List<Item> items, WindowSpec window, bool cut, Expression<Func<IWindowGroup<string, Item>, KeyTotal>> selector, int seed, bool global = false)
    {
        var random = new Random(seed);
        var context = new QueryContext(new QueryOptions { BatchSize = 32 });
        var sink = new ProbeSink<KeyTotal>(context);
        IStreamObserver<KeyTotal> step = global ? GlobalStep(sink, context, window.Hop) : new TaskArgMaxOperator<KeyTotal>(sink, context, TotalValue, "c => c.Total");
        IStreamObserver<KeyTotal> front = cut ? step : new PassThrough<KeyTotal>(step);
        var plan = AggregatePlans.Plan<Item, string, KeyTotal>(selector);
        var aggregate = new FixedWindowAggregateOperator<Item, string, KeyTotal>(front, context, window, ColumnKernel.Compile<Item, string>(ItemKey), plan, "test");
        var pool = context.Pool<Item>();
        int at = 0;
        while (at < items.Count)
        {
            var batch = pool.Rent();
            int take = Math.Min(random.Next(1, 33), items.Count - at);
            for (int i = 0; i < take; i++, at++)
            {
                batch.Add(items[at].Time, items[at].Time + 1, items[at]);
            }

            aggregate.OnBatch(batch);
            if (at < items.Count && random.Next(3) == 0)
            {
                aggregate.OnWatermark(items[at].Time);
            }
        }

        aggregate.OnWatermark(Ticks.Infinity);
        aggregate.OnCompleted();
        return (sink, aggregate, context);
    }

    public readonly record struct TotalRow(long WindowStart, long Max);

    /// <summary>Parallelism 1's arg-max over the totals: rows of one hop (each count's window start), the count itself as the result.</summary>
    private static WindowArgMaxOperator<KeyTotal, TotalRow, long, KeyTotal> GlobalStep(IStreamObserver<KeyTotal> downstream, QueryContext context, long hop)
    {
        Expression<Func<KeyTotal, long>> value = c => c.Total;
        Expression<Func<long, long, long, TotalRow>> row = (start, end, max) => new TotalRow(start, max);
        Expression<Func<KeyTotal, TotalRow, KeyTotal>> result = (c, r) => c;
        Expression<Func<KeyTotal, long>> leftKey = c => c.WindowStart;
        Expression<Func<TotalRow, long>> rightKey = r => r.WindowStart;
        var kernels = new WindowArgMaxKernels<KeyTotal, TotalRow, long, KeyTotal>(new WindowArgMaxNodeLambdas(value, row, result, leftKey, rightKey));
        kernels.CompileKernels();
        return new WindowArgMaxOperator<KeyTotal, TotalRow, long, KeyTotal>(downstream, context, kernels, hop);
    }

    private static readonly Expression<Func<IWindowGroup<string, Item>, KeyTotal>> Totals = g => new KeyTotal(g.Key, g.Sum(i => i.Value), g.Window.StartTicks);

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, true)]
    [InlineData(3, false)]
    [InlineData(4, true)]
    public void WindowAggregateInFrontOfTheStep_CutsEachWindowToItsMaximum_SameEventsAsTheStepOverEveryResult(int seed, bool hopping)
    {
        var items = Items(new Random(seed), 4_000, withBoom: false);
        var window = hopping ? WindowSpec.Hopping(400, 100) : WindowSpec.Hopping(250, 250);
        var (all, before, beforeContext) = RunAggregateIntoStep(items, window, cut: false, Totals, seed);
        var (cut, after, afterContext) = RunAggregateIntoStep(items, window, cut: true, Totals, seed);
        Assert.Empty(all.Errors);
        Assert.Empty(cut.Errors);
        Assert.True(all.Completed && cut.Completed);
        Assert.Equal(0, before.WindowsCutToMaximum);
        Assert.True(after.WindowsCutToMaximum > 10, $"{after.WindowsCutToMaximum} windows cut");
        Assert.Equal(all.Events, cut.Events); // the same events, lifetimes and order
        Assert.Equal(all.Watermarks, cut.Watermarks);
        Assert.Equal(0, beforeContext.OutstandingBatches());
        Assert.Equal(0, afterContext.OutstandingBatches());
        Assert.Equal(0, after.LiveGroups); // every slot freed, also those left out

        // LINQ to objects: per window, the keys (the null key too) at the window's maximum total, keyed ones in stable key order after the null key.
        long size = window.Size, hop = window.Hop;
        var expected = items
            .SelectMany(i => Enumerable.Range(0, (int)(size / hop)).Select(k => (Start: Ticks.WindowStart(i.Time, hop) - (k * hop), Item: i)))
            .GroupBy(x => x.Start)
            .OrderBy(w => w.Key)
            .SelectMany(w =>
            {
                var totals = w.GroupBy(x => x.Item.Key).Select(g => new KeyTotal(g.Key, g.Sum(x => x.Item.Value), w.Key)).ToList();
                int max = totals.Max(t => t.Total);
                return totals.Where(t => t.Total == max).OrderBy(t => t.Key is null ? 0 : 1).ThenBy(t => t.Key is null ? 0UL : StableKeyHash<string>.Hash(t.Key));
            })
            .ToList();
        Assert.Equal(expected, cut.Events.Select(e => e.Payload));
        Assert.Contains(cut.Events, e => e.Payload.Key is null); // a null key at a window's maximum came out (before the keyed ties)
        Assert.Contains(cut.Events.GroupBy(e => e.Start), g => g.Count() > 1); // ties
    }

    /// <summary>
    /// One cut for both steps (the interface <see cref="IWindowMaximumInput{T}"/>): in front of the task's local step and in front of
    /// parallelism 1's arg-max, every window with a result is cut (one group, only the null key, or the whole window alike: the null
    /// key's group takes part in the maximum and is left out below it), and each step gives what it gives over every result.
    /// </summary>
    [Theory]
    [InlineData(7, false, false)]
    [InlineData(8, true, false)]
    [InlineData(9, false, true)]
    [InlineData(10, true, true)]
    public void WindowAggregateInFrontOfEitherStep_EveryWindowIsCut_SameEventsAsTheStepOverEveryResult(int seed, bool hopping, bool global)
    {
        // Sparse items (windows with one key, with only the null key), a null key in a fifth of them.
        var random = new Random(seed);
        var items = new List<Item>();
        long t = 0;
        for (int i = 0; i < 3_000; i++)
        {
            t += random.Next(10) == 0 ? random.Next(300, 2_000) : random.Next(0, 40);
            items.Add(new Item(t, random.Next(5) == 0 ? null : "k" + random.Next(0, 9), random.Next(1, 4)));
        }

        var window = hopping ? WindowSpec.Hopping(400, 100) : WindowSpec.Hopping(100, 100);
        var (all, before, _) = RunAggregateIntoStep(items, window, cut: false, Totals, seed, global);
        var (cut, after, context) = RunAggregateIntoStep(items, window, cut: true, Totals, seed, global);
        Assert.Empty(all.Errors);
        Assert.Empty(cut.Errors);
        Assert.True(all.Completed && cut.Completed);
        Assert.Equal(all.Events, cut.Events);
        Assert.Equal(all.Watermarks, cut.Watermarks);
        Assert.Equal(0, before.WindowsCutToMaximum);
        Assert.Equal(0, after.LiveGroups);
        Assert.Equal(0, context.OutstandingBatches());

        long size = window.Size, hop = window.Hop;
        var windows = items
            .SelectMany(i => Enumerable.Range(0, (int)(size / hop)).Select(k => (Start: Ticks.WindowStart(i.Time, hop) - (k * hop), i.Key)))
            .GroupBy(x => x.Start)
            .ToList();
        Assert.Equal(windows.Count, after.WindowsCutToMaximum);
        Assert.Contains(windows, w => w.Select(x => x.Key).Distinct().Count() == 1); // windows of one group were cut too
        Assert.Contains(windows, w => w.Any(x => x.Key is null) && w.Any(x => x.Key is not null)); // the null key next to others
        Assert.Contains(cut.Events, e => e.Payload.Key is null);
    }

    [Theory]
    [InlineData(5, false)]
    [InlineData(6, true)]
    public void ResultThatThrows_WhileAWindowIsCut_FailsWithTheErrorOfTheUncutRun(int seed, bool hopping)
    {
        var items = Items(new Random(seed), 6_000, withBoom: true);
        var window = hopping ? WindowSpec.Hopping(12_000, 3_000) : WindowSpec.Hopping(10_000, 10_000);
        Expression<Func<IWindowGroup<string, Item>, KeyTotal>> selector = g => new KeyTotal(g.Key, Checked(g.Key, g.Sum(i => i.Value)), g.Window.StartTicks);
        var (all, _, _) = RunAggregateIntoStep(items, window, cut: false, selector, seed);
        var (cut, after, _) = RunAggregateIntoStep(items, window, cut: true, selector, seed);
        var expected = Assert.Single(all.Errors);
        var error = Assert.Single(cut.Errors);
        Assert.Equal(expected.Message, error.Message);
        Assert.Contains("boom", error.Message, StringComparison.Ordinal);
        // What reached the sink before the failure (batches that filled up) is one sequence in both runs, cut short at different points.
        int both = Math.Min(all.Events.Count, cut.Events.Count);
        Assert.True(both > 0);
        Assert.Equal(all.Events.Take(both), cut.Events.Take(both));
        Assert.True(after.WindowsCutToMaximum > 0);
    }

    /// <summary>Forwards everything: keeps an aggregate from seeing the arg-max step behind it.</summary>
    private sealed class PassThrough<T>(IStreamObserver<T> downstream) : IStreamObserver<T>
    {
        public void OnBatch(EventBatch<T> batch) => downstream.OnBatch(batch);

        public void OnWatermark(long watermark) => downstream.OnWatermark(watermark);

        public void OnCompleted() => downstream.OnCompleted();

        public void OnError(Exception error) => downstream.OnError(error);
    }
}
