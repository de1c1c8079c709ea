using System.Reactive.Linq;
using BenchmarkDotNet.Attributes;
using LinqStream.Benchmarks.Infrastructure;

namespace LinqStream.Benchmarks.Windows;

/// <summary>Count per key per tumbling window (10k keys, 100k-tick windows): LinqStream vs Rx.NET's GroupBy per (window, key).</summary>
/// <remarks>
/// Rx has no event-time windows; its fairest idiomatic form groups by (window start, key) and counts each group, so its groups only
/// complete when the source does (as in the reference measurement quoted in the engine issue).
/// </remarks>
[MemoryDiagnoser]
public class TumblingCountBenchmarks
{
    private const int Events = 10_000_000;
    private const long Size = 100_000;
    private Tick[] _data = [];

    [Params(10_000)]
    public int Keys { get; set; }

    [GlobalSetup]
    public void Setup() => _data = Data.Ticks(Events, Keys);

    [Benchmark(Baseline = true, OperationsPerInvoke = Events)]
    public long RxNet()
    {
        var sink = new CountingObserver<int>();
        _data.ToObservable()
            .GroupBy(t => (Window: t.Time - (t.Time % Size), t.Key))
            .SelectMany(g => g.Count())
            .Subscribe(sink);
        return sink.Count;
    }

    [Benchmark(OperationsPerInvoke = Events)]
    public long LinqStreamQuery()
    {
        var sink = new CountingObserver<int>();
        var query =
            from t in QStream.From(_data, t => t.Time).TumblingWindow(TimeSpan.FromTicks(Size))
            group t by t.Key into g
            select g.Count();
        query.Subscribe(sink);
        return sink.Count;
    }
}
