using System.Diagnostics;
using System.Globalization;

namespace LinqStream.Recovery.Host;

/// <summary>
/// The <c>sessions</c> mode (issue #18's Done-when): a session window over <c>--keys</c> distinct keys that all stay open until the
/// input ends (one event per key, 1 tick apart, a one-hour gap), on <c>--state heap</c> or <c>--state rocksdb:DIR</c>. Run it
/// under <c>DOTNET_GCHeapHardLimit</c>: it prints <c>done: N sessions</c> with the peak working set and exits 0, or, when the
/// managed heap cannot hold the state, prints <c>out of memory: ...</c> and exits 3. <c>--query windowjoin</c> runs a window join
/// instead, over two inputs of <c>--keys</c> events each in one window, each key once per side; <c>--query intervaljoin</c> an interval
/// join of two such inputs whose events live a day. With <c>--memory-every SECONDS</c> it prints where
/// the process's memory is every SECONDS (<see cref="MemoryProbe"/>).
/// </summary>
internal static class SessionStateRun
{
    public static async Task<int> RunAsync(HostArguments args)
    {
        long keys = args.Number("keys", 20_000_000);
        string state = args.Text("state");
        int hotKeys = checked((int)args.Number("hot-keys", 65_536));
        StateBackend backend = state == "heap" ? StateBackend.Heap
            : state.StartsWith("rocksdb:", StringComparison.Ordinal) ? new State.RocksDb.RocksDbStateBackend(state["rocksdb:".Length..]) { HotKeys = hotKeys }
            : throw new ArgumentException($"--state is 'heap' or 'rocksdb:DIR', not '{state}'.");

        // --query windowjoin: both sides are the same --keys events in one day-long tumbling window, joined on the key (the window
        // join; one result per key), so every event waits in the join's buffers until the input ends.
        string shape = args.Has("query") ? args.Text("query") : "sessions";
        var query = shape switch
        {
            "sessions" =>
                from e in QStream.From(Events(keys), e => e.Time).SessionWindow(TimeSpan.FromHours(1))
                group e by e.Key into g
                select g.Count(),
            "windowjoin" =>
                from l in QStream.From(Events(keys), e => e.Time).TumblingWindow(TimeSpan.FromDays(1))
                join r in QStream.From(Events(keys), e => e.Time).TumblingWindow(TimeSpan.FromDays(1)) on l.Key equals r.Key
                select 1,
            // --query intervaljoin: both sides are the same --keys events, each alive for a day, joined on the key (the interval
            // join; one result per key), so every event stays live in the join until the input ends.
            "intervaljoin" =>
                from l in QStream.From(Events(keys), e => e.Time).WithLifetime(e => e.Time, e => e.Time.AddDays(1))
                join r in QStream.From(Events(keys), e => e.Time).WithLifetime(e => e.Time, e => e.Time.AddDays(1)) on l.Key equals r.Key
                select 1,
            _ => throw new ArgumentException($"--query is 'sessions', 'windowjoin' or 'intervaljoin', not '{shape}'."),
        };
        var sink = new CountingSink();
        var started = Stopwatch.GetTimestamp();
        using var probe = args.Has("memory-every") ? StartProbe(TimeSpan.FromSeconds(args.Number("memory-every")), backend as State.RocksDb.RocksDbStateBackend) : null;
        try
        {
            await using var job = query.ToJob(sink, new JobOptions { State = backend });
            await job.RunAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (IsOutOfMemory(ex))
        {
            await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"out of memory: the {shape switch { "sessions" => "session", "windowjoin" => "window join", _ => "interval join" }} state of {keys:N0} keys does not fit in the managed heap (limit {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 1e6:0} MB) on the {backend.Name} backend; {sink.Count:N0} results were written, {Interlocked.Read(ref s_read):N0} events read in {Stopwatch.GetElapsedTime(started).TotalSeconds:0.0} s. Use --state rocksdb:DIR.{Environment.NewLine}the job said: {ex.GetType().Name}: {ex.Message}")).ConfigureAwait(false);
            return 3;
        }

        if (probe is not null)
        {
            // Where the memory is once the job and its stores are disposed: what stays is not the state's (issue #18, native growth).
            Console.WriteLine("memory after dispose: " + MemoryProbe.Line(Interlocked.Read(ref s_read), null));
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            Console.WriteLine("memory after GC and finalizers: " + MemoryProbe.Line(Interlocked.Read(ref s_read), null));
            bool trimmed = MemoryProbe.Trim();
            Console.WriteLine($"memory after malloc_trim (gave memory back: {trimmed}): " + MemoryProbe.Line(Interlocked.Read(ref s_read), null));
            Console.Out.Flush();
            MemoryProbe.PrintArenas();
        }

        using var process = Process.GetCurrentProcess();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"done: {sink.Count:N0} {(shape == "sessions" ? "sessions" : "pairs")} on {backend.Name} in {Stopwatch.GetElapsedTime(started).TotalSeconds:0.0} s, peak working set {process.PeakWorkingSet64 / 1e6:0} MB, managed heap now {GC.GetTotalMemory(false) / 1e6:0} MB"));
        return sink.Count == keys ? 0 : 1;
    }

    /// <summary>With <c>--memory-every SECONDS</c>: a line of <see cref="MemoryProbe"/> every SECONDS, per event read (one event = one session).</summary>
    private static Timer StartProbe(TimeSpan every, State.RocksDb.RocksDbStateBackend? backend)
    {
        Console.WriteLine("memory: " + MemoryProbe.Header);
        return new Timer(
            _ =>
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"memory at {Stopwatch.GetElapsedTime(s_started).TotalSeconds:0} s ({MemoryProbe.RocksDbLibrary()}): ") + MemoryProbe.Line(Interlocked.Read(ref s_read), backend));
            },
            null,
            every,
            every);
    }

    private static readonly long s_started = Stopwatch.GetTimestamp();
    private static long s_read;

    private static bool IsOutOfMemory(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (ex is OutOfMemoryException)
            {
                return true;
            }
        }

        return false;
    }

    private static IEnumerable<KeyEvent> Events(long keys)
    {
        var origin = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        for (long i = 0; i < keys; i++)
        {
            // Keys spread over the long range, so they hash into every key group (as real ids would).
            Interlocked.Increment(ref s_read);
            yield return new KeyEvent(unchecked(i * -7_046_029_254_386_353_131L), origin.AddTicks(i)); // golden-ratio multiplier
        }
    }

    private sealed record KeyEvent(long Key, DateTimeOffset Time);

    private sealed class CountingSink : EventSink<int>
    {
        public long Count { get; private set; }

        public override string Name => "counting";

        public override bool IsTransactional => false;

        public override ValueTask OpenAsync(byte[]? committed, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public override ValueTask WriteAsync(ReadOnlyMemory<int> results, CancellationToken cancellationToken)
        {
            Count += results.Length;
            return ValueTask.CompletedTask;
        }

        public override ValueTask<byte[]> PrepareCommitAsync(long checkpointId, CancellationToken cancellationToken) => new([]);

        public override ValueTask CompleteAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }
}
