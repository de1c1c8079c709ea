using System.Diagnostics.Metrics;
using LinqStream.Testing.Io;

namespace LinqStream.Tests.Diagnostics;

/// <summary>
/// <see cref="JobMetrics"/> against a LINQ-to-objects reference: random, out-of-order input with ties and huge keys through a
/// filter and a tumbling count, counted per operator, per source and per job.
/// </summary>
public sealed class JobMetricsTests
{
    private const long WindowTicks = 1_000;

    public sealed record Reading(long Time, long Key, int Value);

    [Theory]
    [InlineData(1, 5_000)]
    [InlineData(2, 20_000)]
    [InlineData(3, 1)]
    [InlineData(4, 0)]
    public async Task Snapshot_RandomInput_CountsMatchTheReference(int seed, int count)
    {
        var input = RandomInput(seed, count);
        var expected = Reference(input);
        using var metrics = new JobMetrics("test");
        var sink = new MemorySink<Counted>();

        await using (var job = Query(input).ToJob(sink, new JobOptions { Metrics = metrics }))
        {
            await job.RunAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }

        var snapshot = metrics.Snapshot();
        var from = snapshot.Operators.Single(o => o.Name == "From");
        var where = snapshot.Operators.Single(o => o.Name == "Where");
        var root = snapshot.Operators.Single(o => o.Id == 0);
        Assert.Equal(count, snapshot.EventsIn);
        Assert.Equal(expected.Late, snapshot.LateEvents);
        Assert.Equal(count, from.EventsIn);
        Assert.Equal(expected.Kept, from.EventsOut);
        Assert.Equal(expected.Kept, where.EventsIn);
        Assert.Equal(expected.Filtered, where.EventsOut);
        Assert.Equal(expected.Filtered, root.EventsIn);
        Assert.Equal(expected.Windows, root.EventsOut);
        Assert.Equal(expected.Windows, snapshot.EventsOut);
        Assert.Equal(expected.Windows, sink.Items.Count);
        Assert.Equal([where.Id], root.Inputs);
        Assert.Equal([from.Id], where.Inputs);
        Assert.Empty(from.Inputs);
        Assert.Equal("events", Assert.Single(snapshot.Sources).Name);
        Assert.True(Assert.Single(snapshot.Sources).Completed);
    }

    [Fact]
    public async Task Instruments_AfterARun_ReportTheSnapshotsCountsWithJobAndOperatorTags()
    {
        var input = RandomInput(7, 3_000);
        var expected = Reference(input);
        using var metrics = new JobMetrics("tagged");
        var measured = new List<(string Name, long Value, Dictionary<string, object?> Tags)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == JobMetrics.MeterName)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var copy = new Dictionary<string, object?>();
            foreach (var tag in tags)
            {
                copy[tag.Key] = tag.Value;
            }

