using BenchmarkDotNet.Attributes;
using LinqStream.Benchmarks.Infrastructure;
using LinqStream.Physical.Kernels;

namespace LinqStream.Benchmarks.Compilation;

/// <summary>Time from a new query to its first result: translation, planning and kernel compilation (the kernel cache turned off).</summary>
/// <remarks>With the cache on, these would measure the cached path; <see cref="SubscribeCacheBenchmarks"/> compares the two.</remarks>
[MemoryDiagnoser]
public class CompileBenchmarks
{
    private Tick[] _data = [];

    private int _capacity;

    [GlobalSetup]
    public void Setup()
    {
        _data = Data.Ticks(100, 10);
        _capacity = KernelCompiler.Shared.Cache!.Capacity;
        KernelCompiler.Shared.Cache.Capacity = 0;
    }

    [GlobalCleanup]
    public void Cleanup() => KernelCompiler.Shared.Cache!.Capacity = _capacity;

    [Benchmark]
    public long FilterProjectFirstResult()
    {
        var sink = new CountingObserver<long>();
        QStream.From(_data, t => t.Time).Where(t => t.Value % 2 == 0).Select(t => t.Value * 3 + t.Key).Subscribe(sink);
        return sink.Count;
    }

    [Benchmark]
    public long WindowedGroupByFirstResult()
    {
        var sink = new CountingObserver<int>();
        var query =
            from t in QStream.From(_data, t => t.Time).HoppingWindow(TimeSpan.FromTicks(50), TimeSpan.FromTicks(10))
            group t by t.Key into g
            select g.Count() + g.Max(x => (int)x.Value);
        query.Subscribe(sink);
        return sink.Count;
    }
}
