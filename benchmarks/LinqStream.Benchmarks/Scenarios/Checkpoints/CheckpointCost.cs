using BenchmarkDotNet.Attributes;
using LinqStream.Benchmarks.Scenarios.Nexmark;
using LinqStream.Testing.Io;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Benchmarks.Scenarios.Checkpoints;

/// <summary>
/// What checkpoints cost a running job: NEXMark q5 (small state: counts per auction and pane) and q7 (large state: every bid of
/// the open 10 s window in a join) over 1,000,000 bids, as a job with no checkpoints and with one every 100,000 events into a
/// <see cref="DirectoryCheckpointStore"/> (temp file, fsync, rename). The size of the last checkpoint is printed as a
/// <c>// checkpoint:</c> line of the log.
/// </summary>
[MemoryDiagnoser]
public class CheckpointCost
{
    public const int Bids = 1_000_000;

    private Bid[] _bids = [];
    private string _directory = "";
    private long _lastSize;
    private long _checkpoints;

    [Params("q5", "q7")]
    public string Query { get; set; } = "q5";

    [GlobalSetup]
    public void Setup()
    {
        _bids = new NexmarkGenerator(new NexmarkConfig { FirstEventRate = 50_000 * 50 / 46 }).Bids(Bids);
        _directory = Path.Combine(Path.GetTempPath(), "linqstream-bench-ckpt-" + Guid.NewGuid().ToString("N"));
        long without = Run(checkpoints: false);
        long with = Run(checkpoints: true);
        if (without != with || without == 0)
        {
            throw new InvalidOperationException($"{Query}: {without} results without checkpoints, {with} with them.");
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Bids)]
    public long WithoutCheckpoints() => Run(checkpoints: false);

    [Benchmark(OperationsPerInvoke = Bids)]
    public long CheckpointEvery100k() => Run(checkpoints: true);

    [GlobalCleanup]
    public void Cleanup()
    {
        Console.WriteLine($"// checkpoint: {Query}: {_checkpoints} checkpoints per run, last one {_lastSize:N0} bytes");
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private long Run(bool checkpoints)
    {
        var source = new ArrayEventSource<Bid>(_bids, "bids");
        var bids = QStream.From(source, b => b.DateTime);
        var sink = new MemorySink<string>();
        string directory = Path.Combine(_directory, Guid.NewGuid().ToString("N"));
        var options = checkpoints ? new JobOptions { Checkpoints = new DirectoryCheckpointStore(directory), CheckpointEveryEvents = 100_000 } : new JobOptions();
        var job = Query == "q5"
            ? Q5HotItems.Query(bids).Select(r => r.ToString()!).ToJob(sink, options)
            : Q7HighestBid.Query(bids).Select(r => r.ToString()!).ToJob(sink, options);
        var result = job.RunAsync().GetAwaiter().GetResult();
        job.DisposeAsync().AsTask().GetAwaiter().GetResult();
        if (checkpoints)
        {
            _checkpoints = result.Checkpoints;
            var store = new DirectoryCheckpointStore(directory);
            if (store.List() is [var newest, ..])
            {
                _lastSize = new FileInfo(store.Describe(newest)).Length;
            }

            Directory.Delete(directory, recursive: true);
        }

        return result.Results;
    }
}
