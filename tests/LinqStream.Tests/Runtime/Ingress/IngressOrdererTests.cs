using LinqStream.Runtime;
using LinqStream.Runtime.Egress;
using LinqStream.Runtime.Ingress;
using LinqStream.Tests.Infrastructure;

namespace LinqStream.Tests.Runtime.Ingress;

public sealed class IngressOrdererTests
{
    private static (long Time, int Id)[] Shuffled(int count, int maxDelay, int seed)
    {
        var random = new Random(seed);
        // In-order times, each displaced by up to maxDelay into the past: bounded disorder.
        return Enumerable.Range(0, count).Select(i => (Time: Math.Max(0L, i * 10L - random.Next(0, maxDelay + 1)), Id: i)).ToArray();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(64)]
    [InlineData(4096)]
    public void Reorder_DisorderWithinBound_SortsEverythingAndLosesNothing(int batchSize)
    {
        var input = Shuffled(20_000, 500, batchSize);
        var stats = new IngressStatistics();
        var source = Harness.Source(input, x => x.Time, IngressPolicy.Reorder(TimeSpan.FromTicks(500)).WithStatistics(stats));
        var output = Harness.Run(source, Harness.Options(batchSize));

        var expected = input.OrderBy(x => x.Time).ThenBy(x => x.Id).Select(x => new StreamEvent<(long, int)>(x.Time, x.Time + 1, x)).ToList();
        Assert.Equal(expected, output.Events);
        Assert.Equal(0, stats.Late);
        Assert.Equal(input.Length, stats.Events);
    }

    [Fact]
    public void Reorder_EventLaterThanBound_IsDroppedAndCounted()
    {
        (long Time, int Id)[] input = [(100, 0), (200, 1), (300, 2), (150, 3), (400, 4)];
        var stats = new IngressStatistics();
        var source = Harness.Source(input, x => x.Time, IngressPolicy.Reorder(TimeSpan.FromTicks(100)).WithStatistics(stats));
        var output = Harness.Run(source, Harness.Options(1));
        Assert.Equal([0, 1, 2, 4], output.Events.Select(e => e.Payload.Id));
        Assert.Equal(1, stats.Dropped);
    }

    [Fact]
    public void Drop_OutOfOrderEvent_IsDroppedAndCounted()
    {
        (long Time, int Id)[] input = [(100, 0), (90, 1), (100, 2), (101, 3)];
        var stats = new IngressStatistics();
        var output = Harness.Run(Harness.Source(input, x => x.Time, IngressPolicy.Drop.WithStatistics(stats)));
        Assert.Equal([0, 2, 3], output.Events.Select(e => e.Payload.Id));
        Assert.Equal(1, stats.Dropped);
        Assert.Equal(1, stats.Late);
    }

    [Fact]
    public void Adjust_OutOfOrderEvent_MovesToWatermark()
    {
        (long Time, int Id)[] input = [(100, 0), (90, 1), (101, 2)];
        var stats = new IngressStatistics();
        var output = Harness.Run(Harness.Source(input, x => x.Time, IngressPolicy.Adjust.WithStatistics(stats)));
        Assert.Equal([100L, 100L, 101L], output.Events.Select(e => e.Start));
        Assert.Equal(1, stats.Adjusted);
    }

