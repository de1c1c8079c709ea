using BenchmarkDotNet.Attributes;
using LinqStream.Benchmarks.Infrastructure;
using LinqStream.Benchmarks.Scenarios.Nexmark;
using LinqStream.Physical.Join.Spilled;
using LinqStream.State.RocksDb;

namespace LinqStream.Benchmarks.Scenarios.State;

/// <summary>
/// The joins on both state backends (issue #18), as jobs over 1M NEXMark events: q8 (a window join over two tumbling windows) with
/// RocksDB's default 65,536 hot keys and with 1,024 (so the window join's waiting events and the windows' groups spill), and an
/// interval join (each auction joined with the bids on it in the 10 s after it opens; the temporal join, whose live auctions spill
/// on RocksDB since the eleventh session: with 65,536 hot events and with 1,024, so that most of them go to the store).
/// </summary>
/// <remarks>[GlobalSetup] checks each job's answer on the chosen backend against the same query run as a plain query on the heap
/// (and q8 against its LINQ-to-objects model) before anything is timed.</remarks>
[MemoryDiagnoser]
public class JoinStateBackendBenchmarks
{
    public const int Events = StateBackendBenchmarks.Events;

    private readonly Q8NewUsers _q8 = new();
    private NexmarkInput? _input;
    private string _directory = "";

    [Params("heap", "rocksdb")]
    public string Backend { get; set; } = "heap";

    [GlobalSetup]
    public void Setup()
    {
        _input = NexmarkInput.Generate(Events, NexmarkInput.BenchmarkRate);
        _directory = Path.Combine(Path.GetTempPath(), "linqstream-bench-join-state-" + Guid.NewGuid().ToString("N"));
        Answers.SameMultiset($"q8 on {Backend}", _q8.Model(_input).ToList(), Collect(_q8.LinqStream(_input), 65_536));
        Answers.SameMultiset($"q8 on {Backend}, 1,024 hot keys", _q8.Model(_input).ToList(), Collect(_q8.LinqStream(_input), 1_024));
        var intervalHeap = IntervalJoin(_input).ToListAsync().GetAwaiter().GetResult();
        Answers.SameMultiset($"interval join on {Backend}", intervalHeap, Collect(IntervalJoin(_input), 65_536));
        Answers.SameMultiset($"interval join on {Backend}, 1,024 hot keys", intervalHeap, Collect(IntervalJoin(_input), 1_024));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Benchmark(OperationsPerInvoke = Events)]
    public long Q8() => Run(_q8.LinqStream(_input!), 65_536);

    [Benchmark(OperationsPerInvoke = Events)]
    public long Q8Hot1024() => Run(_q8.LinqStream(_input!), 1_024);

    [Benchmark(OperationsPerInvoke = Events)]
    public long Interval10s() => Run(IntervalJoin(_input!), 65_536);

    [Benchmark(OperationsPerInvoke = Events)]
    public long Interval10sHot1024() => Run(IntervalJoin(_input!), 1_024);

    /// <summary>As <see cref="Interval10sHot1024"/> with the spilled join's on-heap key filter not consulted (every probe whose key group
    /// has spilled auctions reads the store, as before the twelfth session): the probe cost without and with the filter in one run.</summary>
    [Benchmark(OperationsPerInvoke = Events)]
    public long Interval10sHot1024NoKeyFilter()
    {
        SpilledTemporalJoinCounters.KeyFilter = false;
        try
        {
            return Run(IntervalJoin(_input!), 1_024);
        }
        finally
        {
            SpilledTemporalJoinCounters.KeyFilter = true;
        }
    }

    /// <summary>Each auction (alive 10 s after it opens) joined with the bids on it that start while it lives.</summary>
    private static IQStream<long> IntervalJoin(NexmarkInput input)
    {
        var events = NexmarkStreams.Events(input);
        return from a in NexmarkStreams.Auctions(events).ExtendLifetime(TimeSpan.FromSeconds(10))
               join b in NexmarkStreams.Bids(events) on a.Id equals b.Auction
               select b.Price;
    }

    private JobOptions Options(int hotKeys) => new()
    {
        State = Backend == "heap" ? StateBackend.Heap : StateBackend.RocksDb(Path.Combine(_directory, Guid.NewGuid().ToString("N")), hotKeys),
    };

    private long Run<T>(IQStream<T> query, int hotKeys) => RunJob(query, new StateBackendBenchmarks.CountingSink<T>(), hotKeys).Count;

    private List<T> Collect<T>(IQStream<T> query, int hotKeys) => RunJob(query, new StateBackendBenchmarks.CountingSink<T> { Keep = true }, hotKeys).Items;

    private StateBackendBenchmarks.CountingSink<T> RunJob<T>(IQStream<T> query, StateBackendBenchmarks.CountingSink<T> sink, int hotKeys)
    {
        var job = query.ToJob(sink, Options(hotKeys));
        try
        {
            job.RunAsync().GetAwaiter().GetResult();
        }
        finally
        {
            job.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        return sink;
    }
}
