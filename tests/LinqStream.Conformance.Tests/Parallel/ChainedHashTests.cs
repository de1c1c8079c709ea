using static LinqStream.Conformance.Tests.Parallel.ParallelOutput;

namespace LinqStream.Conformance.Tests.Parallel;

/// <summary>
/// A hash plan over replayed partitions (arrays merged, not declared by key) with as many source tasks as tasks (S = P) runs source
/// task t and task t on one thread (chained, docs/parallelism.md "Chained tasks in the hash plan"): the events of task t's key groups
/// go to it by a call, the rest through the channels to the other tasks, which each thread takes between its steps. The output is
/// parallelism 1's byte for byte at P = 2 and 4 and batch sizes 1, 64 and 4,096 (ordering union, two phases, events as they come,
/// sessions; events out of order, ties across partitions, empty windows and partitions, skew, huge keys) and the unchained run's;
/// fewer partitions than tasks, and event sources, are not chained; the bounded channels still hold the sources back behind a
/// blocked sink. What every chained plan does (LINQ to objects, reruns, errors on either side, crashes, rescaling) is in
/// <see cref="ChainedPlanTests"/>, run here over readings dealt to the partitions at random (every source task feeds every task).
/// </summary>
public sealed class ChainedHashTests : ChainedPlanTests
{
    private const string AsTheyCome = PartitionedReadings.AsTheyCome;
    private const string Hash = "Exchange: hash by key group of 'r => r.Sensor'";

    protected override string Chained => "Chained: source task t and task t run on one thread (its hash exchange calls task t's operators";

    protected override string NotChained => Hash;

    protected override IReadOnlyList<string> Plans => [OnePhase, TwoPhase, AsTheyCome];

    protected override string[] PlanSays(string plan) => plan switch
    {
        OnePhase => [Hash, "union of the 2 source tasks"],
        TwoPhase => [Hash, "Two-phase"],
        _ => [Hash, "as they come"],
    };

    protected override QueryOptions Unchained(QueryOptions options) => options with { ChainHashTasks = false };

    /// <summary>Readings dealt to the partitions at random (with 4 or more partitions the second is empty).</summary>
    protected override Reading[][] Generate(int seed, int partitions, bool skewed, int count = 6_000) =>
        PartitionedReadings.Generate(seed, partitions, count, skewed);

    /// <summary>The partitions as arrays (each its own ingress, <c>Reorder(2 s)</c>), merged: a union the planner splits over source tasks and hashes.</summary>
    protected override IQStream<Reading> Partitioned(Reading[][] data)
    {
        var streams = data.Select((p, i) => QStream.From(p, r => r.Time, IngressPolicy.Reorder(TimeSpan.FromSeconds(2)), "readings-" + i)).ToArray();
        return streams[0].Merge(streams[1..]);
    }

    /// <summary>Fewer partitions than tasks (S &lt; P: tasks no source task runs), or partitions read on pool threads: not chained, the same output.</summary>
    [Fact]
    public async Task FewerPartitionsThanTasks_OrEventSources_AreNotChained()
    {
        var data = Generate(5, 2, skewed: true, count: 3_000);
        await AssertSameAsParallelism1(() => Query(OnePhase, data), [4], Hash);
        Assert.DoesNotContain("Chained", Query(OnePhase, data).WithOptions(Options(4)).Explain(), StringComparison.Ordinal);

        var sources = PartitionedReadings.Sources(Generate(6, 4, skewed: false, count: 500));
        string plan = PartitionedReadings.Keyed(OnePhase, PartitionedReadings.Union(sources)).WithOptions(Options(2)).Explain();
        Assert.Contains(Hash, plan, StringComparison.Ordinal);
        Assert.DoesNotContain("Chained", plan, StringComparison.Ordinal);
    }

    /// <summary>
    /// A sink that blocks at its first result holds 4 chained threads back: each waits for room in its output (or in another task's
    /// channel, running its own task meanwhile), so the partitions are read only as far as the bounded channels hold.
    /// </summary>
    [Fact]
    public async Task SlowSink_Parallelism4_BoundedChannelsHoldTheChainedThreadsBack()
    {
        const int PerPartition = 500_000, BatchSize = 1024;
        var partitions = Enumerable.Range(0, 4).Select(p => new PulledReadings(p, PerPartition)).ToArray();
        var streams = partitions.Select((p, i) => QStream.From(p, r => r.Time, IngressPolicy.Throw, "pulled-" + i)).ToArray();
        var query =
            from r in streams[0].Merge(streams[1..]).TumblingWindow(TimeSpan.FromMilliseconds(1))
            group r by r.Sensor into g
            select g.Count(); // every reading is its own group: as many results as readings
        Assert.Contains(Chained, query.WithOptions(Options(4, BatchSize)).Explain(), StringComparison.Ordinal);
        long pulled = await PulledWhileTheSinkIsBlocked(query, Options(4, BatchSize), () => partitions.Sum(p => p.Pulled), 4L * PerPartition);

        // In flight at most: 12 channels between the threads and 4 outputs, 8 messages of 1,024 each, the exchanges' open batches,
        // each partition's ingress batch, and the merge's output batch; far below the 2M offered.
        long bound = (12 + 4) * 8 * BatchSize + (4 * 8 * BatchSize);
        Assert.True(pulled <= bound, $"The partitions were read to {pulled:N0} readings while the sink was blocked; the channels should hold them at {bound:N0}.");
        Assert.True(pulled >= BatchSize, $"The partitions gave only {pulled} readings.");
    }

    /// <summary>A partition that counts how far it was read: every reading a sensor of its own, 10 per millisecond.</summary>
    private sealed class PulledReadings(int partition, int count) : IEnumerable<Reading>
    {
        private long _pulled;

        public long Pulled => Interlocked.Read(ref _pulled);

        public IEnumerator<Reading> GetEnumerator()
        {
            for (int i = 0; i < count; i++)
            {
                Interlocked.Increment(ref _pulled);
                yield return new Reading(PartitionedReadings.Origin + (i * 1_000L), ((long)i * 4) + partition, 1);
            }
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
