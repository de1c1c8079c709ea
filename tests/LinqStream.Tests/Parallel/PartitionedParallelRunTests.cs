using LinqStream.Parallel;
using LinqStream.Query;
using LinqStream.Runtime;
using LinqStream.Runtime.Egress;

namespace LinqStream.Tests.Parallel;

public sealed class PartitionedParallelRunTests
{
    public sealed record Tick(long Time, int Key);

    private sealed class Counter : IObserver<int>
    {
        public long Sum { get; private set; }

        public void OnCompleted()
        {
        }

        public void OnError(Exception error) => throw error;

        public void OnNext(int value) => Sum += value;
    }

    /// <summary><paramref name="partitions"/> in-order streams of ticks, partition p holding every event i with i % partitions == p, merged.</summary>
    private static IQStream<Tick> Partitioned(int partitions, IEnumerable<Tick> ticks)
    {
        var streams = Enumerable.Range(0, partitions)
            .Select(p => QStream.From(ticks.Where((_, i) => i % partitions == p), t => t.Time, IngressPolicy.Throw, "ticks-" + p))
            .ToArray();
        return streams[0].Merge(streams[1..]);
    }

    [Theory]
    [InlineData(5, 3)] // 3 source tasks: [0..1] [2..3] [4]
    [InlineData(2, 4)] // 2 source tasks, 4 tasks
    public void Run_SourceTasksAndTasks_EveryEventCountedOnceAndEveryPooledBatchComesBack(int partitions, int parallelism)
    {
        var ticks = Enumerable.Range(0, 50_000).Select(i => new Tick(i * 1_000L, i * 7919 % 1_000)).ToArray();
        var query =
            from t in Partitioned(partitions, ticks).TumblingWindow(TimeSpan.FromTicks(100_000))
            group t by t.Key into g
            select g.Count();
        // One phase (events cross the exchange): what this test counts per task.
        var compiled = QueryCompiler.Compile<int>(query.WithOptions(new QueryOptions { Parallelism = parallelism, BatchSize = 256, TwoPhaseAggregation = false }).Expression);
        var counter = new Counter();
        var execution = QueryExecution.Create(compiled.Root, c => new ObserverSink<int>(counter, c), compiled.Options, parallel: compiled.Parallel);
        var run = Assert.Single(execution.Context.Operators.OfType<KeyedParallelRun<Tick, int, int>>());

        execution.Run();

        Assert.True(run.Join(TimeSpan.FromMinutes(1)), "a thread did not end");
        Assert.Equal(ticks.Length, counter.Sum);
        Assert.Equal(parallelism, run.Parallelism);
        Assert.Equal(Math.Min(partitions, parallelism), run.SourceTasks);
        Assert.Equal(ticks.Length, run.EventsPerTask.Sum());
        Assert.All(run.EventsPerTask, n => Assert.InRange(n, ticks.Length / (2 * parallelism), 2 * ticks.Length / parallelism));
        Assert.Equal(ticks.Length, run.EventsRead);
        Assert.Equal(0, execution.Context.OutstandingBatches());
        Assert.All(run.TaskContexts, c => Assert.Equal(0, c.OutstandingBatches()));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Stop_WhileRunning_EndsEverySourceTaskAndTask(bool twoPhase)
    {
        var ticks = Enumerable.Range(0, 2_000_000).Select(i => new Tick(i * 10L, i % 5_000));
        var query =
            from t in Partitioned(3, ticks).TumblingWindow(TimeSpan.FromTicks(1_000))
            group t by t.Key into g
            select g.Count();
        var compiled = QueryCompiler.Compile<int>(query.WithOptions(new QueryOptions { Parallelism = 2, BatchSize = 64, TwoPhaseAggregation = twoPhase }).Expression);
        QueryExecution? execution = null;
        long seen = 0;
        var observer = System.Reactive.Observer.Create<int>(_ =>
        {
            if (++seen == 1_000)
            {
                execution!.Stop();
            }
        });
        execution = QueryExecution.Create(compiled.Root, c => new ObserverSink<int>(observer, c), compiled.Options, parallel: compiled.Parallel);
        var run = execution.Context.Operators.OfType<IParallelRun>().Single();

        execution.Run();

        Assert.True(run.Join(TimeSpan.FromMinutes(1)), "a thread kept running after Stop");
        Assert.InRange(seen, 1_000, 1_999_999);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SourceFails_InOnePartition_ErrorReachesTheObserverOnceAndThreadsEnd(bool twoPhase)
    {
        static IEnumerable<Tick> Failing()
        {
            for (int i = 0; i < 100_000; i++)
            {
                if (i == 30_000)
                {
                    throw new IOException("partition 1 broke at 30000");
                }

                yield return new Tick(i * 10L, i % 100);
            }
        }

        var good = Enumerable.Range(0, 100_000).Select(i => new Tick(i * 10L, i % 100));
        var query =
            from t in QStream.From(good, t => t.Time, IngressPolicy.Throw, "good").Merge(QStream.From(Failing(), t => t.Time, IngressPolicy.Throw, "failing")).TumblingWindow(TimeSpan.FromTicks(1_000))
            group t by t.Key into g
            select g.Count();
        var compiled = QueryCompiler.Compile<int>(query.WithOptions(new QueryOptions { Parallelism = 2, BatchSize = 64, TwoPhaseAggregation = twoPhase }).Expression);
        var errors = new List<Exception>();
        var observer = System.Reactive.Observer.Create<int>(_ => { }, errors.Add);
        var execution = QueryExecution.Create(compiled.Root, c => new ObserverSink<int>(observer, c), compiled.Options, parallel: compiled.Parallel);
        var run = execution.Context.Operators.OfType<IParallelRun>().Single();

        try
        {
            execution.Run();
        }
        catch (Exception ex)
        {
            errors.Add(ex);
        }

        Assert.True(run.Join(TimeSpan.FromMinutes(1)), "a thread kept running after the error");
        var error = Assert.Single(errors);
        Assert.Contains("partition 1 broke at 30000", error.ToString(), StringComparison.Ordinal);
    }
}
