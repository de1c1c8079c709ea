using LinqStream.Parallel;
using LinqStream.Query;
using LinqStream.Runtime;
using LinqStream.Runtime.Egress;
using LinqStream.Runtime.Tables;

namespace LinqStream.Tests.Parallel;

/// <summary>
/// What one run of a query leaves to the next in the process (issue #16, session 23): the window aggregates' key tables
/// (<see cref="PooledDictionaries{TKey}"/>), their columns' arrays (the shared array pool) and the channels' batches
/// (<see cref="SharedBatches{T}"/>). A run that reuses them must give the answer a fresh one gives. The types here are used by
/// no other test, so the process-wide pools they look at are theirs alone.
/// </summary>
public sealed class RunPoolsTests
{
    public readonly record struct PoolKey(long Id);

    public sealed record PoolTick(long Time, PoolKey Key, long Amount);

    public sealed record Probe(int Value);

    public sealed record ChannelProbe(int Value);

    private static PoolTick[] Input(int seed, int count)
    {
        var random = new Random(seed);
        long time = 1_000_000; // windows start at 0 or later (a window's start is a DateTimeOffset)
        return Enumerable.Range(0, count).Select(_ =>
        {
            time += random.Next(0, 3) * 1_000; // ties: several events at one time
            // A hot key (half of the events), many cold ones, and huge ids.
            long id = random.Next(2) == 0 ? 7 : random.Next(0, 3) == 0 ? long.MaxValue - random.Next(0, 50) : random.Next(0, 400);
            return new PoolTick(time, new PoolKey(id), random.Next(-1_000, 1_000));
        }).ToArray();
    }

    private static IQStream<PoolTick> Partitioned(PoolTick[] ticks) =>
        QStream.From(ticks.Where((_, i) => i % 2 == 0), t => t.Time, IngressPolicy.Throw, "ticks-0")
            .Merge(QStream.From(ticks.Where((_, i) => i % 2 == 1), t => t.Time, IngressPolicy.Throw, "ticks-1"));

    public sealed record Row(long Start, long Id, long Count, long Sum, long Max);

    private sealed class Collect : IObserver<Row>
    {
        public List<(long Start, long Id, long Count, long Sum, long Max)> Rows { get; } = [];

        public void OnCompleted()
        {
        }

        public void OnError(Exception error) => throw error;

        public void OnNext(Row r) => Rows.Add((r.Start, r.Id, r.Count, r.Sum, r.Max));
    }

    private static List<(long Start, long Id, long Count, long Sum, long Max)> Run(PoolTick[] ticks, int parallelism, bool twoPhase)
    {
        var query =
            from t in Partitioned(ticks).HoppingWindow(TimeSpan.FromTicks(40_000), TimeSpan.FromTicks(10_000))
            group t by t.Key into g
            select new Row(g.Window.Start.Ticks, g.Key.Id, g.LongCount(), g.Sum(t => t.Amount), g.Max(t => t.Amount));
        var options = new QueryOptions { Parallelism = parallelism, BatchSize = 64, TwoPhaseAggregation = twoPhase };
        var compiled = QueryCompiler.Compile<Row>(query.WithOptions(options).Expression);
        var collect = new Collect();
        var execution = QueryExecution.Create(compiled.Root, c => new ObserverSink<Row>(collect, c), compiled.Options, parallel: compiled.Parallel);
        execution.Run();
        Assert.True(execution.Join(TimeSpan.FromMinutes(1)), "a thread did not end");
        return collect.Rows.Order().ToList();
    }

