using System.Diagnostics;
using System.Globalization;
using LinqStream.Runtime.State;
using LinqStream.State.RocksDb;

namespace LinqStream.Benchmarks.Scenarios.State;

/// <summary>
/// <c>--checkpoint-pause [--gigabytes N] [--rounds N] [--changed PERCENT] [--dir DIR] [--wait]</c> (issue #18: a checkpoint pauses
/// the query at most 50 ms at 1 GB of state). Fills one RocksDB state store with about N GB of keyed state (200-byte
/// incompressible values, keys spread over 128 key groups), takes a first, full checkpoint, then per round rewrites PERCENT of
/// the keys and starts a checkpoint, timing <c>BeginCheckpoint()</c>: that call is the pause of a spilling operator's task at a
/// barrier (commit, open the window of writes after the barrier); the flush, the hard links and the new files' moves run on
/// their own thread while the next round writes (into the indexed batch), and every commit of those writes is timed too (a
/// commit waits when the indexed batch is full: a stall). With <c>--wait</c> the pause also waits for the manifest (the
/// behaviour before the asynchronous checkpoint, for a comparison in one run). The operator's hot keys on the heap (at most
/// <c>HotKeys</c> sessions) are written with the pause and are not part of this number.
/// </summary>
internal static class CheckpointPauseRun
{
    private const int ValueBytes = 200;

