using BenchmarkDotNet.Attributes;
using LinqStream.Benchmarks.Infrastructure;
using LinqStream.Physical.Kernels;
using LinqStream.Query;
using LinqStream.Runtime;
using LinqStream.Runtime.Egress;

namespace LinqStream.Benchmarks.Compilation;

/// <summary>
/// The first <c>Subscribe</c> of a query shape (every stage run, every kernel compiled) against the second (the same shape built
/// again with other captured values: the plan from the plan cache, kernels from the compiled-kernel cache). Target: the second
/// costs at most 10 % of the first.
/// </summary>
/// <remarks>
/// Both run the whole path of <c>Subscribe</c>: preprocessing, translation, passes, physical planning, kernels, and a run over
/// 100 events. "First" uses new, empty caches each time; "Second" caches that already hold the shape.
/// </remarks>
[MemoryDiagnoser]
public class SubscribeCacheBenchmarks
{
    private readonly KernelCompiler _warm = new(new CompiledKernelCache(64));
    private readonly PlanCache _warmPlans = new(64);
    private Tick[] _data = [];
    private int _threshold;
    private CompiledQuery<object>? _compiled;

    [GlobalSetup]
    public void Setup()
    {
        _data = Data.Ticks(100, 10);
        _ = Subscribe(_warm, _warmPlans);
        _compiled = QueryCompiler.Compile<object>(Query().Expression, _warm, _warmPlans);
    }

    [Benchmark(Baseline = true)]
    public long FirstSubscribe() => Subscribe(new KernelCompiler(new CompiledKernelCache(64)), new PlanCache(64));

    [Benchmark]
    public long SecondSubscribe() => Subscribe(_warm, _warmPlans);

    /// <summary>The compile part of <see cref="SecondSubscribe"/> alone (no run), to show where the rest of its time goes.</summary>
    [Benchmark]
    public object SecondCompileOnly() => QueryCompiler.Compile<object>(Query().Expression, _warm, _warmPlans);

    /// <summary>The run part alone: a plan compiled once, wired and run over the 100 events again.</summary>
    [Benchmark]
    public long RunOnly()
    {
        var sink = new CountingObserver<object>();
        QueryExecution.Create(_compiled!.Root, c => new ObserverSink<object>(sink, c), _compiled.Options).Run();
        return sink.Count;
    }

    /// <summary>The windowed group-by of docs/architecture.md, with a captured threshold that changes every call.</summary>
    private long Subscribe(KernelCompiler kernels, PlanCache plans)
    {
        var sink = new CountingObserver<object>();
        var compiled = QueryCompiler.Compile<object>(Query().Expression, kernels, plans);
        QueryExecution.Create(compiled.Root, c => new ObserverSink<object>(sink, c), compiled.Options).Run();
        return sink.Count;
    }

    private IQStream<object> Query()
    {
        int threshold = _threshold++ % 5;
        return
            from t in QStream.From(_data, t => t.Time).Where(t => t.Value > threshold).TumblingWindow(TimeSpan.FromTicks(50))
            group t by t.Key into g
            select new { g.Key, C = g.Count(), Top = g.Max(x => x.Value) };
    }
}
