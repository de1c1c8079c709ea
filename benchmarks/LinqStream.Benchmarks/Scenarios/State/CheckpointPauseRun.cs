using System.Diagnostics;
using System.Globalization;
using LinqStream.State.RocksDb;

namespace LinqStream.Benchmarks.Scenarios.State;

/// <summary>
/// <c>--checkpoint-pause [--gigabytes N] [--rounds N] [--changed PERCENT] [--dir DIR]</c> (issue #18: a checkpoint pauses the
/// query at most 50 ms at 1 GB of state). Fills one RocksDB state store with about N GB of keyed state (200-byte incompressible
/// values, keys spread over 128 key groups), takes a first, full checkpoint, then per round rewrites PERCENT of the keys and
/// takes a checkpoint, timing <c>Checkpoint()</c>: that call is the whole pause of a spilling operator's task at a barrier
/// (commit, memtable flush, RocksDB checkpoint as hard links, new SST files renamed into the shared directory, retention).
/// The operator's hot keys on the heap (at most <c>HotKeys</c> sessions) are written after it and are not part of this number.
/// </summary>
internal static class CheckpointPauseRun
{
    private const int ValueBytes = 200;

    public static int Run(string[] args, TextWriter output)
    {
        double gigabytes = Option(args, "--gigabytes", 1.0);
        int rounds = (int)Option(args, "--rounds", 10);
        double changed = Option(args, "--changed", 1.0) / 100;
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
            var firstPhases = ((RocksDbKeyedStateStore)store).LastCheckpointPhases;
            output.WriteLine(Invariant($"first (full) checkpoint: {first.Elapsed.TotalMilliseconds:0} ms (flush {firstPhases.Flush.TotalMilliseconds:0}, RocksDB checkpoint {firstPhases.Save.TotalMilliseconds:0}, files {firstPhases.Files.TotalMilliseconds:0}), {size.CheckpointBytes / 1e6:0} MB named, live SST {size.LiveBytes / 1e6:0} MB"));

            var pauses = new List<double>();
            for (int round = 0; round < rounds; round++)
            {
                for (long n = 0; n < keys * changed; n++)
                {
                    Put(store, key, value, random.NextInt64(keys), random);
                    if (n % 10_000 == 9_999)
                    {
                        store.Commit();
                    }
                }

                store.Commit();
                var pause = Stopwatch.StartNew();
                store.Checkpoint();
                pause.Stop();
                pauses.Add(pause.Elapsed.TotalMilliseconds);
                size = store.Size;
                var phases = ((RocksDbKeyedStateStore)store).LastCheckpointPhases;
                output.WriteLine(Invariant($"round {round + 1}: pause {pause.Elapsed.TotalMilliseconds:0.0} ms (flush {phases.Flush.TotalMilliseconds:0.0}, RocksDB checkpoint {phases.Save.TotalMilliseconds:0.0}, files {phases.Files.TotalMilliseconds:0.0}: {phases.SstFiles} SST, {phases.InlineBytes / 1e3:0} kB inline), {size.LastCheckpointNewBytes / 1e6:0.0} MB new of {size.CheckpointBytes / 1e6:0} MB named"));
            }

            pauses.Sort();
            output.WriteLine(Invariant($"pause over {rounds} incremental checkpoints: median {pauses[pauses.Count / 2]:0.0} ms, max {pauses[^1]:0.0} ms"));
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

    private static double Option(string[] args, string name, double fallback) =>
        Text(args, name) is { } text ? double.Parse(text, CultureInfo.InvariantCulture) : fallback;

    private static string? Text(string[] args, string name)
    {
        int at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
