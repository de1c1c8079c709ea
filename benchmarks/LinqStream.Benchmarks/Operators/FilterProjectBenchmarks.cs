using System.Reactive.Linq;
using BenchmarkDotNet.Attributes;
using LinqStream.Benchmarks.Infrastructure;

namespace LinqStream.Benchmarks.Operators;

/// <summary>Filter + project over point events from an array: LinqStream (through the LINQ provider) vs Rx.NET vs a hand-written loop.</summary>
[MemoryDiagnoser]
public class FilterProjectBenchmarks
{
    private const int Events = 10_000_000;
    private Tick[] _data = [];

    [GlobalSetup]
    public void Setup() => _data = Data.Ticks(Events, 1000);

    [Benchmark(Baseline = true, OperationsPerInvoke = Events)]
    public long RxNet()
    {
        var sink = new CountingObserver<long>();
        _data.ToObservable().Where(t => t.Value % 2 == 0).Select(t => t.Value * 3 + t.Key).Subscribe(sink);
        return sink.Count;
    }

    [Benchmark(OperationsPerInvoke = Events)]
    public long LinqStreamQuery()
    {
        var sink = new CountingObserver<long>();
        QStream.From(_data, t => t.Time).Where(t => t.Value % 2 == 0).Select(t => t.Value * 3 + t.Key).Subscribe(sink);
        return sink.Count;
    }

    [Benchmark(OperationsPerInvoke = Events)]
    public long HandWrittenLoop()
    {
        var sink = new CountingObserver<long>();
        foreach (var t in _data)
        {
            if (t.Value % 2 == 0)
            {
                sink.OnNext(t.Value * 3 + t.Key);
            }
        }

        return sink.Count;
    }
}
