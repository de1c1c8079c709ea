using System.Reactive.Linq;
using BenchmarkDotNet.Attributes;
using LinqStream.Benchmarks.Infrastructure;

namespace LinqStream.Benchmarks.Windows;

/// <summary>Count per key per hopping window, size 5 × hop (1k keys): LinqStream vs Rx.NET.</summary>
/// <remarks>Rx form: each event is expanded to its 5 windows (SelectMany), then grouped by (window, key) and counted.</remarks>
[MemoryDiagnoser]
public class HoppingCountBenchmarks
{
    private const int Events = 5_000_000;
    private const long Hop = 20_000;
    private const long Size = 5 * Hop;
    private Tick[] _data = [];

    [GlobalSetup]
    public void Setup() => _data = Data.Ticks(Events, 1000);

    [Benchmark(Baseline = true, OperationsPerInvoke = Events)]
    public long RxNet()
    {
        var sink = new CountingObserver<int>();
        _data.ToObservable()
            .SelectMany(t => Enumerable.Range(0, 5).Select(i => (Window: t.Time - (t.Time % Hop) - (i * Hop), t.Key)))
            .GroupBy(w => w)
            .SelectMany(g => g.Count())
            .Subscribe(sink);
        return sink.Count;
    }

    [Benchmark(OperationsPerInvoke = Events)]
    public long LinqStreamQuery()
    {
        var sink = new CountingObserver<int>();
        var query =
            from t in QStream.From(_data, t => t.Time).HoppingWindow(TimeSpan.FromTicks(Size), TimeSpan.FromTicks(Hop))
            group t by t.Key into g
            select g.Count();
        query.Subscribe(sink);
        return sink.Count;
    }
}
