using LinqStream.Testing.Io;

namespace LinqStream.Conformance.Tests.Parallel;

/// <summary>A sensor reading: the input of the job tests over partitions at parallelism above 1.</summary>
public sealed record Reading(long Time, long Sensor, int Value);

/// <summary>
/// The random partitioned input, its replayable sources and the keyed queries that <see cref="PartitionedJobTests"/>,
/// <see cref="ParallelSinkJobTests"/> and <see cref="KeyedSinkJobTests"/> share.
/// </summary>
internal static class PartitionedReadings
{
    /// <summary>The order-dependent aggregate (one phase: a fold, a double sum), as <see cref="Keyed"/> names it.</summary>
    public const string OnePhase = "order-dependent";

    /// <summary>The aggregate that merges exactly (two phases: counts, integer minimum and maximum over hopping windows).</summary>
    public const string TwoPhase = "two-phase";

    /// <summary>
    /// An aggregate whose answer does not depend on the order of events but which keeps one phase (counts, integer minimum and
    /// maximum over a hopping window whose size is no multiple of its hop: no panes): the tasks take the source tasks' events as they come.
    /// </summary>
    public const string AsTheyCome = "as-they-come";

    public static readonly long Origin = new DateTime(2026, 1, 1).Ticks;

    /// <summary>
    /// Random readings over <paramref name="partitions"/> partitions, each out of order by up to 1 s (never late under
    /// Reorder(2 s)), many ties on one tick across partitions, extreme sensors (long.MinValue, long.MaxValue, -1, 0), sensor 0
    /// with half of them when <paramref name="skewed"/>; with 4 or more partitions the second is empty, and with
    /// <paramref name="lastEndsEarly"/> the last partition gets only the first fifth of the time range.
    /// </summary>
    public static Reading[][] Generate(int seed, int partitions, int count, bool skewed = false, bool lastEndsEarly = false)
    {
        var random = new Random(seed);
        var lists = Enumerable.Range(0, partitions).Select(_ => new List<Reading>()).ToArray();
        long[] extremes = [long.MinValue, long.MaxValue, -1, 0];
        for (int i = 0; i < count; i++)
        {
            long time = Origin + (i * TimeSpan.TicksPerSecond / 200) - random.NextInt64(0, TimeSpan.TicksPerSecond);
            time -= time % (TimeSpan.TicksPerSecond / 20);
            long sensor = skewed && random.Next(2) == 0 ? 0
                : random.Next(10) == 0 ? extremes[random.Next(extremes.Length)]
                : random.NextInt64(1, 300);
            int partition = random.Next(partitions);
            if ((lastEndsEarly && partition == partitions - 1 && i > count / 5) || (partitions >= 4 && partition == 1))
            {
                partition = 0;
            }

            lists[partition].Add(new Reading(time, sensor, random.Next(-1000, 1000)));
        }

        return [.. lists.Select(l => l.ToArray())];
    }

    /// <summary>
    /// Partitions of <paramref name="counts"/> readings each, every partition over the same 12 s in order (so partitions of
    /// different sizes tie on many ticks), random sensors including negative ones and random values.
    /// </summary>
    public static Reading[][] OfSizes(int seed, params int[] counts)
    {
        var random = new Random(seed);
        return [.. counts.Select(count => Enumerable.Range(0, count)
            .Select(i => new Reading(Origin + (i * (12_000L / count) * TimeSpan.TicksPerMillisecond), random.NextInt64(-5, 300), random.Next(-1000, 1000)))
            .ToArray())];
    }

    /// <summary>
    /// Makes <paramref name="source"/> wait at its event <paramref name="at"/> until <paramref name="lastCheckpoint"/> is above 0 (at
    /// most 30 s), so that a job takes a checkpoint before its input ends however its threads are scheduled.
    /// </summary>
    public static void HoldUntilACheckpoint(ArrayEventSource<Reading> source, int at, Func<long> lastCheckpoint) =>
        source.BeforeRead = async (index, cancellationToken) =>
        {
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (index >= at && lastCheckpoint() == 0 && waited.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(5, cancellationToken);
            }
        };

    /// <summary>A replayable source per partition, reading 1 to 119 events at a time (random) or a fixed number per partition; <paramref name="failIn"/> fails at <paramref name="failAt"/>.</summary>
    public static ArrayEventSource<Reading>[] Sources(Reading[][] data, Random? random = null, int failIn = -1, int failAt = -1) =>
        [.. data.Select((p, i) => new ArrayEventSource<Reading>(p, "readings-" + i)
        {
            MaxRead = random?.Next(1, 120) ?? 50 + (i * 37),
            FailAt = i == failIn ? failAt : -1,
        })];

    /// <summary>The partitions as one stream (each with its own ingress, <c>Reorder(2 s)</c>), without the filter.</summary>
    public static IQStream<Reading> Union(IReadOnlyList<ArrayEventSource<Reading>> partitions) =>
        QStream.From([.. partitions.Cast<EventSource<Reading>>()], r => r.Time, IngressPolicy.Reorder(TimeSpan.FromSeconds(2)), name: "readings");