            lock (measured)
            {
                measured.Add((instrument.Name, value, copy));
            }
        });
        listener.Start();

        await using (var job = Query(input).ToJob(new MemorySink<Counted>(), new JobOptions { Metrics = metrics }))
        {
            await job.RunAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }

        listener.RecordObservableInstruments();

        var jobIn = Assert.Single(measured, m => m.Name == "linqstream.job.events.in" && (string?)m.Tags["job"] == "tagged");
        Assert.Equal(3_000, jobIn.Value);
        var operatorOut = measured.Where(m => m.Name == "linqstream.operator.events.out" && (string?)m.Tags["job"] == "tagged").ToDictionary(m => (string)m.Tags["operator"]!, m => m.Value);
        Assert.Equal(expected.Windows, operatorOut["0 TumblingWindowAggregate"]);
        Assert.Equal(expected.Filtered, operatorOut["1 Where"]);
        Assert.Equal(expected.Kept, operatorOut["2 From"]);
        Assert.Equal(expected.Late, Assert.Single(measured, m => m.Name == "linqstream.source.late_events" && (string?)m.Tags["job"] == "tagged").Value);
    }

    [Fact]
    public async Task Checkpoints_EveryThousandEvents_AreRecordedWithTheSizeOfTheStoredFile()
    {
        string directory = Directory.CreateTempSubdirectory("linqstream-metrics-").FullName;
        try
        {
            var input = RandomInput(11, 10_000);
            using var metrics = new JobMetrics("checkpointed");
            var store = new DirectoryCheckpointStore(directory);
            JobResult result;
            await using (var job = Query(input).ToJob(new MemorySink<Counted>(), new JobOptions { Metrics = metrics, Checkpoints = store, CheckpointEveryEvents = 1_000 }))
            {
                result = await job.RunAsync().WaitAsync(TimeSpan.FromSeconds(60));
            }

            var snapshot = metrics.Snapshot();
            Assert.True(result.Checkpoints >= 5, $"{result.Checkpoints} checkpoints");
            Assert.Equal(result.Checkpoints, snapshot.Checkpoints.Count);
            var last = snapshot.Checkpoints[^1];
            Assert.Equal(store.List()[0], last.Id);
            Assert.Equal(new FileInfo(store.Describe(last.Id)).Length, last.Bytes);
            Assert.True(snapshot.StateBytes > 0 && snapshot.StateBytes < last.Bytes, $"{snapshot.StateBytes} bytes of state in a {last.Bytes}-byte checkpoint");
            Assert.NotNull(snapshot.LastCheckpointAge);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Attach_SameMetricsForTwoJobs_Throws()
    {
        using var metrics = new JobMetrics("once");
        await using var first = Query(RandomInput(1, 10)).ToJob(new MemorySink<Counted>(), new JobOptions { Metrics = metrics });

        var error = Assert.Throws<InvalidOperationException>(() => Query(RandomInput(1, 10)).ToJob(new MemorySink<Counted>(), new JobOptions { Metrics = metrics }));

        Assert.Contains("one JobMetrics per job", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void Constructor_NoJobName_ThrowsForJob(string? job)
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => new JobMetrics(job!));

        Assert.Equal("job", error.ParamName);
    }

    public sealed record Counted(long Key, int Count, DateTimeOffset End);

    private static IQStream<Counted> Query(IReadOnlyList<Reading> input) =>
        from r in QStream.From(input, r => r.Time, IngressPolicy.Drop, "events").Where(r => r.Value % 3 != 0).TumblingWindow(TimeSpan.FromTicks(WindowTicks))
        group r by r.Key into g
        select new Counted(g.Key, g.Count(), g.Window.End);

    /// <summary>Mostly rising times with ties, one event in eight far behind (late under Drop), keys near long.MaxValue.</summary>
    private static Reading[] RandomInput(int seed, int count)
    {
        var random = new Random(seed);
        var input = new Reading[count];
        long time = 1_000_000;
        for (int i = 0; i < count; i++)
        {
            time += random.Next(0, 3) == 0 ? 0 : random.Next(1, 400);
            long t = random.Next(8) == 0 ? time - random.Next(1, 5_000) : time;
            input[i] = new Reading(t, long.MaxValue - random.Next(0, 7), random.Next(0, 1_000));
        }

        return input;
    }

    /// <summary>Drop: an event earlier than the latest time seen is late; the rest are filtered, then counted per (window, key).</summary>
    private static (long Late, long Kept, long Filtered, long Windows) Reference(IReadOnlyList<Reading> input)
    {
        long max = long.MinValue;
        var kept = new List<Reading>();
        foreach (var r in input)
        {
            if (r.Time < max)
            {
                continue;
            }

            max = r.Time;
            kept.Add(r);
        }

        var filtered = kept.Where(r => r.Value % 3 != 0).ToList();
        long windows = filtered.Select(r => (Window: r.Time / WindowTicks, r.Key)).Distinct().LongCount();
        return (input.Count - kept.Count, kept.Count, filtered.Count, windows);
    }
}
