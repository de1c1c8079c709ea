using System.Diagnostics;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace LinqStream.Orleans.Tests;

[Collection(ClusterCollection.Name)]
[Trait("Category", "Slow")] // Slow (fast suite skips it): a 3-silo test cluster, a real redis-server, a silo killed and a job re-activated.
public sealed class FailoverTests(ClusterFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task Job_SiloKilledAfterTwoCheckpoints_ResumesOnAnotherSiloWithTheSingleProcessOutput()
    {
        const int Count = 40_000;
        const int Seed = 17;
        var jobId = "failover-" + Guid.NewGuid().ToString("N");
        var stream = fixture.Prefix + ":out:" + jobId;
        var gate = GatedJob.For(jobId);
        var reference = await HotItems.ReferenceAsync(HotItems.Bids(Count, Seed));

        var job = await fixture.Cluster.Client.SubmitAsync(jobId, GatedJob.Submission(stream, Count, Seed, pauseAt: 25_000, checkpointEvery: 5_000));
        await gate.Paused.WaitAsync(Bound);
        var before = await job.WaitAsync(Poll, s => s.LastCheckpoint >= 2 || s.IsFinished).WaitAsync(Bound);
        Assert.Equal(JobState.Running, before.State);
        Assert.Equal(1, before.Epoch);
        Assert.True(before.LastCheckpoint >= 2, $"checkpoints before the kill: {before.LastCheckpoint}");

        var victim = fixture.Cluster.Silos.Single(s => s.SiloAddress.ToString() == before.Silo);
        var clock = Stopwatch.StartNew();
        await fixture.Cluster.KillSiloAsync(victim);
        var resumed = await job.WaitAsync(Poll, s => s.Epoch >= 2 && s.State == JobState.Running || s.IsFinished).WaitAsync(Bound);
        var recovery = clock.Elapsed;
        var done = await job.WaitAsync(Poll).WaitAsync(Bound);
        output.WriteLine($"killed {victim.SiloAddress} after checkpoint {before.LastCheckpoint}; epoch {resumed.Epoch} running on {resumed.Silo} {recovery.TotalSeconds:F1} s after the kill");

        Assert.Equal(JobState.Completed, done.State);
        Assert.Equal(2, done.Epoch);
        Assert.NotEqual(before.Silo, done.Silo);
        Assert.True(done.RestoredFrom >= 2, $"restored from {done.RestoredFrom}");
        var written = await ReadAsync(stream);
        Assert.Equal(reference.Count, written.Count);
        Assert.Equal(reference, written.Select(e => e.Value).ToList());
        Assert.Equal(Enumerable.Range(1, written.Count).Select(i => "0-" + i), written.Select(e => e.Id));

        Assert.Equal([1L, 2L], gate.Epochs.Order());
        gate.Release();
    }

    [Fact]
    public async Task Cancel_RunningJob_IsRecordedCancelledUnderANewEpochAndNotRestarted()
    {
        var jobId = "cancel-" + Guid.NewGuid().ToString("N");
        var gate = GatedJob.For(jobId);
        var job = await fixture.Cluster.Client.SubmitAsync(jobId, GatedJob.Submission(fixture.Prefix + ":out:" + jobId, 20_000, seed: 3, pauseAt: 10_000, checkpointEvery: 4_000));
        await gate.Paused.WaitAsync(Bound);

        var cancelling = job.CancelAsync();
        gate.Release();
        var cancelled = await cancelling.WaitAsync(Bound);
        Assert.Equal(JobState.Cancelled, cancelled.State);
        Assert.Equal(2, cancelled.Epoch);

        // What the supervisor calls every 500 ms: a cancelled job stays cancelled and is not started again.
        var ensured = await fixture.Cluster.Client.GetGrain<IStreamJobGrain>(jobId).EnsureRunningAsync();
        Assert.Equal(JobState.Cancelled, ensured.State);
        Assert.Equal(JobState.Cancelled, (await fixture.Cluster.Client.ListJobsAsync()).Single(j => j.JobId == jobId).State);
        Assert.Equal([1L], gate.Epochs);
    }

    [Fact]
    public async Task ZombieActivation_AfterTakeOver_IsFencedAndWritesNothing()
    {
        // A job runs to its end in epoch 1; then epoch 2 takes it over (as after a kill). An activation that still holds epoch 1
        // (a silo declared dead that keeps running) goes on with more input: its writes are refused and nothing it did shows.
        const int Count = 20_000;
        var jobId = "zombie-" + Guid.NewGuid().ToString("N");
        var stream = fixture.Prefix + ":out:" + jobId;
        var job = await fixture.Cluster.Client.SubmitAsync(jobId, GatedJob.Submission(stream, Count, seed: 5, pauseAt: -1, checkpointEvery: 4_000));
        var done = await job.WaitAsync(Poll).WaitAsync(Bound);
        Assert.Equal(JobState.Completed, done.State);

        var options = new LinqStreamSiloOptions { Redis = fixture.Redis, KeyPrefix = fixture.Prefix }.AddJob(GatedJob.Name, GatedJob.Create);
        using var registry = new JobRegistry(options);
        var takeOver = await registry.TakeEpochAsync(jobId);
        Assert.Equal(2, takeOver.Epoch);
        var record = (await registry.GetAsync(jobId))!;
        var checkpoints = new RedisCheckpointStore(fixture.Redis, registry.CheckpointPrefix(jobId));
        var checkpointsBefore = checkpoints.List();
        var outputBefore = await ReadAsync(stream);

        var moreInput = record.Submission with { Parameters = new(record.Submission.Parameters) { ["count"] = (2 * Count).ToString(System.Globalization.CultureInfo.InvariantCulture) } };
        var zombie = new JobActivation(
            record with { Submission = moreInput, Status = record.Status with { State = JobState.Running } },
            new RedisFence(registry.FenceKey(jobId), 1),
            registry,
            fixture.Cluster.ServiceProvider,
            TimeProvider.System,
            Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        zombie.Start();
        await zombie.Task.WaitAsync(Bound);

        var fenced = Assert.IsType<FencedWriteException>(zombie.FencedBy);
        Assert.Equal(1, fenced.Epoch);
        Assert.Equal(2, fenced.CurrentEpoch);
        Assert.Equal(outputBefore, await ReadAsync(stream));
        Assert.Equal(checkpointsBefore, checkpoints.List());
        var after = (await registry.GetAsync(jobId))!.Status;
        Assert.Equal(JobState.Completed, after.State);
        Assert.Equal(1, after.Epoch);
        checkpoints.Dispose();
    }

    private async Task<List<(string Id, string Value)>> ReadAsync(string stream)
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(fixture.Redis);
        var entries = await redis.GetDatabase().StreamRangeAsync(stream);
        return [.. entries.Select(e => (e.Id.ToString(), e["data"].ToString()))];
    }
}
