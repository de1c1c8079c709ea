using System.Diagnostics;
using System.Globalization;
using LinqStream.State.RocksDb;
using LinqStream.Testing.Io;

namespace LinqStream.Benchmarks.Scenarios.State;

/// <summary>
/// <c>--checkpoint-pause --job [--keys N] [--touches N] [--checkpoints N] [--hot-keys N] [--key-bytes N] [--pattern rounds|random] [--state heap|rocksdb] [--dir DIR]</c>
/// (issue #18: the pause a checkpoint makes at parallelism 1). A job at parallelism 1 runs a session window over N keys (every key
/// touched <c>--touches</c> times, round after round, all sessions open until the end), with about <c>--checkpoints</c> checkpoints
/// into a directory store; the number is how long each checkpoint kept the job's loop (<c>QueryJob.LoopPauses</c>): the cut, the
/// on-heap state and, on the heap backend or before the two-part checkpoint reached the job, the whole file. With
/// <c>--key-bytes N</c> the keys are strings of N incompressible characters instead of longs (a spilled session holds its key three
/// times), so that a few million keys make a gigabyte of state; the state size printed is what each checkpoint names (the job's
/// reported state size on RocksDB, <c>StateProgress.CheckpointBytes</c>). <c>--pattern random</c> (eighth session) draws the keys at
/// random instead of round after round, half of the events from a set of <c>--hot-keys</c> / 2 keys that stay hot: so sessions that
/// are hot at a cut are touched again before the pool thread has written their records, and the copy on write at the cut is
/// exercised (the rounds never touch a key twice within one round, so they never copy).
/// </summary>
internal static class CheckpointPauseJobRun
{
    public static int Run(string[] args, TextWriter output)
    {
        long keys = (long)Option(args, "--keys", 1_000_000);
        int touches = (int)Option(args, "--touches", 2);
        int checkpoints = (int)Option(args, "--checkpoints", 10);
        int hotKeys = (int)Option(args, "--hot-keys", 65_536);
        int keyBytes = (int)Option(args, "--key-bytes", 0);
        bool heap = Text(args, "--state") == "heap";
        bool random = Text(args, "--pattern") == "random";
        string directory = Text(args, "--dir") ?? Path.Combine(Path.GetTempPath(), "linqstream-pause-job-" + Guid.NewGuid().ToString("N"));
        long events = keys * touches;
        output.WriteLine(Invariant($"checkpoint pause of a job at P = 1: {keys:N0} keys ({(keyBytes > 0 ? $"strings of {keyBytes} characters" : "longs")}) x {touches} events {(random ? $"at random, half of them on {HotSet(keys, hotKeys):N0} keys" : "round after round")}, a checkpoint every {events / checkpoints:N0} events, {(heap ? "heap" : $"rocksdb, {hotKeys:N0} hot keys")}, in {directory}"));
        var order = random ? RandomOrder(keys, touches, HotSet(keys, hotKeys)) : null;
        long sessions = order is null ? keys : Distinct(order, keys);
        try
        {
            return keyBytes > 0
                ? Run(output, Events(keys, touches, order, i => StringKey(i, keyBytes)), sessions, events / checkpoints, heap, hotKeys, directory)
                : Run(output, Events(keys, touches, order, i => unchecked(i * -7_046_029_254_386_353_131L)), sessions, events / checkpoints, heap, hotKeys, directory);
        }
        finally
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    private static int Run<TKey>(TextWriter output, IEnumerable<KeyEvent<TKey>> input, long sessions, long every, bool heap, int hotKeys, string directory)
        where TKey : notnull
    {
        var stores = new List<RocksDbKeyedStateStore>();
        var backend = heap ? StateBackend.Heap : new RocksDbStateBackend(Path.Combine(directory, "state")) { HotKeys = hotKeys, StoreCreated = stores.Add };
        var query =
            from e in QStream.From(input, e => e.Time).SessionWindow(TimeSpan.FromDays(1))
            group e by e.Key into g
            select g.Count();
        var sink = new MemorySink<int>();
        using var metrics = new JobMetrics("checkpoint-pause");
        var started = Stopwatch.GetTimestamp();
        var job = query.ToJob(sink, new JobOptions
        {
            Checkpoints = new DirectoryCheckpointStore(Path.Combine(directory, "checkpoints")),
            CheckpointEveryEvents = every,
            State = backend,
            Metrics = metrics,
        });
        JobResult result;
        try
        {
            result = job.RunAsync().GetAwaiter().GetResult();
        }
        finally
        {
            job.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var pauses = job.LoopPauses.Select(p => p.TotalMilliseconds).ToList();
        output.WriteLine(Invariant($"{result.Results:N0} sessions, {result.Checkpoints} checkpoints in {seconds:0.0} s; pause per checkpoint, in order (ms): {string.Join(", ", pauses.Select(p => p.ToString("0.0", CultureInfo.InvariantCulture)))}"));
        // What each pause held (eighth session: the first checkpoint's 480 ms): JIT on the loop's thread (ms / methods), JIT in the
        // whole process (ms, with the background tier-1 compilations), garbage collections and their pause (ms).
        output.WriteLine(Invariant($"in each pause, JIT on the loop's thread ms/methods, JIT in the process ms, GCs/GC pause ms: {string.Join(", ", job.LoopPauseCosts.Select(c => Invariant($"{c.ThreadJit.TotalMilliseconds:0.0}/{c.ThreadMethods} {c.Jit.TotalMilliseconds:0.0} {c.Collections}/{c.GcPause.TotalMilliseconds:0.0}")))}"));
        // From the cut to the sinks' commit: what the loop waited for before the two-part checkpoint reached the job (plus the file).
        var whole = metrics.Snapshot().Checkpoints.Select(c => c.Duration.TotalMilliseconds).ToList();
        output.WriteLine(Invariant($"checkpoint from cut to commit, in order (ms): {string.Join(", ", whole.Select(p => p.ToString("0", CultureInfo.InvariantCulture)))}"));
        foreach (var store in stores)
        {
            // The second parts, off the loop: flush, RocksDB checkpoint (hard links), files into shared/.
            var phases = store.RecentCheckpointPhases.ToArray();
            output.WriteLine(Invariant($"store second parts (ms): {string.Join(", ", phases.Select(p => (p.Flush + p.Save + p.Files).TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture)))}; commits that waited for one: {store.Stalls.Count} ({store.Stalls.Time.TotalMilliseconds:0} ms)"));
            output.WriteLine(Invariant($"store second parts, flush / live files listed and read / SST files linked (ms): {string.Join(", ", phases.Select(p => Invariant($"{p.Flush.TotalMilliseconds:0}/{p.Save.TotalMilliseconds:0}/{p.Files.TotalMilliseconds:0}")))}"));
            output.WriteLine(Invariant($"store state named by each checkpoint (MB): {string.Join(", ", phases.Select(p => (p.Bytes / 1e6).ToString("0.0", CultureInfo.InvariantCulture)))}"));
            output.WriteLine(Invariant($"store's part of each pause, commit and start of the second part (ms): {string.Join(", ", store.RecentBeginPauses.Select(p => p.TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture)))}"));
            // After each second part: the window's writes go into the database a slice per commit (the longest slice is the
            // slowest commit a checkpoint causes after its cut).
            var windows = store.RecentWindows.ToArray();
            output.WriteLine(Invariant($"windows after each checkpoint, longest write into the database (ms) / commits that wrote it / open (ms): {string.Join(", ", windows.Select(w => Invariant($"{w.LongestWrite.TotalMilliseconds:0.0}/{w.Writes}/{w.Open.TotalMilliseconds:0}")))}"));
        }

        // Copy on write at the cut: how many hot sessions the query touched, emitted or spilled before their record was written.
        foreach (var aggregate in job.Operators.OfType<global::LinqStream.Physical.Windows.Session.SpilledSessionWindowAggregateOperator<KeyEvent<TKey>, TKey, int>>())
        {
            output.WriteLine(Invariant($"slots copied at the cut (sessions changed before their record was written): {aggregate.SlotsCopiedAtCut:N0}"));
        }

        // The last checkpoint is of the final state (the input has ended): the loop waits for it, as it waits at the end of the input.
        pauses.Sort();
        double p99 = pauses[Math.Max(0, (int)Math.Ceiling(pauses.Count * 0.99) - 1)];
        output.WriteLine(Invariant($"pause over {pauses.Count} checkpoints: median {pauses[pauses.Count / 2]:0.0} ms, p99 {p99:0.0} ms, max {pauses[^1]:0.0} ms"));
        if (sink.Items.Count != sessions)
        {
            output.WriteLine(Invariant($"WRONG: {sink.Items.Count:N0} sessions, expected {sessions:N0}"));
            return 1;
        }

        return 0;
    }

    private static IEnumerable<KeyEvent<TKey>> Events<TKey>(long keys, int touches, int[]? order, Func<long, TKey> key)
    {
        var origin = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        long tick = 0;
        if (order is not null)
        {
            foreach (int i in order)
            {
                yield return new KeyEvent<TKey>(key(i), origin.AddTicks(tick++));
            }

            yield break;
        }

        for (int round = 0; round < touches; round++)
        {
            for (long i = 0; i < keys; i++)
            {
                yield return new KeyEvent<TKey>(key(i), origin.AddTicks(tick++));
            }
        }
    }

    /// <summary>The keys that half of the random events go to: few enough to stay on the heap between two sweeps.</summary>
    private static int HotSet(long keys, int hotKeys) => (int)Math.Min(keys, Math.Max(1, hotKeys / 2));

    /// <summary>keys × touches key indexes (seeded): each event's key is one of the <paramref name="hot"/> first keys or any key, with
    /// equal chance.</summary>
    private static int[] RandomOrder(long keys, int touches, int hot)
    {
        var random = new Random(18);
        var order = new int[checked((int)(keys * touches))];
        for (int e = 0; e < order.Length; e++)
        {
            order[e] = random.Next(2) == 0 ? random.Next(hot) : (int)random.NextInt64(keys);
        }

        return order;
    }

    private static long Distinct(int[] order, long keys)
    {
        var seen = new bool[keys];
        long distinct = 0;
        foreach (int i in order)
        {
            if (!seen[i])
            {
                seen[i] = true;
                distinct++;
            }
        }

        return distinct;
    }

    /// <summary>Key <paramref name="i"/> as <paramref name="length"/> characters from a SplitMix64 sequence seeded by it: the same
    /// string every round, and nothing LZ4 can shorten (no repeats inside a key or across keys).</summary>
    private static string StringKey(long i, int length) => string.Create(length, i, static (chars, seed) =>
    {
        const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        ulong state = unchecked((ulong)seed);
        ulong bits = 0;
        int left = 0;
        for (int c = 0; c < chars.Length; c++)
        {
            if (left < 6)
            {
                state = unchecked(state + 0x9E37_79B9_7F4A_7C15UL);
                ulong z = state;
                z = unchecked((z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9UL);
                z = unchecked((z ^ (z >> 27)) * 0x94D0_49BB_1331_11EBUL);
                bits = z ^ (z >> 31);
                left = 64;
            }

            chars[c] = Alphabet[(int)(bits & 63)];
            bits >>= 6;
            left -= 6;
        }
    });

    private sealed record KeyEvent<TKey>(TKey Key, DateTimeOffset Time);

    private static double Option(string[] args, string name, double fallback) =>
        Text(args, name) is { } text ? double.Parse(text, CultureInfo.InvariantCulture) : fallback;

    private static string? Text(string[] args, string name)
    {
        int at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
