using LinqStream.Testing.Io;

namespace LinqStream.Recovery.Tests;

/// <summary>
/// Two jobs on one checkpoint directory used to corrupt each other (one deleted the other's temp file, 519 duplicated lines in
/// one trial). Now the directory has a lock file with its owner's process and host: a second job fails naming the first, and a
/// lock left by a killed process is taken over.
/// </summary>
[Trait("Category", "Slow")] // Slow (fast suite skips it): runs the CLI host in child processes
public sealed class CheckpointLockTests : IDisposable
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(60);
    private readonly string _directory = Directory.CreateTempSubdirectory("linqstream-lock-").FullName;

    [Fact]
    public async Task RunAsync_DirectoryHeldByAnotherLiveProcess_FailsNamingItsJobProcessAndHost()
    {
        using var holder = HostProcess.Start("hold-lock", "--checkpoints", _directory, "--owner", "the nightly bids job");
        Assert.Equal("locked", await holder.ReadLineAsync(s_bound));
        await using var job = CreateJob(out _);

        var error = await Assert.ThrowsAsync<IOException>(() => job.RunAsync().WaitAsync(s_bound));

        Assert.Contains("is in use by the nightly bids job", error.Message, StringComparison.Ordinal);
        Assert.Contains($"process {holder.Id} on this host", error.Message, StringComparison.Ordinal);
        Assert.Empty(new DirectoryCheckpointStore(_directory).List());
    }

    [Fact]
    public async Task RunAsync_LockLeftByAKilledProcess_TakesItOverWithAWarningAndRuns()
    {
        using (var holder = HostProcess.Start("hold-lock", "--checkpoints", _directory, "--owner", "the crashed job"))
        {
            Assert.Equal("locked", await holder.ReadLineAsync(s_bound));
            await holder.KillAsync();
        }

        Assert.True(File.Exists(Path.Combine(_directory, "job.lock")));
        await using var job = CreateJob(out var sink);

        var result = await job.RunAsync().WaitAsync(s_bound);

        Assert.Contains(result.Warnings, w => w.Contains("Took over the checkpoint directory", StringComparison.Ordinal) && w.Contains("the crashed job", StringComparison.Ordinal));
        Assert.Equal(Enumerable.Range(0, 1000).Where(i => i % 3 == 0).ToArray(), sink.Items);
        Assert.False(File.Exists(Path.Combine(_directory, "job.lock")));
    }

    [Fact]
    public void Acquire_SecondStoreOnTheSameDirectoryInOneProcess_FailsUntilTheFirstReleases()
    {
        var first = new DirectoryCheckpointStore(_directory);
        var second = new DirectoryCheckpointStore(_directory);
        var warnings = new List<string>();

        var held = first.Acquire("job A", warnings.Add);
        var error = Assert.Throws<IOException>(() => second.Acquire("job B", warnings.Add));
        held!.Dispose();
        using var taken = second.Acquire("job B", warnings.Add);

        Assert.Contains("in use by job A", error.Message, StringComparison.Ordinal);
        Assert.Contains(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
        Assert.Empty(warnings);
    }

    [Fact]
    public void Acquire_LockFromAnotherHost_FailsSayingItCannotBeChecked()
    {
        File.WriteAllText(Path.Combine(_directory, "job.lock"),
            """{"pid": 4242, "host": "other-machine", "processStart": 1, "since": "2026-12-01T00:00:00+00:00", "job": "job on the other machine"}""");

        var error = Assert.Throws<IOException>(() => new DirectoryCheckpointStore(_directory).Acquire("job B", _ => { }));

        Assert.Contains("job on the other machine (process 4242 on host other-machine", error.Message, StringComparison.Ordinal);
        Assert.Contains("If that job is gone, delete", error.Message, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private QueryJob<int> CreateJob(out MemorySink<int> sink)
    {
        sink = new MemorySink<int>();
        var source = new ArrayEventSource<int>(Enumerable.Range(0, 1000).ToArray(), "numbers");
        var query = QStream.From(source, i => (long)i, IngressPolicy.Throw).Where(i => i % 3 == 0);
        return query.ToJob(sink, new JobOptions { Checkpoints = new DirectoryCheckpointStore(_directory), CheckpointEveryEvents = 100 });
    }
}
