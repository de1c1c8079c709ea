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
    private TimeSpan? _alignmentP99;
    private long _checkpoints;

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

    /// <summary>
    /// The tumbling count as a job that checkpoints every million events into a directory: at P = 2 each checkpoint is an
    /// aligned barrier through the tasks' channels. The p99 of the barriers' alignment is printed at the end of each run.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Events)]
    public long TumblingCountPerKeyCheckpointed()
    {
        var query =
            from t in QStream.From(_ticks, t => t.Time).TumblingWindow(TimeSpan.FromTicks(Size))
            group t by t.Key into g
            select g.Count();
        string directory = Path.Combine(Path.GetTempPath(), "linqstream-bench-" + Guid.NewGuid().ToString("N"));
        try
        {
            var sink = new CountingSink<int>();
            var job = query.ToJob(sink, new JobOptions
            {
                Checkpoints = new DirectoryCheckpointStore(directory),
                CheckpointEveryEvents = 1_000_000,
                Parallelism = Parallelism,
            });
            var result = job.RunAsync().GetAwaiter().GetResult();
            job.DisposeAsync().AsTask().GetAwaiter().GetResult();
            _alignmentP99 = result.BarrierAlignmentP99;
            _checkpoints = result.Checkpoints;
            return sink.Count;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [GlobalCleanup(Target = nameof(TumblingCountPerKeyCheckpointed))]
    public void ReportAlignment() =>
        Console.WriteLine($"// P = {Parallelism}: {_checkpoints} checkpoints in the last run, barrier alignment p99 = {(_alignmentP99 is { } p99 ? p99.TotalMilliseconds.ToString("F3", System.Globalization.CultureInfo.InvariantCulture) + " ms" : "n/a (one task)")}");

    [Benchmark(OperationsPerInvoke = NexmarkInput.BenchmarkEvents)]
    public long Q5HotItems()
    {
        var sink = new CountingObserver<HotItem>();
        new Q5HotItems().LinqStream(_nexmark!).WithOptions(new QueryOptions { Parallelism = Parallelism }).Subscribe(sink);
        return sink.Count;
    }
}

/// <summary>Counts what a job writes (and commits nothing: the benchmark measures the query and its checkpoints, not a file).</summary>
internal sealed class CountingSink<T> : EventSink<T>
{
    public long Count { get; private set; }

    public override string Name => "counting";

    public override bool IsTransactional => false;

    public override ValueTask OpenAsync(byte[]? committed, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public override ValueTask WriteAsync(ReadOnlyMemory<T> results, CancellationToken cancellationToken)
    {
        Count += results.Length;
        return ValueTask.CompletedTask;
    }

    public override ValueTask<byte[]> PrepareCommitAsync(long checkpointId, CancellationToken cancellationToken) => ValueTask.FromResult(Array.Empty<byte>());

    public override ValueTask CompleteAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
