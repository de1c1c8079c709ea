using LinqStream.Parallel;
using LinqStream.Query;
using LinqStream.Runtime;
using LinqStream.Runtime.Egress;

namespace LinqStream.Tests.Parallel;

public sealed class KeyedParallelRunTests
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

    [Fact]
    public void Run_Parallelism3_EveryTaskGetsItsKeysAndEveryPooledBatchComesBack()
    {
        var ticks = Enumerable.Range(0, 50_000).Select(i => new Tick(i * 1_000L, i * 7919 % 1_000)).ToArray();
        var query =
            from t in QStream.From(ticks, t => t.Time).TumblingWindow(TimeSpan.FromTicks(100_000))
            group t by t.Key into g
            select g.Count();
        // One phase (events cross the exchange): what this test counts per task.
        var compiled = QueryCompiler.Compile<int>(query.WithOptions(new QueryOptions { Parallelism = 3, BatchSize = 256, TwoPhaseAggregation = false }).Expression);
        var counter = new Counter();
        var execution = QueryExecution.Create(compiled.Root, c => new ObserverSink<int>(counter, c), compiled.Options, parallel: compiled.Parallel);
        var run = Assert.Single(execution.Context.Operators.OfType<KeyedParallelRun<Tick, int, int>>());

        execution.Run();

        Assert.True(run.Join(TimeSpan.FromMinutes(1)), "a task thread did not end");
        Assert.Equal(ticks.Length, counter.Sum);
        Assert.Equal(3, run.Parallelism);
        Assert.Equal(ticks.Length, run.EventsPerTask.Sum());
        Assert.All(run.EventsPerTask, n => Assert.InRange(n, ticks.Length / 6, ticks.Length / 2)); // 1,000 keys over 3 tasks
        Assert.Equal(0, run.QueuedMessages);
        Assert.Equal(0, execution.Context.OutstandingBatches());
        Assert.All(run.TaskContexts, c => Assert.Equal(0, c.OutstandingBatches()));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Stop_WhileRunning_EndsEveryThread(bool twoPhase)
    {
        var ticks = Enumerable.Range(0, 2_000_000).Select(i => new Tick(i * 10L, i % 5_000));
        var query =
            from t in QStream.From(ticks, t => t.Time).TumblingWindow(TimeSpan.FromTicks(1_000))
            group t by t.Key into g
            select g.Count();
        var compiled = QueryCompiler.Compile<int>(query.WithOptions(new QueryOptions { Parallelism = 4, BatchSize = 64, TwoPhaseAggregation = twoPhase }).Expression);
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
}