    /// <summary>
    /// Runs <paramref name="query"/> (made anew for each run) as a job at <paramref name="from"/> with checkpoints in
    /// <paramref name="store"/>, stops it two thirds through <paramref name="reference"/> (or later, once a checkpoint exists), restores it at <paramref name="to"/>,
    /// and asserts the restored run went on from the last checkpoint and the sink holds exactly <paramref name="reference"/>.
    /// </summary>
    public static async Task AssertRestoresAtAnotherParallelism(Func<IQStream<string>> query, IReadOnlyList<string> reference, CheckpointStore store, int from, int to)
    {
        var options = new QueryOptions { BatchSize = 64, Strict = true };
        var sink = new MemorySink<string>();
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        long checkpointId;
        // Stopped two thirds through, or at the first write after that once the newest checkpoint holds output. A checkpoint
        // taken before the first result restores to a run that writes everything, which looks the same as starting over: under
        // load the first barrier (the 20 ms interval) came before any output and its file, stored off the job's loop (fsynced,
        // 100-500 ms on a loaded machine), was the newest one at two thirds (2 to 4 of 10 runs: "wrote 13383 of 13383").
        // So from a third through, while the newest checkpoint holds no output, the sink slows down (10 ms per write): the
        // bounded channels hold the source tasks back, so the input has not ended when the next barriers come through.
        QueryJob<string>? running = null;
        sink.AfterWrite = written =>
        {
            if (written >= reference.Count / 3)
            {
                bool holdsOutput = running is { LastCheckpointId: > 0 and var id } && sink.HeldAt(id) > 0;
                if (holdsOutput && written >= reference.Count * 2 / 3)
                {
                    stop.Cancel();
                }
                else if (!holdsOutput)
                {
                    Thread.Sleep(10);
                }
            }
        };
        await using (var job = query().WithOptions(options).ToJob(sink, new JobOptions { Checkpoints = store, CheckpointEveryEvents = 1_500, CheckpointInterval = TimeSpan.FromMilliseconds(20), Parallelism = from }))
        {
            running = job;
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => job.RunAsync(stop.Token));
            checkpointId = job.LastCheckpointId;
            Assert.True(checkpointId > 0, $"no checkpoint was taken at parallelism {from}");
            Assert.True(sink.HeldAt(checkpointId) > 0, $"checkpoint {checkpointId} at parallelism {from} was taken before any output");
        }

        sink.AfterWrite = null;
        await using var restored = query().WithOptions(options).ToJob(sink, new JobOptions { Checkpoints = store, Parallelism = to });
        var result = await restored.RunAsync();
        Assert.Equal(to, result.Parallelism);
        Assert.Equal(checkpointId, result.RestoredFrom);
        Assert.True(result.Results < reference.Count, $"the restored run at {to} wrote {result.Results} of {reference.Count}: it started over");
        Assert.True(sink.Completed);
        Assert.Equal(reference, sink.Items);
    }

    /// <summary>A keyed window aggregate over <paramref name="readings"/>: "window-start sensor ..." per window and sensor.</summary>
    public static IQStream<string> Keyed(string plan, IQStream<Reading> readings) =>
        plan == AsTheyCome
            ? from r in readings.HoppingWindow(TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(700))
              group r by r.Sensor into g
              select $"{g.Window.StartTicks} {g.Key} {g.Count()} {g.Min(r => r.Value)} {g.Max(r => r.Value)}"
        : plan == TwoPhase
            ? from r in readings.HoppingWindow(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1))
              group r by r.Sensor into g
              select $"{g.Window.StartTicks} {g.Key} {g.Count()} {g.Count(r => r.Value > 0)} {g.Min(r => r.Value)} {g.Max(r => r.Value)}"
            : from r in readings.TumblingWindow(TimeSpan.FromSeconds(1))
              group r by r.Sensor into g
              select $"{g.Window.StartTicks} {g.Key} {g.Count()} {g.Sum(r => (long)r.Value)} {g.Aggregate(17L, (a, r) => (a * 31) + r.Value)} {g.Sum(r => r.Value * 0.1):R}";

    /// <summary>
    /// Random readings (<see cref="Generate"/>: out of order by up to 1 s, ties, extreme sensors, skew) with
    /// no reading from 8 s to 11 s (empty windows), each written to the partition <see cref="KeyPartitioner"/> gives its sensor.
    /// </summary>
    public static Reading[][] ByKey(int seed, int partitions, bool skewed, int count = 6_000, int keyGroups = 128)
    {
        var lists = Enumerable.Range(0, partitions).Select(_ => new List<Reading>()).ToArray();
        foreach (var r in Generate(seed, 1, count, skewed)[0])
        {
            long second = (r.Time - Origin) / TimeSpan.TicksPerSecond;
            if (second is < 8 or >= 11)
            {
                lists[KeyPartitioner.PartitionOf(r.Sensor, partitions, keyGroups)].Add(r);
            }
        }

        return [.. lists.Select(l => l.ToArray())];
    }

    /// <summary>Moves one reading (from the middle, one the query's filter keeps) of partition <paramref name="from"/> to the same time's place in partition <paramref name="to"/>; also returns the data without it.</summary>
    public static (Reading[][] Moved, Reading[][] Without) Move(Reading[][] data, int from, int to)
    {
        int index = Array.FindIndex(data[from], data[from].Length / 2, r => r.Value % 5 != 0);
        var reading = data[from][index];
        var moved = data.Select(p => p.ToList()).ToArray();
        moved[from].RemoveAt(index);
        int at = moved[to].FindIndex(r => r.Time >= reading.Time);
        moved[to].Insert(at < 0 ? moved[to].Count : at, reading);
        var without = data.Select(p => p.ToList()).ToArray();
        without[from].RemoveAt(index);
        return ([.. moved.Select(p => p.ToArray())], [.. without.Select(p => p.ToArray())]);
    }

    /// <summary>The dead letters a query wrote (from any task thread).</summary>
    public sealed class Letters : IDeadLetterSink
    {
        private readonly List<DeadLetter> _items = [];

        public IReadOnlyList<DeadLetter> Items
        {
            get
            {
                lock (_items)
                {
                    return [.. _items];
                }
            }
        }

        public void Write(DeadLetter letter)
        {
            lock (_items)
            {
                _items.Add(letter);
            }
        }
    }
}
