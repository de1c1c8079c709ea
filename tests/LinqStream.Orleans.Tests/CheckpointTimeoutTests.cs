using Xunit.Abstractions;

namespace LinqStream.Orleans.Tests;

/// <summary>
/// A checkpoint write that does not finish (a store that stalls, <see cref="StallingCheckpoints"/>) rolls the job back to its last
/// complete checkpoint under a new epoch instead of failing it, in one grain and spread over the silos; the output is still
/// exactly the single-process run's (LINQ over the whole input), entry for entry: nothing lost, nothing twice.
/// </summary>
[Collection(ClusterCollection.Name)]
[Trait("Category", "Slow")] // Slow (fast suite skips it): the 3-silo test cluster, a real redis-server, jobs rolled back.
public sealed class CheckpointTimeoutTests(ClusterFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task OneGrainJob_ThirdCheckpointWriteStalls_RollsBackToTheLastCompleteCheckpointAndOutputEqualsTheSingleProcessRun()
    {
        const int Count = 40_000;
        const int Seed = 23;
        var jobId = "ckpt-stall-" + Guid.NewGuid().ToString("N");
        var stream = fixture.Prefix + ":out:" + jobId;
        var plan = StallingCheckpoints.StallWrite(jobId, write: 3);
        var reference = await HotItems.ReferenceAsync(HotItems.Bids(Count, Seed));

        // A limit of 10 s: at load 57 an ordinary write of a few MB passed 1 s (and rolled the job back before the planned stall).
        var submission = GatedJob.Submission(stream, Count, Seed, pauseAt: -1, checkpointEvery: 5_000) with { CheckpointWriteTimeout = TimeSpan.FromSeconds(10) };
        var job = await fixture.Cluster.Client.SubmitAsync(jobId, submission);
        await AssertRolledBackAsync(job, plan, stream, reference);
    }

    [Fact]
    public async Task SpreadJob_SecondCheckpointWriteStalls_RollsBackToTheLastCompleteCheckpointAndOutputEqualsTheSingleProcessRun()
    {
        const int Count = 30_000;
        const int Seed = 29;
        var jobId = "spread-ckpt-stall-" + Guid.NewGuid().ToString("N");
        var stream = fixture.Prefix + ":out:" + jobId;
        var plan = StallingCheckpoints.StallWrite(jobId, write: 2);
        var gate = Tasks.SpreadJob.For(jobId);
        var reference = await HotItems.ReferenceAsync(HotItems.Bids(Count, Seed));

        // Epoch 1's source holds back at 20,000 (checkpoints go on every 250 ms), so a second checkpoint comes before the end.
        var submission = Tasks.SpreadJob.Submission(stream, Count, Seed, pauseAt: 20_000, checkpointEvery: 5_000, parallelism: 6) with { CheckpointWriteTimeout = TimeSpan.FromSeconds(10) };
        var job = await fixture.Cluster.Client.SubmitAsync(jobId, submission);
        try
        {
            await AssertRolledBackAsync(job, plan, stream, reference);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>The stalled write was given up (cancelled), the next epoch restored from the newest checkpoint stored before it, the job
    /// completed, and its output is the single-process run's, entry for entry.</summary>
    private async Task AssertRolledBackAsync(ClusterJobHandle job, StallingCheckpoints.Plan plan, string stream, List<string> reference)
    {
        long stalled = await plan.Stalled.WaitAsync(Bound);
        long cancelled = await plan.Cancelled.WaitAsync(Bound);
        var done = await job.WaitAsync(Poll).WaitAsync(Bound);
        output.WriteLine($"checkpoint {stalled} of epoch {plan.StalledEpoch} stalled and was given up; newest stored then {plan.NewestAtStall}, read back first after it {plan.FirstLoadAfterStall}; done at epoch {done.Epoch}, restored from {done.RestoredFrom}; stored {string.Join(", ", plan.Stored)}");

        Assert.True(done.State == JobState.Completed, done.Error);
        Assert.Equal(stalled, cancelled);
        Assert.True(done.Epoch > plan.StalledEpoch, $"done at epoch {done.Epoch}, the stall was in epoch {plan.StalledEpoch}");
        Assert.DoesNotContain((plan.StalledEpoch, stalled), plan.Stored);
        // The next epoch read back the newest complete checkpoint (none: it started from the beginning, reading nothing).
        Assert.Equal(plan.NewestAtStall == 0 ? -1 : plan.NewestAtStall, plan.FirstLoadAfterStall);
        await AssertOutputAsync(stream, reference);
    }

    private Task AssertOutputAsync(string stream, List<string> reference) => OutputStreams.AssertEqualsAsync(fixture.Redis, stream, reference);
}

/// <summary>The write limit on its own: which failures of a store are timeouts (a rollback) and which are not.</summary>
public sealed class TimedCheckpointStoreTests
{
    [Fact]
    public async Task TimedStore_WriteStallsPastTheLimit_IsACheckpointWriteTimeoutAndTheWriteIsCancelled()
    {
        var inner = new ThrowingStore(null);
        var store = new TimedCheckpointStore(inner, TimeSpan.FromMilliseconds(100), TimeProvider.System);
        var error = await Assert.ThrowsAsync<CheckpointWriteTimeoutException>(() => store.SaveAsync(3, (stream, token) => stream.WriteAsync(new byte[] { 1 }, token).AsTask(), CancellationToken.None));
        Assert.Contains("test checkpoint 3 did not finish within 0.1 s", error.Message, StringComparison.Ordinal);
        await inner.Cancelled.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task TimedStore_StoreTimesOutItself_IsACheckpointWriteTimeout()
    {
        // StackExchange.Redis gives up on a slow server with its own TimeoutException (RedisTimeoutException): that is a timeout too.
        var store = new TimedCheckpointStore(new ThrowingStore(new TimeoutException("Timeout awaiting response (5000ms)")), TimeSpan.FromMinutes(1), TimeProvider.System);
        var error = await Assert.ThrowsAsync<CheckpointWriteTimeoutException>(() => store.SaveAsync(7, new byte[] { 1, 2, 3 }, CancellationToken.None));
        Assert.Contains("checkpoint 7", error.Message, StringComparison.Ordinal);
        Assert.Contains("Timeout awaiting response", error.Message, StringComparison.Ordinal);

        // So is a restore's read that the store gives up on (seen at load 57: a 37 MB GET past StackExchange.Redis' 5 s): the job
        // rolls back and reads again, instead of failing.
        var reading = await Assert.ThrowsAsync<CheckpointWriteTimeoutException>(() => store.LoadAsync(7, CancellationToken.None));
        Assert.Contains("Reading test checkpoint 7 timed out", reading.Message, StringComparison.Ordinal);

        // Any other failure of the store is not a timeout: it stays what it was (the job fails with it, as before).
        var other = new TimedCheckpointStore(new ThrowingStore(new IOException("disk full")), TimeSpan.FromMinutes(1), TimeProvider.System);
        await Assert.ThrowsAsync<IOException>(() => other.SaveAsync(7, (stream, token) => stream.WriteAsync(new byte[] { 1 }, token).AsTask(), CancellationToken.None));
        await Assert.ThrowsAsync<IOException>(() => other.LoadAsync(7, CancellationToken.None));

        // The caller's own cancellation is a cancellation, not a timeout.
        using var cancel = new CancellationTokenSource();
        var stalled = new TimedCheckpointStore(new ThrowingStore(null), TimeSpan.FromMinutes(1), TimeProvider.System);
        var saving = stalled.SaveAsync(7, new byte[] { 1 }, cancel.Token);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => saving);
    }

    /// <summary>Fails every write with <paramref name="error"/>; with none, a write waits until it is cancelled.</summary>
    private sealed class ThrowingStore(Exception? error) : CheckpointStore
    {
        private readonly TaskCompletionSource _cancelled = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Completes when a write was cancelled.</summary>
        public Task Cancelled => _cancelled.Task;

        public override async Task SaveAsync(long id, ReadOnlyMemory<byte> checkpoint, CancellationToken cancellationToken)
        {
            try
            {
                await Task.Delay(error is null ? Timeout.Infinite : 1, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                _cancelled.TrySetResult();
                throw;
            }

            throw error!;
        }

        public override IReadOnlyList<long> List() => [];

        public override Task<byte[]> LoadAsync(long id, CancellationToken cancellationToken) => Task.FromException<byte[]>(error ?? new FileNotFoundException());

        public override string Describe(long id) => $"test checkpoint {id}";
    }
}
