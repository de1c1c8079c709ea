using System.Linq.Expressions;
using System.Reactive.Linq;
using BenchmarkDotNet.Attributes;
using LinqStream.Benchmarks.Infrastructure;
using LinqStream.Physical.Ingress;
using LinqStream.Physical.Pipeline;
using LinqStream.Plan;
using LinqStream.Runtime;
using LinqStream.Runtime.Egress;

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

    /// <summary>The same physical plan built by hand, without the provider: the provider's cost is the difference.</summary>
    [Benchmark(OperationsPerInvoke = Events)]
    public long EngineDirect()
    {
        var sink = new CountingObserver<long>();
        Expression<Func<Tick, long>> time = t => t.Time;
        Expression<Func<Tick, bool>> where = t => t.Value % 2 == 0;
        Expression<Func<Tick, long>> select = t => t.Value * 3 + t.Key;
        var source = new IngressStream<Tick>(_data, EventTimeKernel.Compile<Tick>(time, null), IngressPolicy.Throw, "data");
        var plan = new PipelineStream<Tick, long>(source, [new PipelineStep(true, where), new PipelineStep(false, select)]);
        QueryExecution.Create(plan, c => new ObserverSink<long>(sink, c)).Run();
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