    private static List<(long Start, long Id, long Count, long Sum, long Max)> Reference(PoolTick[] ticks)
    {
        const long size = 40_000, hop = 10_000;
        return ticks
            .SelectMany(t =>
            {
                long last = t.Time - (((t.Time % hop) + hop) % hop);
                return Enumerable.Range(0, (int)(size / hop)).Select(k => last - k * hop).Where(s => s + size > t.Time).Select(s => (Start: s, Tick: t));
            })
            .GroupBy(x => (x.Start, x.Tick.Key.Id))
            .Select(g => (g.Key.Start, g.Key.Id, (long)g.Count(), g.Sum(x => x.Tick.Amount), g.Max(x => x.Tick.Amount)))
            .Order()
            .ToList();
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, true)]
    [InlineData(2, false)]
    [InlineData(4, true)]
    public void RunsOneAfterAnother_ReuseTheLastRunsTablesAndBatches_WithTheReferenceAnswer(int parallelism, bool twoPhase)
    {
        for (int round = 0; round < 3; round++)
        {
            // Another input each round (and fewer keys in the last), so whatever a reused table or column kept would show.
            var ticks = Input(seed: 100 * parallelism + round, count: round == 2 ? 3_000 : 20_000);
            Assert.Equal(Reference(ticks), Run(ticks, parallelism, twoPhase));
            Assert.True(PooledDictionaries<PoolKey>.Count > 0, "the aggregates gave no key table back at the end of the run");
            if (parallelism > 1)
            {
                Assert.True(SharedBatches<PoolTick>.Count > 0 || twoPhase, "the channels gave no batch back at the end of the run");
            }
        }
    }

    [Fact]
    public void Channel_ConsumerTakesTheCompletion_EveryBatchGoesBackEmpty_AndTheNextChannelTakesThem()
    {
        var channel = new SpscChannel<ChannelProbe>(capacity: 4, batchSize: 16);
        var filled = new List<EventBatch<ChannelProbe>>();
        for (int b = 0; b < 3; b++)
        {
            var batch = channel.BeginBatch()!;
            filled.Add(batch);
            batch.Add(b, b + 1, new ChannelProbe(b));
            batch.SetAbsent(0);
            channel.PublishBatch();
            var slot = channel.Peek()!;
            Assert.Equal(ChannelMessage.Batch, slot.Kind);
            Assert.Equal(new ChannelProbe(b), slot.Batch.Payload[0]);
            channel.Release();
        }

        int before = SharedBatches<ChannelProbe>.Count;
        Assert.True(channel.SendCompleted());
        Assert.Equal(ChannelMessage.Completed, channel.Peek()!.Kind);
        channel.Release();

        Assert.Equal(before + 3, SharedBatches<ChannelProbe>.Count); // the ring's 4 slots, 3 of them ever filled
        var next = new SpscChannel<ChannelProbe>(capacity: 4, batchSize: 16);
        var taken = next.BeginBatch()!;
        Assert.Contains(taken, filled);
        Assert.Equal(0, taken.Count);
        Assert.False(taken.IsAbsent(0));
        Assert.Null(taken.Payload[0]);
    }

    [Fact]
    public void Channel_ClosedBeforeItsCompletion_KeepsItsBatches()
    {
        var channel = new SpscChannel<Probe>(capacity: 2, batchSize: 8);
        channel.BeginBatch()!.Add(1, 2, new Probe(1));
        channel.PublishBatch();
        int before = SharedBatches<Probe>.Count;
        channel.Close();
        Assert.Null(channel.BeginBatch());
        Assert.Equal(before, SharedBatches<Probe>.Count);
    }

    [Fact]
    public void Batches_OfAnotherCapacity_AreNotTakenForThisOne()
    {
        var small = new EventBatch<Probe>(8);
        SharedBatches<Probe>.GiveBack(small);
        var other = SharedBatches<Probe>.Take(32);
        Assert.NotSame(small, other);
        Assert.Equal(32, other.Capacity);
    }

    [Fact]
    public void Dictionaries_ReturnedTables_ComeBackEmpty_AndTooBigOnesAreDropped()
    {
        var table = PooledDictionaries<Probe>.Rent();
        table[new Probe(1)] = 5;
        PooledDictionaries<Probe>.Return(table);
        var again = PooledDictionaries<Probe>.Rent();
        Assert.Same(table, again);
        Assert.Empty(again);

        again.EnsureCapacity(PooledDictionaries<Probe>.LargestKept * 2);
        int before = PooledDictionaries<Probe>.Count;
        PooledDictionaries<Probe>.Return(again);
        Assert.Equal(before, PooledDictionaries<Probe>.Count);
    }
}
