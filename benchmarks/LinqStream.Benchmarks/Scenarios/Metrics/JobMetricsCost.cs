using BenchmarkDotNet.Attributes;
using LinqStream.Benchmarks.Scenarios.Nexmark;
using LinqStream.Testing.Io;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Benchmarks.Scenarios.Metrics;

/// <summary>
/// What metrics cost a running job: NEXMark q5 over 1,000,000 bids as a job without <see cref="JobOptions.Metrics"/> (no observer
/// between operators) and with <see cref="JobMetrics"/> (one counting observer per plan edge, per batch; rates sampled every second).
/// </summary>
[MemoryDiagnoser]
public class JobMetricsCost
{
    public const int Bids = 1_000_000;

    private Bid[] _bids = [];

    [GlobalSetup]
    public void Setup()
    {
        _bids = new NexmarkGenerator(new NexmarkConfig { FirstEventRate = 50_000 * 50 / 46 }).Bids(Bids);
        long without = Run(metrics: false), with = Run(metrics: true);
        if (without != with || without == 0)
        {
            throw new InvalidOperationException($"q5: {without} results without metrics, {with} with them.");
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Bids)]
    public long WithoutMetrics() => Run(metrics: false);

    [Benchmark(OperationsPerInvoke = Bids)]
    public long WithMetrics() => Run(metrics: true);

    private long Run(bool metrics)
    {
        using var measured = metrics ? new JobMetrics("q5") : null;
        var bids = QStream.From(new ArrayEventSource<Bid>(_bids, "bids"), b => b.DateTime);
        var job = Q5HotItems.Query(bids).Select(r => r.ToString()!).ToJob(new MemorySink<string>(), new JobOptions { Metrics = measured });
        var result = job.RunAsync().GetAwaiter().GetResult();
        job.DisposeAsync().AsTask().GetAwaiter().GetResult();
        if (measured is not null && measured.Snapshot().EventsOut != result.Results)
        {
            throw new InvalidOperationException($"JobMetrics counted {measured.Snapshot().EventsOut} results; the job wrote {result.Results}.");
        }

        return result.Results;
    }
}