    [Fact]
    public void Throw_OutOfOrderEvent_FailsNamingPositionLatenessAndPolicy()
    {
        (long Time, int Id)[] input = [(100, 0), (200, 1), (150, 2)];
        var output = Harness.Run(Harness.Source(input, x => x.Time), expectError: true);
        var error = Assert.IsType<LateEventException>(output.Error);
        Assert.Equal(2, error.Position);
        Assert.Equal(TimeSpan.FromTicks(50), error.Lateness);
        Assert.Contains("IngressPolicy.Reorder", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Source_EventTimeSelectorThrows_ReportsSourceAndPosition()
    {
        string?[] input = ["1", "2", null];
        var output = Harness.Run(Harness.Source(input, s => (long)s!.Length), expectError: true);
        var error = Assert.IsType<QueryExecutionException>(output.Error);
        Assert.Contains("event-time selector", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(17)]
    public void Reorder_LateEvents_SameOutputForEveryBatchSize(int seed)
    {
        var input = Shuffled(5000, 900, seed);
        List<int> Run(int batchSize)
        {
            var stats = new IngressStatistics();
            var source = Harness.Source(input, x => x.Time, IngressPolicy.Reorder(TimeSpan.FromTicks(400)).WithStatistics(stats));
            return Harness.Run(source, Harness.Options(batchSize)).Events.Select(e => e.Payload.Id).ToList();
        }

        var one = Run(1);
        Assert.True(one.Count < input.Length, "some events must be later than the delay");
        Assert.Equal(one, Run(7));
        Assert.Equal(one, Run(4096));
    }

    // Issue #19: a batch in time order goes through without the per-event loop; a batch with one late event (anywhere, also
    // its first) takes the loop. Both must give exactly what a plain event-by-event reading of the policy gives.
    [Theory]
    [InlineData(1, IngressPolicyKind.Drop)]
    [InlineData(7, IngressPolicyKind.Drop)]
    [InlineData(64, IngressPolicyKind.Drop)]
    [InlineData(4096, IngressPolicyKind.Drop)]
    [InlineData(7, IngressPolicyKind.Adjust)]
    [InlineData(64, IngressPolicyKind.Adjust)]
    [InlineData(4096, IngressPolicyKind.Adjust)]
    public void InOrderAndLateBatches_GiveWhatTheEventByEventPolicyGives(int batchSize, IngressPolicyKind kind)
    {
        var random = new Random(batchSize * 31 + (int)kind);
        var input = new (long Time, int Id)[20_000];
        long t = 0;
        for (int i = 0; i < input.Length; i++)
        {
            // Long in-order runs with ties; now and then an event from the past (late unless a tie saves it).
            long time = random.Next(200) == 0 ? t - random.Next(1, 50) : (t += random.Next(3));
            input[i] = (time, i);
        }

        var expected = new List<StreamEvent<(long Time, int Id)>>();
        long max = long.MinValue;
        int late = 0;
        foreach (var e in input)
        {
            late += e.Time < max ? 1 : 0;
            if (e.Time >= max)
            {
                max = e.Time;
                expected.Add(new(e.Time, e.Time + 1, e));
            }
            else if (kind == IngressPolicyKind.Adjust)
            {
                expected.Add(new(max, max + 1, e));
            }
        }

        var stats = new IngressStatistics();
        var policy = kind == IngressPolicyKind.Drop ? IngressPolicy.Drop : IngressPolicy.Adjust;
        var output = Harness.Run(Harness.Source(input, x => x.Time, policy.WithStatistics(stats)), Harness.Options(batchSize));
        Assert.True(late > 50, "the input must have late events");
        Assert.Equal(late, stats.Late);
        Assert.Equal(expected, output.Events);
    }

    [Fact]
    public void Reorder_CaptureRestore_MidStream_ContinuesWithExactlyTheSameOutput()
    {
        var input = Shuffled(3000, 300, 5);
        var policy = IngressPolicy.Reorder(TimeSpan.FromTicks(200));

        (IngressOrderer<(long Time, int Id)>, RecordingSink<(long Time, int Id)>, QueryContext) Make()
        {
            var context = new QueryContext(new QueryOptions { BatchSize = 50 });
            var sink = new RecordingSink<(long Time, int Id)>(context);
            return (new IngressOrderer<(long Time, int Id)>(sink, context, policy, "test"), sink, context);
        }

        void Push(IngressOrderer<(long Time, int Id)> orderer, QueryContext context, IEnumerable<(long Time, int Id)> events)
        {
            foreach (var chunk in events.Chunk(50))
            {
                var batch = context.Pool<(long Time, int Id)>().Rent();
                foreach (var e in chunk)
                {
                    batch.Add(e.Time, e.Time + 1, e);
                }

                orderer.Push(batch);
            }
        }

        var (whole, wholeSink, wholeContext) = Make();
        Push(whole, wholeContext, input);
        whole.Complete();

        var (first, firstSink, firstContext) = Make();
        Push(first, firstContext, input.Take(1500));
        var state = first.CaptureState();
        Assert.NotEmpty(state.Held);

        var (second, secondSink, secondContext) = Make();
        second.RestoreState(state);
        Push(second, secondContext, input.Skip(1500));
        second.Complete();

        Assert.Equal(wholeSink.Events, [.. firstSink.Events, .. secondSink.Events]);
        Assert.Equal(0, secondContext.OutstandingBatches());
    }
}
