using LinqStream.Orleans.Channels;

namespace LinqStream.Orleans.Tests.Tasks;

/// <summary>
/// The projection below the exchange (issue #17): a job spread over the 3 silos of the test cluster whose keyed aggregate reads a few
/// members of each bid sends only those; one that hands bids to a method sends them whole. Either way the output equals the single
/// process run (P = 1) entry for entry and LINQ to objects over the whole input (random, out of order, ties, empty windows, huge keys).
/// Checkpoints restored at another P with the projection: <see cref="SpreadJobTests"/> (its q5 reads only the auction, so it is projected too).
/// </summary>
[Collection(ClusterCollection.Name)]
[Trait("Category", "Slow")] // Slow (fast suite skips it): the 3-silo test cluster and a real redis-server.
public sealed class ProjectedSpreadJobTests(ClusterFixture fixture)
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(3);

    [Theory]
    [InlineData("members", 0, 2)]
    [InlineData("members", 4, 4)]
    [InlineData("whole", 0, 4)]
    public async Task SpreadJob_Projected_OrWhole_OutputEqualsParallelismOneAndLinqToObjects(string query, int partitions, int parallelism)
    {
        await EnsureSilosAsync(3);
        const int Count = 20_000;
        int seed = 100 + (10 * parallelism) + partitions;
        var bids = ProjectedJob.Bids(Count, seed);
        var one = await ProjectedJob.Query(bids, partitions, query).ToListAsync();
        var reference = ProjectedJob.Reference(bids);
        Assert.True(reference.Count > 1_000, $"{reference.Count} results");
        Assert.Equal(reference, ProjectedJob.Ordered(one));

        var jobId = $"projected-{query}-{partitions}-{parallelism}-" + Guid.NewGuid().ToString("N");
        var stream = fixture.Prefix + ":out:" + jobId;
        var before = ExchangeStats.SourceToKeyed.Read();
        var job = await fixture.Cluster.Client.SubmitAsync(jobId, ProjectedJob.Submission(stream, query, Count, seed, partitions, parallelism));
        var done = await job.WaitAsync(Poll).WaitAsync(Bound);
        var after = ExchangeStats.SourceToKeyed.Read();

        Assert.True(done.State == JobState.Completed, done.Error);
        await OutputStreams.AssertEqualsAsync(fixture.Redis, stream, ProjectedJob.Serialize(one));
        // What crossed: the auction, the price and the channel (presence 1 + 8 + 8 + a 4-byte prefix and its few bytes, or an
        // 8-byte reference to the same string in the frame) plus the two time columns (16), against whole bids with a URL of about 30 bytes.
        double bytes = (double)(after.Bytes - before.Bytes) / (after.Events - before.Events);
        Assert.True(after.Events - before.Events >= Count, $"{after.Events - before.Events} events crossed");
        if (query == "members")
        {
            Assert.InRange(bytes, 30, 58);
        }
        else
        {
            Assert.True(bytes > 70, $"{bytes:F1} bytes per event");
        }
    }

    [Fact]
    public async Task SpreadJob_ProjectionSwitchedOff_SendsWholeBids_SameOutput()
    {
        await EnsureSilosAsync(3);
        const int Count = 15_000;
        const int Seed = 7;
        var bids = ProjectedJob.Bids(Count, Seed);
        var one = ProjectedJob.Serialize(await ProjectedJob.Query(bids, 0, "members").ToListAsync());
        var jobId = "projected-off-" + Guid.NewGuid().ToString("N");
        var stream = fixture.Prefix + ":out:" + jobId;
        var before = ExchangeStats.SourceToKeyed.Read();

        var job = await fixture.Cluster.Client.SubmitAsync(jobId, ProjectedJob.Submission(stream, "members", Count, Seed, 0, 3, project: false));
        var done = await job.WaitAsync(Poll).WaitAsync(Bound);
        var after = ExchangeStats.SourceToKeyed.Read();

        Assert.True(done.State == JobState.Completed, done.Error);
        await OutputStreams.AssertEqualsAsync(fixture.Redis, stream, one);
        double bytes = (double)(after.Bytes - before.Bytes) / (after.Events - before.Events);
        Assert.True(bytes > 70, $"{bytes:F1} bytes per event");
    }

    private async Task EnsureSilosAsync(int count)
    {
        while (fixture.Cluster.GetActiveSilos().Count() < count)
        {
            await fixture.Cluster.StartAdditionalSiloAsync();
        }
    }
}

/// <summary>The same queries in process at P = 2 and 4 (the in-process exchange passes the events themselves) against P = 1 and LINQ to objects.</summary>
public sealed class ProjectedQueryTests
{
    [Theory]
    [InlineData("members", 0, 2)]
    [InlineData("members", 4, 4)]
    [InlineData("whole", 4, 2)]
    public async Task Query_AtParallelism_EqualsParallelismOneAndLinqToObjects(string query, int partitions, int parallelism)
    {
        var bids = ProjectedJob.Bids(20_000, 3 + parallelism + partitions);
        var one = await ProjectedJob.Query(bids, partitions, query).ToListAsync();
        var many = await ProjectedJob.Query(bids, partitions, query).WithOptions(new QueryOptions { Parallelism = parallelism, BatchSize = 256 }).ToListAsync();

        Assert.Equal(ProjectedJob.Reference(bids), ProjectedJob.Ordered(one));
        Assert.Equal(one, many);
    }
}
