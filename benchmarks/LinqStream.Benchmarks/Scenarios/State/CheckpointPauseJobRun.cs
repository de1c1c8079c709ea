using System.Diagnostics;
using System.Globalization;
using LinqStream.State.RocksDb;
using LinqStream.Testing.Io;

namespace LinqStream.Benchmarks.Scenarios.State;

/// <summary>
/// <c>--checkpoint-pause --job [--keys N] [--touches N] [--checkpoints N] [--hot-keys N] [--key-bytes N] [--state heap|rocksdb] [--dir DIR]</c>
/// (issue #18: the pause a checkpoint makes at parallelism 1). A job at parallelism 1 runs a session window over N keys (every key
/// touched <c>--touches</c> times, round after round, all sessions open until the end), with about <c>--checkpoints</c> checkpoints
/// into a directory store; the number is how long each checkpoint kept the job's loop (<c>QueryJob.LoopPauses</c>): the cut, the
/// on-heap state and, on the heap backend or before the two-part checkpoint reached the job, the whole file. With
/// <c>--key-bytes N</c> the keys are strings of N incompressible characters instead of longs (a spilled session holds its key three
/// times), so that a few million keys make a gigabyte of state; the state size printed is what each checkpoint names (the job's
/// reported state size on RocksDB, <c>StateProgress.CheckpointBytes</c>).
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
        string directory = Text(args, "--dir") ?? Path.Combine(Path.GetTempPath(), "linqstream-pause-job-" + Guid.NewGuid().ToString("N"));
        long events = keys * touches;
        output.WriteLine(Invariant($"checkpoint pause of a job at P = 1: {keys:N0} keys ({(keyBytes > 0 ? $"strings of {keyBytes} characters" : "longs")}) x {touches} events, a checkpoint every {events / checkpoints:N0} events, {(heap ? "heap" : $"rocksdb, {hotKeys:N0} hot keys")}, in {directory}"));
        try
        {
            return keyBytes > 0
                ? Run(output, Events(keys, touches, i => StringKey(i, keyBytes)), keys, events / checkpoints, heap, hotKeys, directory)
                : Run(output, Events(keys, touches, i => unchecked(i * -7_046_029_254_386_353_131L)), keys, events / checkpoints, heap, hotKeys, directory);
        }
        finally
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    private static int Run<TKey>(TextWriter output, IEnumerable<KeyEvent<TKey>> input, long keys, long every, bool heap, int hotKeys, string directory)
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
        // From the cut to the sinks' commit: what the loop waited for before the two-part checkpoint reached the job (plus the file).
        var whole = metrics.Snapshot().Checkpoints.Select(c => c.Duration.TotalMilliseconds).ToList();
        output.WriteLine(Invariant($"checkpoint from cut to commit, in order (ms): {string.Join(", ", whole.Select(p => p.ToString("0", CultureInfo.InvariantCulture)))}"));
        foreach (var store in stores)
        {
            // The second parts, off the loop: flush, RocksDB checkpoint (hard links), files into shared/.
            var phases = store.RecentCheckpointPhases.ToArray();
            output.WriteLine(Invariant($"store second parts (ms): {string.Join(", ", phases.Select(p => (p.Flush + p.Save + p.Files).TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture)))}; commits that waited for one: {store.Stalls.Count} ({store.Stalls.Time.TotalMilliseconds:0} ms)"));
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
        return sink.Items.Count == keys ? 0 : 1;
    }

    private static IEnumerable<KeyEvent<TKey>> Events<TKey>(long keys, int touches, Func<long, TKey> key)
    {
        var origin = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        long tick = 0;
        for (int round = 0; round < touches; round++)
        {
            for (long i = 0; i < keys; i++)
            {
                yield return new KeyEvent<TKey>(key(i), origin.AddTicks(tick++));
            }
        }
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
