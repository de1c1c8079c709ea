using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Attributes;
using LinqStream.Benchmarks.Infrastructure;
using LinqStream.Benchmarks.Scenarios.Nexmark;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Benchmarks.Scenarios.Parallel;

/// <summary>
/// One query at parallelism 1 and 2 in the same run (issue #16): a tumbling count per key (10k keys) and NEXMark q5, each
/// over one source and over two partitions (<c>...Partitioned</c>: one source task per partition at P = 2, docs/parallelism.md
/// "Source tasks"). The tumbling count's source is an array in start order, which a query at P = 2 reads as two ranges on two
/// source tasks ("Replayed arrays"); q5's array is out of order, so it keeps one source task. The checkpointed cases are jobs
/// (one source task for the array, two for the partitions, with barriers aligned at the tasks). The ratio of the P = 1 and
/// P = 2 rows is the speed-up. CPU time per event (user + sys of the benchmark process, all threads, GC included) is measured
/// around every iteration and printed at the end of each case as a <c>// CPU</c> line.
/// </summary>
/// <remarks>
/// Only meaningful on a quiet machine. [GlobalSetup] checks the tumbling count over the array (range-split at P = 2) and
/// every partitioned case's answer at full scale against LINQ to objects (tumbling count) or the q5 model, at the case's P. Rerun:
/// <c>dotnet run -c Release --project benchmarks/LinqStream.Benchmarks -- --filter '*ParallelismBenchmarks*' --launchCount 5</c>.
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
    private Tick[][] _tickPartitions = [];
    private Tick[][] _keyPartitions = [];
    private NexmarkEvent[][] _nexmarkPartitions = [];
    private NexmarkEvent[][] _nexmarkFifths = []; // the first fifth of each of _nexmarkPartitions (the same objects)
    private NexmarkEvent[][] _nexmarkPartitionsInterleaved = [];
    private TimeSpan _cpuAtStart;
    private TimeSpan _cpu;
    private long _iterations;
    private long _events;

    [Params(1, 2)]
    public int Parallelism { get; set; }

    /// <summary>Gets or sets a value indicating whether aggregates that merge exactly run in two phases (the default; the console mode also runs one phase to compare).</summary>
    internal bool TwoPhase { get; set; } = true;

    /// <summary>Gets or sets a value indicating whether q5's per-window maximum runs on each task before the merge (the default; the console mode also runs without to compare).</summary>
    internal bool TaskLocalSteps { get; set; } = true;

    /// <summary>Gets or sets whether the share-of-the-window query may run behind a broadcast exchange (off: on one task at every P, as before issue #16's par13).</summary>
    internal bool BroadcastExchange { get; set; } = true;

    /// <summary>Gets or sets a value indicating whether a task passes a checkpoint barrier on before it writes its key groups (the default; the console mode also runs the order before issue #16's eighth part to compare).</summary>
    internal bool BarrierBeforeSnapshot { get; set; } = true;

    /// <summary>Gets or sets what a source task that sent a barrier waits for (the internal option of that name).</summary>
    internal LinqStream.SourceBarrierWait SourcesWaitAtBarrier { get; set; } = LinqStream.SourceBarrierWait.UntilThrough;

    /// <summary>Gets or sets a value indicating whether a one-phase aggregate whose answer does not depend on event order takes its source tasks' events as they come (the default; the console mode also runs the ordering union to compare).</summary>
    internal bool UnorderedTaskInput { get; set; } = true;

    /// <summary>Gets or sets a value indicating whether a job at P > 1 runs its tasks' checkpoint code once before it starts (the default; the console mode's <c>--cold</c> compares, each in a fresh process).</summary>
    internal bool WarmParallelCheckpoints { get; set; } = true;

    /// <summary>Gets or sets a value indicating whether a forward plan over arrays runs source task t and task t on one thread (the default; the console mode also runs them on two to compare).</summary>
    internal bool ChainForwardTasks { get; set; } = true;

    /// <summary>Gets or sets whether a side that waits on a channel spins before it blocks (null, the default: decided per run; the console mode also forces the spin to compare).</summary>
    internal bool? SpinBeforeBlocking { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether q5's two partitions are round-robin views of the one generated array (the console
    /// mode's diagnostic case "partitions interleaved in one array"): each source task at P = 2 then reads every other object of one
    /// memory range, and so touches nearly every cache line the other reads. Off (the default since issue #16's par16): each
    /// partition reads copies of its own events made one partition after the other, so a partition's objects lie together in
    /// memory, as a partition's own reader and decoder would allocate them; P = 1 and P = 2 read the same copies.
    /// </summary>
    internal bool NexmarkPartitionsInterleaved { get; set; }

    private QueryOptions Options() => new() { Parallelism = Parallelism, TwoPhaseAggregation = TwoPhase, TaskLocalSteps = TaskLocalSteps, BroadcastExchange = BroadcastExchange, BarrierBeforeSnapshot = BarrierBeforeSnapshot, UnorderedTaskInput = UnorderedTaskInput, SourcesWaitAtBarrier = SourcesWaitAtBarrier, WarmParallelCheckpoints = WarmParallelCheckpoints, ChainForwardTasks = ChainForwardTasks, SpinBeforeBlocking = SpinBeforeBlocking };

    /// <summary>
    /// The NEXMark queries' options (<c>Strict</c>) with this case's parallelism and plan switches. The NEXMark sources carry
    /// their options inside the query (<c>QStream.From(...).WithOptions(...)</c>), and the innermost <c>WithOptions</c> is the
    /// one that counts: an outer <c>WithOptions(Options())</c> alone left q5's queries at parallelism 1 (until issue #16's
    /// seventh part the q5 query rows compared P = 1 with P = 1; the jobs took their parallelism from <c>JobOptions</c>).
    /// </summary>
    private QueryOptions NexmarkOptions() => _nexmark!.Options with { Parallelism = Parallelism, TwoPhaseAggregation = TwoPhase, TaskLocalSteps = TaskLocalSteps, BarrierBeforeSnapshot = BarrierBeforeSnapshot, UnorderedTaskInput = UnorderedTaskInput, SourcesWaitAtBarrier = SourcesWaitAtBarrier, WarmParallelCheckpoints = WarmParallelCheckpoints, SpinBeforeBlocking = SpinBeforeBlocking };

    [GlobalSetup]
    public void Setup() => Setup(check: true);

    /// <summary>Makes the input, and checks the answers at the current <see cref="Parallelism"/> when <paramref name="check"/> (the console
    /// mode's <c>--cold</c> does not: the checks would run the query code, and so compile much of it, before the case it measures cold).</summary>
    internal void Setup(bool check)
    {
        _ticks = Data.Ticks(Events, 10_000);
        _nexmark = NexmarkInput.ForBenchmark();
        _tickPartitions = RoundRobin(_ticks, 2);
        _keyPartitions = ByKey(_ticks, 2);
        _nexmarkPartitionsInterleaved = RoundRobin(_nexmark.Events, 2);
        _nexmarkPartitions = Apart(_nexmarkPartitionsInterleaved);
        _nexmarkFifths = Fifths(_nexmarkPartitions);
        if (check)
        {
            CheckPartitionedAnswers();
        }
    }

    /// <summary>Gets the last job's checkpoints and barrier alignment p99 (empty when the last case was not a job).</summary>
    internal string LastJob => _checkpoints > 0
        ? string.Create(CultureInfo.InvariantCulture, $" last job (P = {Parallelism}): {_checkpoints} checkpoints, alignment p99 {(_alignmentP99 is { } p99 ? p99.TotalMilliseconds.ToString("F1", CultureInfo.InvariantCulture) + " ms" : "n/a")}")
        : string.Empty;

    /// <summary>Gets when each barrier of the last keyed job passed each point of its run (the console mode's <c>--barriers</c>).</summary>
    internal IReadOnlyList<LinqStream.Parallel.BarrierTimeline> LastBarriers { get; private set; } = [];

    /// <summary>
    /// Copies the NEXMark partitions again (<see cref="Apart"/>), so the cases after read new objects at new addresses: the console
    /// mode's <c>--recopy</c>, which tests whether q5's launch-to-launch spread at P = 2 follows where the input lies in memory.
    /// </summary>
    internal void RecopyPartitions()
    {
        _nexmarkPartitions = Apart(_nexmarkPartitionsInterleaved);
        _nexmarkFifths = Fifths(_nexmarkPartitions);
    }

    /// <summary>
    /// Gets or sets a value indicating whether q5 over the partitions reads only the first fifth of each (the same event objects):
    /// the console mode's case that, against the whole run, splits a run's time into a fixed part (the query's compile, its
    /// threads' start, state growing from empty, the last windows) and a part per event, the rate of a long-running query.
    /// </summary>
    internal bool NexmarkFifth { get; set; }

    /// <summary>Gets the number of events in the first fifths of the partitions (see <see cref="NexmarkFifth"/>).</summary>
    internal long NexmarkFifthEvents => _nexmarkFifths.Sum(p => (long)p.Length);

    private static NexmarkEvent[][] Fifths(NexmarkEvent[][] partitions) => partitions.Select(p => p[..(p.Length / 5)]).ToArray();

    /// <summary>Checks the answers again at the current <see cref="Parallelism"/> (the console mode runs P = 1 and 2 over one input).</summary>
    internal void CheckAnswers() => CheckPartitionedAnswers();

    /// <summary>Splits the events round-robin into <paramref name="count"/> partitions (each keeps its events' order, as a log's partitions).</summary>
    private static T[][] RoundRobin<T>(IReadOnlyList<T> events, int count)
    {
        var partitions = new T[count][];
        for (int p = 0; p < count; p++)
        {
            partitions[p] = new T[(events.Count - p + count - 1) / count];
            for (int i = p, j = 0; i < events.Count; i += count, j++)
            {
                partitions[p][j] = events[i];
            }
        }

        return partitions;
    }

    /// <summary>
    /// Copies each partition's events (and the person, auction or bid each carries), one partition after the other: each partition's
    /// objects together in memory, as a partitioned source's reader allocates them (one decoder per partition), instead of every other
    /// object of the generated array.
    /// </summary>
    private static NexmarkEvent[][] Apart(NexmarkEvent[][] partitions) =>
        [.. partitions.Select(events => events.Select(e => e with
        {
            Person = e.Person is { } person ? person with { } : null,
            Auction = e.Auction is { } auction ? auction with { } : null,
            Bid = e.Bid is { } bid ? bid with { } : null,
        }).ToArray())];

    /// <summary>Splits the ticks into <paramref name="count"/> partitions by key, as a writer partitioning by key does (<see cref="KeyPartitioner.PartitionOf{TKey}"/>).</summary>
    private static Tick[][] ByKey(Tick[] ticks, int count)
    {
        var lists = Enumerable.Range(0, count).Select(_ => new List<Tick>(ticks.Length / count)).ToArray();
        foreach (var tick in ticks)
        {
            lists[KeyPartitioner.PartitionOf(tick.Key, count)].Add(tick);
        }

        return [.. lists.Select(l => l.ToArray())];
    }

    /// <summary>
    /// The tumbling count per key over the ticks partitioned by key, read from replayable sources (<c>ArrayEventSource</c>);
    /// <paramref name="declared"/>: with <c>QStream.FromKeyPartitioned</c> (a forward exchange at P &gt; 1), else <c>QStream.From</c> (the hash exchange).
    /// </summary>
    private IQStream<int> KeyPartitionedCountQuery(bool declared)
    {
        EventSource<Tick>[] sources = [.. _keyPartitions.Select((p, i) => new LinqStream.Testing.Io.ArrayEventSource<Tick>(p, "ticks-" + i))];
        var ticks = declared
            ? QStream.FromKeyPartitioned(sources, t => t.Time, t => t.Key, IngressPolicy.Throw, name: "ticks")
            : QStream.From(sources, t => t.Time, IngressPolicy.Throw, name: "ticks");
        return from t in ticks.TumblingWindow(TimeSpan.FromTicks(Size))
               group t by t.Key into g
               select g.Count();
    }

    /// <summary>The tumbling count per key over 2 partitions partitioned by key and declared so: a forward exchange at P = 2.</summary>
    [Benchmark(OperationsPerInvoke = Events)]
    public long TumblingCountPerKeyForward() => RunToEnd(KeyPartitionedCountQuery(declared: true)).Count;

    /// <summary>The same partitions, not declared: the hash exchange (two phases by default) at P = 2.</summary>
    [Benchmark(OperationsPerInvoke = Events)]
    public long TumblingCountPerKeyKeyPartitionedHashed() => RunToEnd(KeyPartitionedCountQuery(declared: false)).Count;

    /// <summary>
    /// The tumbling count per key over the ticks partitioned by key, replayed from the arrays themselves (no pool thread reading ahead);
    /// <paramref name="declared"/>: with <c>QStream.FromKeyPartitioned</c> over the arrays (a forward exchange at P &gt; 1, source task t and
    /// task t chained on one thread), else a <c>Merge</c> of the arrays (the hash exchange).
    /// </summary>
    private IQStream<int> KeyPartitionedArrayCountQuery(bool declared)
    {
        var ticks = declared
            ? QStream.FromKeyPartitioned(_keyPartitions, t => t.Time, t => t.Key, IngressPolicy.Throw, name: "ticks")
            : QStream.From(_keyPartitions[0], t => t.Time, IngressPolicy.Throw, "ticks-0").Merge(QStream.From(_keyPartitions[1], t => t.Time, IngressPolicy.Throw, "ticks-1"));
        return from t in ticks.TumblingWindow(TimeSpan.FromTicks(Size))
               group t by t.Key into g
               select g.Count();
    }

    /// <summary>The tumbling count per key over 2 arrays partitioned by key and declared so: a forward exchange at P = 2, chained.</summary>
    [Benchmark(OperationsPerInvoke = Events)]
    public long TumblingCountPerKeyForwardArrays() => CountOverArrays(KeyPartitionedArrayCountQuery(declared: true));

    /// <summary>The same arrays, not declared: the hash exchange (two phases by default) at P = 2.</summary>
    [Benchmark(OperationsPerInvoke = Events)]
    public long TumblingCountPerKeyKeyPartitionedArraysHashed() => CountOverArrays(KeyPartitionedArrayCountQuery(declared: false));

    /// <summary>Runs a tumbling count over arrays (replayed on the subscribing thread: it returns at the end) at this case's options; returns the number of counts.</summary>
    private long CountOverArrays(IQStream<int> query)
    {
        _events = Events;
        var sink = new CountingObserver<int>();
        query.WithOptions(Options()).Subscribe(sink);
        return sink.Count;
    }

    /// <summary>Runs a query over replayable sources (read asynchronously: <c>Subscribe</c> would return before the end) to its end at this case's options.</summary>
    private List<int> RunToEnd(IQStream<int> query)
    {
        _events = Events;
        return query.WithOptions(Options()).ToListAsync().GetAwaiter().GetResult();
    }

    private IQStream<Tick> PartitionedTicks()
    {
        var streams = _tickPartitions.Select((p, i) => QStream.From(p, t => t.Time, IngressPolicy.Throw, "ticks-" + i)).ToArray();
        return streams[0].Merge(streams[1..]);
    }

    private IQStream<int> PartitionedCountQuery() =>
        from t in PartitionedTicks().TumblingWindow(TimeSpan.FromTicks(Size))
        group t by t.Key into g
        select g.Count();

    /// <summary>
    /// Each key's share of its tumbling window's ticks over the partitions: the counts per key joined on the window to the window's
    /// total over the same input (the shape a broadcast exchange is for, docs/parallelism.md): at P &gt; 1 the counts run on P tasks
    /// behind one source task, which also computes the total and broadcasts it to every task; each task joins. With
    /// <see cref="BroadcastExchange"/> off the planner splits nothing (the keyed aggregate's input is shared): one task at every P.
    /// </summary>
    private IQStream<(int Key, long WindowStart, int Count, int Total)> ShareOfWindowQuery()
    {
        var ticks = PartitionedTicks();
        var counts =
            from t in ticks.TumblingWindow(TimeSpan.FromTicks(Size))
            group t by t.Key into g
            select new { g.Key, Start = g.Window.StartTicks, Count = g.Count() };
        var totals = ticks.TumblingWindow(TimeSpan.FromTicks(Size)).Select(w => new { Start = w.Window.StartTicks, Total = w.Count() });
        return from c in counts
               join w in totals on c.Start equals w.Start
               select ValueTuple.Create(c.Key, c.Start, c.Count, w.Total);
    }

    /// <summary>The share-of-the-window query (<see cref="ShareOfWindowQuery"/>): one result per window and key.</summary>
    [Benchmark(OperationsPerInvoke = Events)]
    public long ShareOfWindowPartitioned()
    {
        _events = Events;
        var sink = new CountingObserver<(int, long, int, int)>();
        ShareOfWindowQuery().WithOptions(Options()).Subscribe(sink);
        return sink.Count;
    }

    /// <summary>q5 over the partitions: each partition's bids (filter and projection on its source task), then the union under the aggregate.</summary>
    private IQStream<HotItem> PartitionedQ5Query()
    {
        var bids = (NexmarkFifth ? _nexmarkFifths : NexmarkPartitionsInterleaved ? _nexmarkPartitionsInterleaved : _nexmarkPartitions)
            .Select((p, i) => NexmarkStreams.Bids(QStream.From(p, e => e.DateTime, _nexmark!.Policy, "nexmark-" + i).WithOptions(NexmarkOptions())))
            .ToArray();
        return Scenarios.Nexmark.Q5HotItems.Query(bids[0].Merge(bids[1..]));
    }

    /// <summary>The partitioned cases' answers at this P, at full scale: the tumbling counts against LINQ to objects, q5 against its model.</summary>
    private void CheckPartitionedAnswers()
    {
        var options = Options();
        var counts = new CollectingObserver<int>();
        PartitionedCountQuery().WithOptions(options).Subscribe(counts);
        var expected = _ticks.GroupBy(t => (Window: Math.DivRem(t.Time, Size).Quotient, t.Key)).Select(g => g.Count()).ToList();
        Answers.SameMultiset($"tumbling count per key over 2 partitions, P = {Parallelism}", expected, counts.Results, c => c);
        foreach (bool declared in new[] { true, false })
        {
            Answers.SameMultiset($"tumbling count per key over 2 partitions by key ({(declared ? "forward" : "hashed")}), P = {Parallelism}", expected, RunToEnd(KeyPartitionedCountQuery(declared)), c => c);
            var fromArrays = new CollectingObserver<int>();
            KeyPartitionedArrayCountQuery(declared).WithOptions(options).Subscribe(fromArrays);
            Answers.SameMultiset($"tumbling count per key over 2 arrays by key ({(declared ? "forward, chained" : "hashed")}), P = {Parallelism}", expected, fromArrays.Results, c => c);
        }

        var arrayCounts = new CollectingObserver<int>();
        CountQuery().WithOptions(options).Subscribe(arrayCounts);
        Answers.SameMultiset($"tumbling count per key over the array (in ranges at P > 1), P = {Parallelism}", expected, arrayCounts.Results, c => c);

        var shares = new CollectingObserver<(int Key, long WindowStart, int Count, int Total)>();
        ShareOfWindowQuery().WithOptions(options).Subscribe(shares);
        var perKey = new Dictionary<(int Key, long WindowStart), int>();
        var perWindow = new Dictionary<long, int>();
        foreach (var t in _ticks)
        {
            long start = t.Time - (t.Time % Size);
            perKey[(t.Key, start)] = perKey.GetValueOrDefault((t.Key, start)) + 1;
            perWindow[start] = perWindow.GetValueOrDefault(start) + 1;
        }

        var expectedShares = perKey.Select(c => (c.Key.Key, c.Key.WindowStart, c.Value, perWindow[c.Key.WindowStart]));
        Answers.SameMultiset($"share of the window per key over 2 partitions, P = {Parallelism}", expectedShares, shares.Results);

        var q5 = new CollectingObserver<HotItem>();
        PartitionedQ5Query().WithOptions(NexmarkOptions()).Subscribe(q5);
        Answers.SameMultiset($"q5 over 2 partitions, P = {Parallelism}", new Scenarios.Nexmark.Q5HotItems().Model(_nexmark!).ToList(), q5.Results);
        var q5Fifth = new CollectingObserver<HotItem>();
        NexmarkFifth = true;
        try
        {
            PartitionedQ5Query().WithOptions(NexmarkOptions()).Subscribe(q5Fifth);
        }
        finally
        {
            NexmarkFifth = false;
        }

        // The partitions deal the events out round-robin, so their first fifths hold exactly the input's first NexmarkFifthEvents events.
        Answers.SameMultiset($"q5 over the first fifth of 2 partitions, P = {Parallelism}", new Scenarios.Nexmark.Q5HotItems().Model(_nexmark!.Prefix((int)NexmarkFifthEvents)).ToList(), q5Fifth.Results);
        long stateless = StatelessSinkPerTaskCheckpointed();
        long expectedStateless = _ticks.LongCount(t => t.Value % 3 != 0);
        if (stateless != expectedStateless)
        {
            throw new InvalidOperationException($"The stateless query with a sink per task wrote {stateless:N0} results at P = {Parallelism}; LINQ to objects gives {expectedStateless:N0}.");
        }

        long keyedSinks = TumblingCountPerKeySinkPerTaskCheckpointed();
        if (keyedSinks != expected.Count)
        {
            throw new InvalidOperationException($"The tumbling count with a sink per task wrote {keyedSinks:N0} counts at P = {Parallelism}; LINQ to objects gives {expected.Count:N0}.");
        }

        Console.WriteLine($"// checked: P = {Parallelism}, {counts.Results.Count:N0} tumbling counts, {q5.Results.Count:N0} q5 results and {stateless:N0} stateless results (a sink per task) over 2 partitions");
    }

    [IterationSetup]
    public void StartCpuClock() => _cpuAtStart = Process.GetCurrentProcess().TotalProcessorTime;

    [IterationCleanup]
    public void StopCpuClock()
    {
        _cpu += Process.GetCurrentProcess().TotalProcessorTime - _cpuAtStart;
        _iterations++;
    }

    [Benchmark(OperationsPerInvoke = Events)]
    public long TumblingCountPerKeyPartitioned()
    {
        _events = Events;
        var sink = new CountingObserver<int>();
        PartitionedCountQuery().WithOptions(Options()).Subscribe(sink);
        return sink.Count;
    }

    [Benchmark(OperationsPerInvoke = NexmarkInput.BenchmarkEvents)]
    public long Q5HotItemsPartitioned()
    {
        _events = NexmarkFifth ? NexmarkFifthEvents : NexmarkInput.BenchmarkEvents;
        var sink = new CountingObserver<HotItem>();
        PartitionedQ5Query().WithOptions(NexmarkOptions()).Subscribe(sink);
        return sink.Count;
    }

    private IQStream<int> CountQuery() =>
        from t in QStream.From(_ticks, t => t.Time).TumblingWindow(TimeSpan.FromTicks(Size))
        group t by t.Key into g
        select g.Count();

    /// <summary>The tumbling count over the array: at P = 2 a query reads it as two contiguous ranges, one per source task.</summary>
    [Benchmark(OperationsPerInvoke = Events)]
    public long TumblingCountPerKey()
    {
        _events = Events;
        var sink = new CountingObserver<int>();
        CountQuery().WithOptions(Options()).Subscribe(sink);
        return sink.Count;
    }

    /// <summary>The tumbling count over two partitions as a job checkpointing every million events: at P = 2 two source tasks send barriers, aligned at each task.</summary>
    [Benchmark(OperationsPerInvoke = Events)]
    public long TumblingCountPerKeyPartitionedCheckpointed()
    {
        _events = Events;
        return RunJob(PartitionedCountQuery());
    }

    private long RunJob<TResult>(IQStream<TResult> query)
    {
        string directory = Path.Combine(Path.GetTempPath(), "linqstream-bench-" + Guid.NewGuid().ToString("N"));
        try
        {
            var sink = new CountingSink<TResult>();
            var job = query.WithOptions(Options()).ToJob(sink, new JobOptions
            {
                Checkpoints = new DirectoryCheckpointStore(directory),
                CheckpointEveryEvents = 1_000_000,
                Parallelism = Parallelism,
            });
            var result = job.RunAsync().GetAwaiter().GetResult();
            job.DisposeAsync().AsTask().GetAwaiter().GetResult();
            _alignmentP99 = result.BarrierAlignmentP99;
            _checkpoints = result.Checkpoints;
            LastBarriers = job.BarrierTimelines;
            return sink.Count;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>
    /// The tumbling count as a job that checkpoints every million events into a directory: at P = 2 each checkpoint is an
    /// aligned barrier through the tasks' channels. The p99 of the barriers' alignment is printed at the end of each run.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Events)]
    public long TumblingCountPerKeyCheckpointed()
    {
        _events = Events;
        return RunJob(CountQuery());
    }

    /// <summary>Prints the CPU time per event over every iteration of this case (warm-up included), and for the job its barrier alignment.</summary>
    [GlobalCleanup]
    public void Report()
    {
        if (_iterations > 0)
        {
            long perIteration = _events;
            double nanoseconds = _cpu.TotalNanoseconds / _iterations / perIteration;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"// CPU (user + sys, all threads): P = {Parallelism}, {nanoseconds:F1} ns/event over {_iterations} iterations"));
        }

        if (_checkpoints > 0)
        {
            Console.WriteLine($"// P = {Parallelism}: {_checkpoints} checkpoints in the last run, barrier alignment p99 = {(_alignmentP99 is { } p99 ? p99.TotalMilliseconds.ToString("F3", CultureInfo.InvariantCulture) + " ms" : "n/a (one task)")}");
        }
    }

    /// <summary>q5 over the partitions as a job checkpointing every million events: the per-window maximum on each task, aligned barriers.</summary>
    [Benchmark(OperationsPerInvoke = NexmarkInput.BenchmarkEvents)]
    public long Q5HotItemsPartitionedCheckpointed()
    {
        _events = NexmarkInput.BenchmarkEvents;
        return RunJob(PartitionedQ5Query());
    }

    /// <summary>A stateless query (filter, projection) over two partitions: what the sink-per-task job runs.</summary>
    private IQStream<long> PartitionedStatelessQuery() =>
        PartitionedTicks().Where(t => t.Value % 3 != 0).Select(t => (t.Time * 31) + t.Key);

    /// <summary>
    /// The stateless query as a job with one sink per task (<c>ToParallelSinkJob</c>), checkpointing every million events: at
    /// P = 2 two tasks each read a partition and write to their own sink, with no merge; at P = 1 one task unions both.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Events)]
    public long StatelessSinkPerTaskCheckpointed()
    {
        _events = Events;
        return RunSinkPerTask(PartitionedStatelessQuery(), Math.Min(Parallelism, 2));
    }

    /// <summary>
    /// The tumbling count per key over two partitions as a job with a sink per task (issue #16, seventh part): at P = 2 the two
    /// keyed tasks each write the counts of their own keys to their own sink, with no merge; at P = 1 one task with one sink.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Events)]
    public long TumblingCountPerKeySinkPerTaskCheckpointed()
    {
        _events = Events;
        return RunSinkPerTask(PartitionedCountQuery(), Parallelism);
    }

    private long RunSinkPerTask<TResult>(IQStream<TResult> query, int expectedTasks)
    {
        string directory = Path.Combine(Path.GetTempPath(), "linqstream-bench-" + Guid.NewGuid().ToString("N"));
        try
        {
            var sinks = new List<CountingSink<TResult>>();
            var job = query.WithOptions(Options()).ToParallelSinkJob(
                _ =>
                {
                    var sink = new CountingSink<TResult>();
                    sinks.Add(sink);
                    return sink;
                },
                new JobOptions { Checkpoints = new DirectoryCheckpointStore(directory), CheckpointEveryEvents = 1_000_000, Parallelism = Parallelism });
            var result = job.RunAsync().GetAwaiter().GetResult();
            job.DisposeAsync().AsTask().GetAwaiter().GetResult();
            if (result.Parallelism != expectedTasks)
            {
                throw new InvalidOperationException($"The sink-per-task job ran on {result.Parallelism} tasks at parallelism {Parallelism}.");
            }

            _alignmentP99 = result.BarrierAlignmentP99;
            _checkpoints = result.Checkpoints;
            LastBarriers = job.Timelines;
            return sinks.Sum(s => s.Count);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>The stateless query as a job with one sink (at P = 2 still one task: the query has no keyed aggregate to split).</summary>
    [Benchmark(OperationsPerInvoke = Events)]
    public long StatelessOneSinkCheckpointed()
    {
        _events = Events;
        return RunJob(PartitionedStatelessQuery());
    }

    [Benchmark(OperationsPerInvoke = NexmarkInput.BenchmarkEvents)]
    public long Q5HotItems()
    {
        _events = NexmarkInput.BenchmarkEvents;
        var sink = new CountingObserver<HotItem>();
        new Q5HotItems().LinqStream(_nexmark!.With(NexmarkOptions())).WithOptions(NexmarkOptions()).Subscribe(sink);
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
