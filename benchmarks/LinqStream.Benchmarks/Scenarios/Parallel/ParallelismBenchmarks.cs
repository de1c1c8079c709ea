using BenchmarkDotNet.Attributes;
using LinqStream.Benchmarks.Infrastructure;
using LinqStream.Benchmarks.Scenarios.Nexmark;

namespace LinqStream.Benchmarks.Scenarios.Parallel;

/// <summary>
/// One query at parallelism 1 and 2 in the same run (issue #16): a tumbling count per key (10k keys) and NEXMark q5. The ratio
/// of the two rows is the speed-up. CPU time per event is not measured here: take it from <c>/usr/bin/time</c> around
/// <c>linqstream nexmark --parallelism N</c> (user + sys over all threads), see benchmarks/RESULTS.md.
/// </summary>
/// <remarks>
/// Only meaningful on a quiet machine: the speed-up of P = 2 is bounded by the one source task (ingress and hashing run on it),
/// see docs/parallelism.md. Rerun: <c>dotnet run -c Release --project benchmarks/LinqStream.Benchmarks -- --filter '*ParallelismBenchmarks*' --launchCount 5</c>.
/// </remarks>
[MemoryDiagnoser]
public class ParallelismBenchmarks
{
    private const int Events = 10_000_000;
    private const long Size = 100_000;
    private Tick[] _ticks = [];
    private NexmarkInput? _nexmark;

    [Params(1, 2)]
    public int Parallelism { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _ticks = Data.Ticks(Events, 10_000);
        _nexmark = NexmarkInput.ForBenchmark();
    }

    [Benchmark(OperationsPerInvoke = Events)]
    public long TumblingCountPerKey()
    {
        var sink = new CountingObserver<int>();
        var query =
            from t in QStream.From(_ticks, t => t.Time).TumblingWindow(TimeSpan.FromTicks(Size))
            group t by t.Key into g
            select g.Count();
        query.WithOptions(new QueryOptions { Parallelism = Parallelism }).Subscribe(sink);
        return sink.Count;
    }

    [Benchmark(OperationsPerInvoke = NexmarkInput.BenchmarkEvents)]
    public long Q5HotItems()
    {
        var sink = new CountingObserver<HotItem>();
        new Q5HotItems().LinqStream(_nexmark!).WithOptions(new QueryOptions { Parallelism = Parallelism }).Subscribe(sink);
        return sink.Count;
    }
}