    public static int Run(string[] args, TextWriter output)
    {
        double gigabytes = Option(args, "--gigabytes", 1.0);
        int rounds = (int)Option(args, "--rounds", 10);
        double changed = Option(args, "--changed", 1.0) / 100;
        bool wait = Array.IndexOf(args, "--wait") >= 0;
        string directory = Text(args, "--dir") ?? Path.Combine(Path.GetTempPath(), "linqstream-pause-" + Guid.NewGuid().ToString("N"));
        long keys = (long)(gigabytes * 1e9 / (ValueBytes + 11));
        output.WriteLine(Invariant($"checkpoint pause: {keys:N0} keys x {ValueBytes} B (~{gigabytes:0.##} GB), {rounds} rounds of {changed:P1} of the keys rewritten, in {directory}"));

        var factory = new RocksDbStateStoreFactory(new RocksDbStateBackend(directory));
        try
        {
            var store = factory.Create("pause");
            var random = new Random(18);
            var key = new byte[11];
            var value = new byte[ValueBytes];
            var fill = Stopwatch.StartNew();
            for (long i = 0; i < keys; i++)
            {
                Put(store, key, value, i, random);
                if (i % 10_000 == 9_999)
                {
                    store.Commit();
                }
            }

            store.Commit();
            output.WriteLine(Invariant($"filled in {fill.Elapsed.TotalSeconds:0.0} s"));

            var first = Stopwatch.StartNew();
            store.Checkpoint();
            first.Stop();
            var size = store.Size;
            var rocks = (RocksDbKeyedStateStore)store;
            var firstPhases = rocks.LastCheckpointPhases;
            output.WriteLine(Invariant($"first (full) checkpoint, waited for: {first.Elapsed.TotalMilliseconds:0} ms (flush {firstPhases.Flush.TotalMilliseconds:0}, RocksDB checkpoint {firstPhases.Save.TotalMilliseconds:0}, files {firstPhases.Files.TotalMilliseconds:0}), {size.CheckpointBytes / 1e6:0} MB named, live SST {size.LiveBytes / 1e6:0} MB"));

            var pauses = new List<double>();
            var commits = new List<double>();
            Task<byte[]>? pending = null;
            for (int round = 0; round < rounds; round++)
            {
                // These writes run while the previous round's checkpoint completes (unless --wait): they go to the indexed batch.
                double slowestCommit = 0;
                var (stallsBefore, stalledBefore) = rocks.Stalls;
                for (long n = 0; n < keys * changed; n++)
                {
                    Put(store, key, value, random.NextInt64(keys), random);
                    if (n % 10_000 == 9_999)
                    {
                        slowestCommit = Math.Max(slowestCommit, TimedCommit(store));
                    }
                }

                slowestCommit = Math.Max(slowestCommit, TimedCommit(store));
                commits.Add(slowestCommit);
                var (stalls, stalled) = rocks.Stalls;
                // Not waited for here: BeginCheckpoint waits for the previous checkpoint if it still runs, inside the timed pause.
                string previous = pending is null ? "" : pending.IsCompleted ? "; previous checkpoint had ended" : "; previous checkpoint still ran";

                var begun = Stopwatch.GetTimestamp();
                var task = store.BeginCheckpoint();
                double pause;
                if (wait)
                {
                    task.GetAwaiter().GetResult();
                    pause = Stopwatch.GetElapsedTime(begun).TotalMilliseconds;
                }
                else
                {
                    pause = Stopwatch.GetElapsedTime(begun).TotalMilliseconds;
                }

                pending = task;
                pauses.Add(pause);
                size = store.Size;
                output.WriteLine(Invariant($"round {round + 1}: pause {pause:0.0} ms; slowest commit of the round's writes {slowestCommit:0.0} ms, stalls {stalls - stallsBefore} ({(stalled - stalledBefore).TotalMilliseconds:0} ms){previous}"));
            }

            if (pending is not null)
            {
                pending.GetAwaiter().GetResult();
                size = store.Size;
                output.WriteLine(Invariant($"last checkpoint: {size.LastCheckpointNewBytes / 1e6:0.0} MB new of {size.CheckpointBytes / 1e6:0} MB named"));
            }

            // The slow parts (off the query's thread unless --wait), first (full) checkpoint first.
            int index = 0;
            foreach (var phases in rocks.RecentCheckpointPhases)
            {
                output.WriteLine(Invariant($"checkpoint {index++}: slow part {(phases.Flush + phases.Save + phases.Files).TotalMilliseconds:0} ms ({Phases(phases)})"));
            }

            pauses.Sort();
            commits.Sort();
            output.WriteLine(Invariant($"pause over {rounds} incremental checkpoints{(wait ? " (waiting for the manifest)" : "")}: median {pauses[pauses.Count / 2]:0.0} ms, max {pauses[^1]:0.0} ms; slowest commit per round: median {commits[commits.Count / 2]:0.0} ms, max {commits[^1]:0.0} ms; stalls {rocks.Stalls.Count} ({rocks.Stalls.Time.TotalMilliseconds:0} ms)"));
            return 0;
        }
        finally
        {
            factory.Dispose();
            Directory.Delete(directory, recursive: true);
        }
    }

    private static void Put(LinqStream.Runtime.State.IKeyedStateStore store, byte[] key, byte[] value, long i, Random random)
    {
        int group = (int)(i % 128);
        key[0] = (byte)(group >> 8);
        key[1] = (byte)group;
        key[2] = 0;
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(key.AsSpan(3), i);
        random.NextBytes(value);
        store.Put(key, value);
    }

    private static double TimedCommit(LinqStream.Runtime.State.IKeyedStateStore store)
    {
        long started = Stopwatch.GetTimestamp();
        store.Commit();
        return Stopwatch.GetElapsedTime(started).TotalMilliseconds;
    }

    private static string Phases(RocksDbKeyedStateStore.CheckpointPhases phases) =>
        Invariant($"flush {phases.Flush.TotalMilliseconds:0}, RocksDB checkpoint {phases.Save.TotalMilliseconds:0}, files {phases.Files.TotalMilliseconds:0}: {phases.SstFiles} SST, {phases.InlineBytes / 1e3:0} kB inline");

    private static double Option(string[] args, string name, double fallback) =>
        Text(args, name) is { } text ? double.Parse(text, CultureInfo.InvariantCulture) : fallback;

    private static string? Text(string[] args, string name)
    {
        int at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
