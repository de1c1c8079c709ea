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
    public async Task Job_SiloKilledAfterTwoCheckpoints_ResumesOnAnotherSiloWithTheSingleProcessOutput_AndTheZombieIsFenced()
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

        // The first activation still runs in this process (its silo was killed, not its threads): let it go on. Its first write
        // is refused by the fence, and neither the output stream nor the job's record changes.
        gate.Release();
        var refused = await gate.ZombieSinkOutcome.Task.WaitAsync(Bound);
        var fenced = Assert.IsType<FencedWriteException>(refused);
        Assert.Equal(1, fenced.Epoch);
        Assert.Equal(2, fenced.CurrentEpoch);
        Assert.Equal(reference, (await ReadAsync(stream)).Select(e => e.Value).ToList());
        var after = await job.GetStatusAsync();
        Assert.Equal(JobState.Completed, after.State);
        Assert.Equal(2, after.Epoch);
        Assert.Equal([1L, 2L], gate.Epochs.Order());
    }

    private async Task<List<(string Id, string Value)>> ReadAsync(string stream)
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(fixture.Redis);
        var entries = await redis.GetDatabase().StreamRangeAsync(stream);
        return [.. entries.Select(e => (e.Id.ToString(), e["data"].ToString()))];
    }
}
