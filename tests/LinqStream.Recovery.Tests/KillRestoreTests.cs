using System.Diagnostics;
using Xunit.Abstractions;

namespace LinqStream.Recovery.Tests;

/// <summary>
/// Exactly-once across real crashes: the host process runs a checkpointed join-and-window job over JSON-lines files and is killed
/// (the whole process tree, no chance to clean up) at random moments, then started again on the same directory, until it finishes.
/// The output and dead-letter files must equal those of one uninterrupted run byte for byte.
/// </summary>
[Trait("Category", "Slow")] // Slow (fast suite skips it): runs the CLI host in child processes
public sealed class KillRestoreTests(ITestOutputHelper output) : IDisposable
{
    /// <summary>NEXMark events in the input: about 92,000 bids and 6,000 auctions, 1.5–2 s for one run on a busy 2-core machine.</summary>
    private const int Events = 100_000;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly string _directory = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "linqstream-kill-" + Guid.NewGuid().ToString("N"))).FullName;

    [Theory]
    [InlineData(1)]
    [InlineData(2)] // the window aggregate on 2 tasks: checkpoints are aligned barriers through their channels
    public async Task KilledAtRandomMoments_RestartedUntilDone_OutputEqualsUninterruptedRun(int parallelism)
    {
        bool longRun = Environment.GetEnvironmentVariable("LINQSTREAM_LONG_TESTS") == "1";
        int targetKills = longRun ? 100 : parallelism == 1 ? 20 : 12;
        int seed = int.TryParse(Environment.GetEnvironmentVariable("LINQSTREAM_TEST_SEED"), out int s) ? s : Environment.TickCount;
        output.WriteLine($"seed {seed} (set LINQSTREAM_TEST_SEED to repeat), target {targetKills} kills, parallelism {parallelism}");
        var random = new Random(seed);
        var (bids, auctions, badLines) = NexmarkFiles.Write(_directory, Events, TimeSpan.FromMilliseconds(200), badEvery: 5_000);

        // The reference: one run that is not interrupted.
        var clock = Stopwatch.StartNew();
        var reference = Path.Combine(_directory, "reference");
        var (referenceLog, referenceCode) = await RunToEndAsync(reference, bids, auctions, parallelism);
        var referenceTime = clock.Elapsed;
        Assert.True(referenceCode == 0, $"the reference run failed:\n{referenceLog}");
        byte[] expected = File.ReadAllBytes(Path.Combine(reference, "out.jsonl"));
        byte[] expectedLetters = File.ReadAllBytes(Path.Combine(reference, "dl.jsonl"));
        int checkpoints = referenceLog.Split('\n').Count(l => l.StartsWith("checkpoint ", StringComparison.Ordinal));
        output.WriteLine($"reference run: {referenceTime.TotalSeconds:F2} s, {expected.Length} bytes of output, {checkpoints} checkpoints");
        Assert.True(expected.Length > 100_000, $"the reference output is only {expected.Length} bytes");
        // At 2 a barrier aligns once the sink has caught up with where the source task was when it sent it, so there are fewer.
        Assert.True(checkpoints >= (parallelism == 1 ? 10 : 3), $"the reference run took {checkpoints} checkpoints; kills need several to land between");
        Assert.Equal(badLines, File.ReadLines(Path.Combine(reference, "dl.jsonl")).Count());
        if (parallelism > 1)
        {
            // The uninterrupted run on several tasks writes what one task writes, byte for byte.
            var (sequentialLog, sequentialCode) = await RunToEndAsync(Path.Combine(_directory, "sequential"), bids, auctions, 1);
            Assert.True(sequentialCode == 0, $"the sequential run failed:\n{sequentialLog}");
            AssertSameBytes(File.ReadAllBytes(Path.Combine(_directory, "sequential", "out.jsonl")), expected, $"the output at parallelism {parallelism}");
            AssertSameBytes(File.ReadAllBytes(Path.Combine(_directory, "sequential", "dl.jsonl")), expectedLetters, $"the dead letters at parallelism {parallelism}");
        }

        int kills = 0, missed = 0, restoredRuns = 0, rounds = 0;
        while (kills < targetKills)
        {
            rounds++;
            string directory = Path.Combine(_directory, "round" + rounds);
            long lastDurable = 0;
            while (true)
            {
                Assert.True(kills + missed < targetKills * 3, $"{kills} kills landed and {missed} missed: the job does not get ahead between kills");
                using var host = Start(directory, bids, auctions, parallelism);
                string first = await host.ReadLineAsync(Timeout) ?? throw new Xunit.Sdk.XunitException("The host exited without output: " + await host.ErrorsAsync());
                if (first.StartsWith("restored from ", StringComparison.Ordinal))
                {
                    // Every checkpoint the last run reported as stored is there: the run goes on from it or from a newer one.
                    long restored = long.Parse(first["restored from ".Length..], System.Globalization.CultureInfo.InvariantCulture);
                    Assert.True(restored >= lastDurable, $"restored from checkpoint {restored}, but checkpoint {lastDurable} was stored before the kill");
                    lastDurable = restored;
                    restoredRuns++;
                }
                else
                {
                    Assert.True(first == "fresh start" && lastDurable == 0, $"run started with '{first}' after checkpoint {lastDurable} was stored");
                }

                // Kill after a random number of checkpoints (so kills land around checkpoint writes) or after a random delay.
                bool exited = random.Next(2) == 0
                    ? await ReadCheckpointsAsync(host, random.Next(1, parallelism == 1 ? 4 : 2), id => lastDurable = id)
                    : await DelayAsync(host, TimeSpan.FromMilliseconds(random.Next((int)referenceTime.TotalMilliseconds / 3)), id => lastDurable = id);
                int code = exited ? await host.WaitForExitAsync(Timeout) : await host.KillAsync();
                foreach (var line in host.Transcript().Split('\n'))
                {
                    // Lines read after the kill decision: checkpoints stored before the process died.
                    if (line.StartsWith("checkpoint ", StringComparison.Ordinal))
                    {
                        lastDurable = Math.Max(lastDurable, long.Parse(line["checkpoint ".Length..], System.Globalization.CultureInfo.InvariantCulture));
                    }
                }

                if (code == 0)
                {
                    Assert.Contains("done ", host.Transcript(), StringComparison.Ordinal);
                    missed++;
                    break;
                }

                Assert.False(exited, $"the host failed by itself (exit code {code}):\n{host.Transcript()}\n{await host.ErrorsAsync()}");
                kills++;
            }

            // The whole output, across every kill and restore, is what the uninterrupted run wrote.
            byte[] actual = File.ReadAllBytes(Path.Combine(directory, "out.jsonl"));
            AssertSameBytes(expected, actual, $"round {rounds} output");
            AssertSameBytes(expectedLetters, File.ReadAllBytes(Path.Combine(directory, "dl.jsonl")), $"round {rounds} dead letters");
            Directory.Delete(directory, recursive: true);
        }

        output.WriteLine($"{kills} kills mid-run, {missed} runs finished before their kill, {restoredRuns} runs restored from a checkpoint, {rounds} rounds, {clock.Elapsed.TotalSeconds:F1} s");
        Assert.True(kills >= (parallelism == 1 ? 3 : 1) * missed, $"only {kills} of {kills + missed} kills landed before the process finished");
        Assert.True(restoredRuns >= kills / 2, $"only {restoredRuns} of {kills} restarts restored from a checkpoint");
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static HostProcess Start(string directory, string bids, string auctions, int parallelism)
    {
        Directory.CreateDirectory(directory);
        return HostProcess.Start(
            "job", "--input", bids, "--auctions", auctions,
            "--out", Path.Combine(directory, "out.jsonl"), "--dead-letter", Path.Combine(directory, "dl.jsonl"),
            "--checkpoints", Path.Combine(directory, "checkpoints"),
            // At 2 the source task reads ahead by what the bounded channels hold (8 batches per channel), and a barrier is aligned
            // once the sink has caught up with it: smaller batches and a shorter count keep checkpoints as frequent as at 1.
            "--every", parallelism == 1 ? "5000" : "1000", "--batch-size", parallelism == 1 ? "2048" : "256",
            "--parallelism", parallelism.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    private static async Task<(string Log, int Code)> RunToEndAsync(string directory, string bids, string auctions, int parallelism)
    {
        using var host = Start(directory, bids, auctions, parallelism);
        int code = await host.WaitForExitAsync(Timeout);
        return (host.Transcript() + "\n" + await host.ErrorsAsync(), code);
    }

    /// <summary>Reads until <paramref name="count"/> more checkpoints are reported; true if the process exited first.</summary>
    private static async Task<bool> ReadCheckpointsAsync(HostProcess host, int count, Action<long> stored)
    {
        while (count > 0)
        {
            string? line = await host.ReadLineAsync(Timeout);
            if (line is null)
            {
                return true;
            }

            if (line.StartsWith("checkpoint ", StringComparison.Ordinal))
            {
                stored(long.Parse(line["checkpoint ".Length..], System.Globalization.CultureInfo.InvariantCulture));
                count--;
            }
        }

        return false;
    }

    /// <summary>Reads output for <paramref name="delay"/>; true if the process exited first.</summary>
    private static async Task<bool> DelayAsync(HostProcess host, TimeSpan delay, Action<long> stored)
    {
        var until = Stopwatch.StartNew();
        while (until.Elapsed < delay)
        {
            string? line;
            try
            {
                line = await host.ReadLineAsync(delay - until.Elapsed);
            }
            catch (TimeoutException)
            {
                return false;
            }

            if (line is null)
            {
                return true;
            }

            if (line.StartsWith("checkpoint ", StringComparison.Ordinal))
            {
                stored(long.Parse(line["checkpoint ".Length..], System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return false;
    }

    private static void AssertSameBytes(byte[] expected, byte[] actual, string what)
    {
        if (expected.AsSpan().SequenceEqual(actual))
        {
            return;
        }

        int at = expected.AsSpan().CommonPrefixLength(actual);
        throw new Xunit.Sdk.XunitException(
            $"{what} differs from the uninterrupted run at byte {at} ({actual.Length} bytes, expected {expected.Length}); " +
            $"expected '{Excerpt(expected, at)}', got '{Excerpt(actual, at)}'");
    }

    private static string Excerpt(byte[] bytes, int at)
    {
        int start = Math.Max(0, at - 40);
        return System.Text.Encoding.UTF8.GetString(bytes, start, Math.Min(bytes.Length, at + 80) - start).ReplaceLineEndings("⏎");
    }
}
