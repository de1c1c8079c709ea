namespace LinqStream.Tests.Runtime.Checkpoints;

/// <summary>
/// <see cref="EventsSinceCheckpoint"/>, the one count of <see cref="JobOptions.CheckpointEveryEvents"/> for jobs whose sources are
/// read on tasks (<c>ToJob</c> at P &gt; 1, <c>ToParallelSinkJob</c>): against a plain reference (the sum of each task's last report)
/// on random reports from several parts and tasks, with re-arming as the jobs do it, huge counts and indices, and from threads.
/// </summary>
public sealed class EventsSinceCheckpointTests
{
    [Theory]
    [InlineData(1, 1, 1, 1)]
    [InlineData(2, 1, 4, 100)]
    [InlineData(3, 3, 2, 1_000)]
    [InlineData(4, 2, 8, 7)]
    [InlineData(5, 4, 3, 5_000)]
    public void Signals_OnceEachTimeAllTasksTogetherHaveReadEveryMoreSinceItWasArmed(int seed, int parts, int tasksPerPart, long every)
    {
        var random = new Random(seed);
        int signals = 0;
        var counter = new EventsSinceCheckpoint(every, () => signals++);
        var last = new Dictionary<(int Part, int Task), long>();
        long? mark = null; // the reference: armed at what total plus every, or not armed
        int expectedSignals = 0;
        for (int step = 0; step < 20_000; step++)
        {
            // A job arms at a checkpoint: at what the tasks have reported (ParallelSinkJob) or at what its sources say, which may be
            // ahead of the reports (QueryJob); sometimes between two signals, sometimes never for a while.
            if (random.Next(50) == 0)
            {
                long at = counter.Read + (random.Next(3) == 0 ? random.Next(0, (int)Math.Min(every, 1_000)) : 0);
                counter.Arm(at);
                mark = at + every;
            }

            int part = random.Next(parts), task = random.Next(tasksPerPart);
            last.TryGetValue((part, task), out long before);
            long read = before + (random.Next(4) == 0 ? 0 : random.Next(1, (int)Math.Min(every * 2, 10_000) + 1)); // a step may read nothing
            counter.Stepped(part, task, read);
            last[(part, task)] = read;

            long total = last.Values.Sum();
            Assert.Equal(total, counter.Read);
            if (mark is { } due && total >= due)
            {
                expectedSignals++;
                mark = null; // once, until armed again
            }

            Assert.Equal(expectedSignals, signals);
        }

        Assert.True(expectedSignals > 10, $"only {expectedSignals} signals: the input does not test re-arming");
    }

    [Fact]
    public void NeverSignals_BeforeItIsArmed_AndAnArmingAlreadyPassedSignalsAtTheNextReport()
    {
        int signals = 0;
        var counter = new EventsSinceCheckpoint(10, () => signals++);
        counter.Stepped(0, 0, 1_000_000);
        Assert.Equal(0, signals);

        counter.Arm(0); // the mark (10) is behind the reports: the next report signals, even one that reads nothing more
        Assert.Equal(0, signals);
        counter.Stepped(0, 0, 1_000_000);
        Assert.Equal(1, signals);
        counter.Stepped(0, 0, 2_000_000);
        Assert.Equal(1, signals);

        counter.Arm(long.MaxValue - 5); // no overflow into a mark in the past
        counter.Stepped(0, 1, long.MaxValue - 2_000_001);
        Assert.Equal(long.MaxValue - 1, counter.Read);
        Assert.Equal(1, signals);
    }

    [Fact]
    public void TasksOfDifferentParts_AreCountedApart_AlsoAtHugeIndices()
    {
        int signals = 0;
        var counter = new EventsSinceCheckpoint(1_000, () => signals++);
        counter.Arm(0);
        counter.Stepped(0, 1, 500);
        counter.Stepped(1, 1, 499); // the same task index in another part: 999 together, not 499
        Assert.Equal(999, counter.Read);
        Assert.Equal(0, signals);
        counter.Stepped(int.MaxValue, int.MaxValue, 1);
        Assert.Equal(1_000, counter.Read);
        Assert.Equal(1, signals);
        counter.Stepped(0, int.MaxValue, 7); // not the task (int.MaxValue, int.MaxValue)
        Assert.Equal(1_007, counter.Read);
    }

    [Fact]
    public void Every_BelowOne_IsRefused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new EventsSinceCheckpoint(0, () => { }));

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    public void FromSeveralThreads_SignalsExactlyOncePerArming_AndCountsEveryReport(int threads)
    {
        // Each thread is a source task reporting its growing count after each step; the mark is crossed once, by whichever
        // report gets there, however the threads interleave.
        const int PerThread = 20_000;
        int signals = 0;
        var counter = new EventsSinceCheckpoint(PerThread * threads / 2, () => Interlocked.Increment(ref signals));
        counter.Arm(0);
        using var start = new System.Threading.Barrier(threads);
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            var random = new Random(t);
            start.SignalAndWait();
            long read = 0;
            while (read < PerThread)
            {
                read = Math.Min(PerThread, read + random.Next(0, 64));
                counter.Stepped(t % 2, t, read);
            }
        })).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());

        Assert.Equal(1, signals);
        Assert.Equal((long)PerThread * threads, counter.Read);
    }
}
