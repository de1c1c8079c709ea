using System.Reactive.Linq;
using BenchmarkDotNet.Attributes;
using LinqStream.Benchmarks.Infrastructure;

namespace LinqStream.Benchmarks.Operators;

/// <summary>The queries <see cref="BatchSizeBenchmarks"/> sweeps.</summary>
public enum BatchQuery
{
    /// <summary><c>Where</c> + <c>Select</c>, fused: the stateless path.</summary>
    FilterProject,

    /// <summary>Count per key (1,000 keys) per tumbling window of 100,000 ticks: the stateful path.</summary>
    TumblingCount,
}

/// <summary>Batch size sweep (<c>QueryOptions.BatchSize</c> 64, 1,024, 4,096) over a stateless and a stateful query, each against the same query on Rx.NET.</summary>
/// <remarks>Rx.NET has no batches, so its time is the same in every column of a query: it is there so each row has its ratio.</remarks>
[MemoryDiagnoser]
public class BatchSizeBenchmarks : IAnswerCheck
{
    private const int Events = 10_000_000;
    private const long WindowTicks = 100_000;
    private Tick[] _data = [];

    [Params(BatchQuery.FilterProject, BatchQuery.TumblingCount)]
    public BatchQuery Query { get; set; }

    [Params(64, 1024, 4096)]
    public int BatchSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _data = Data.Ticks(Events, 1000);
        Check(_data, Query, BatchSize);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Events)]
    public long RxNet()
    {
        var sink = new CountingObserver<long>();
        Rx(_data, Query).Subscribe(sink);
        return sink.Count;
    }

    [Benchmark(OperationsPerInvoke = Events)]
    public long LinqStreamQuery()
    {
        var sink = new CountingObserver<long>();
        LinqStream(_data, Query, BatchSize).Subscribe(sink).Dispose();
        return sink.Count;
    }

    public string CheckQuick() => CheckAll(100_000);

    public string CheckFull() => CheckAll(Events);

    private static string CheckAll(int events)
    {
        var data = Data.Ticks(events, 1000);
        long results = 0;
        foreach (var query in System.Enum.GetValues<BatchQuery>())
        {
            foreach (int size in new[] { 64, 1024, 4096 })
            {
                results += Check(data, query, size);
            }
        }

        return Answers.Summary(6L * events, results);
    }

    private static IQStream<long> LinqStream(Tick[] data, BatchQuery query, int batchSize)
    {
        var source = QStream.From(data, t => t.Time).WithOptions(new QueryOptions { BatchSize = batchSize, Strict = true });
        return query == BatchQuery.FilterProject
            ? source.Where(t => t.Value % 2 == 0).Select(t => (t.Value * 3) + t.Key)
            : from t in source.TumblingWindow(TimeSpan.FromTicks(WindowTicks))
              group t by t.Key into g
              select ((long)g.Key << 32) + g.Count();
    }

    /// <summary>Rx.NET: <c>Where</c> + <c>Select</c>; for the window, <c>GroupBy</c> (window, key) + <c>Count</c>, as in <see cref="Windows.TumblingCountBenchmarks"/>.</summary>
    private static IObservable<long> Rx(Tick[] data, BatchQuery query) =>
        query == BatchQuery.FilterProject
            ? data.ToObservable().Where(t => t.Value % 2 == 0).Select(t => (t.Value * 3) + t.Key)
            : data.ToObservable()
                .GroupBy(t => (Window: t.Time - (t.Time % WindowTicks), t.Key))
                .SelectMany(g => g.Count().Select(n => ((long)g.Key.Key << 32) + n));

    private static int Check(Tick[] data, BatchQuery query, int batchSize)
    {
        var expected = new CollectingObserver<long>();
        Rx(data, query).Subscribe(expected);
        var model = query == BatchQuery.FilterProject
            ? data.Where(t => t.Value % 2 == 0).Select(t => (t.Value * 3) + t.Key).ToList()
            : data.GroupBy(t => (Window: t.Time - (t.Time % WindowTicks), t.Key)).Select(g => ((long)g.Key.Key << 32) + g.Count()).ToList();
        var actual = new CollectingObserver<long>();
        LinqStream(data, query, batchSize).Subscribe(actual).Dispose();
        Answers.SameMultiset($"{query}, batch size {batchSize}, LinqStream", model, actual.ResultsOrThrow());
        Answers.SameMultiset($"{query}, Rx.NET", model, expected.ResultsOrThrow());
        return model.Count;
    }
}
