using LinqStream.Physical.Union;
using LinqStream.Runtime;
using LinqStream.Runtime.Egress;
using LinqStream.Tests.Infrastructure;
using LinqStream.Tests.Physical.Lifetime;

namespace LinqStream.Tests.Physical.Union;

public sealed class UnionStreamTests
{
    public static TheoryData<int, long> Cases => RandomEvents.BatchSizesAndBases();

    /// <summary>Input <paramref name="index"/>: its own density and start, ids made unique across inputs.</summary>
    private static Ev[] Input(int seed, int index, int count, long baseTime) =>
        RandomEvents.Generate(seed * 31 + index, count, 10, baseTime + (index * 500), maxGap: 1 + (index * 3))
            .Select(x => x with { Id = x.Id + (index * 1_000_000) })
            .ToArray();

    private static List<StreamEvent<Ev>> Sorted(IEnumerable<StreamEvent<Ev>> events) =>
        events.OrderBy(e => e.Start).ThenBy(e => e.Payload.Id).ToList();

    [Theory]
    [MemberData(nameof(Cases))]
    public void Union_TwoRandomInputs_MatchesLinqToObjects(int batchSize, long baseTime)
    {
        var left = Input(batchSize, 0, 10_000, baseTime);
        var right = Input(batchSize, 1, 3_000, baseTime);
        var output = Harness.Run(new UnionStream<Ev>(RandomEvents.Source(left), RandomEvents.Source(right)), Harness.Options(batchSize));
        Assert.Equal(Sorted(RandomEvents.AsEvents(left.Concat(right))), Sorted(output.Events));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Union_FiveRandomInputs_MatchesLinqToObjects(int batchSize, long baseTime)
    {
        var inputs = Enumerable.Range(0, 5).Select(i => Input(batchSize, i, 1_000 + (i * 700), baseTime)).ToArray();
        var plan = new UnionStream<Ev>(inputs.Select(i => (PhysicalStream<Ev>)RandomEvents.Source(i)).ToList());
        var output = Harness.Run(plan, Harness.Options(batchSize));
        Assert.Equal(Sorted(RandomEvents.AsEvents(inputs.SelectMany(i => i))), Sorted(output.Events));
    }

    [Fact]
    public void Union_OneInputEmpty_PassesTheOtherThrough()
    {
        var left = Input(1, 0, 5_000, 0);
        var output = Harness.Run(new UnionStream<Ev>(RandomEvents.Source(left), RandomEvents.Source([])), Harness.Options(7));
        Assert.Equal(RandomEvents.AsEvents(left), output.Events);
    }

    [Fact]
    public void Union_BothInputsEmpty_CompletesWithNoEvents() =>
        Assert.Empty(Harness.Run(new UnionStream<Ev>(RandomEvents.Source([]), RandomEvents.Source([]))).Events);

    [Fact]
    public void Union_ManyInputsWithTiedStarts_KeepsEveryEvent()
    {
        var inputs = Enumerable.Range(0, 4).Select(i => Enumerable.Range(0, 3_000).Select(j => new Ev(j / 100, 0, 0, (i * 10_000) + j)).ToArray()).ToArray();
        var plan = new UnionStream<Ev>(inputs.Select(i => (PhysicalStream<Ev>)RandomEvents.Source(i)).ToList());
        var output = Harness.Run(plan, Harness.Options(7));
        Assert.Equal(Sorted(RandomEvents.AsEvents(inputs.SelectMany(i => i)).Select(e => e with { End = e.Start + 1 })), Sorted(output.Events));
    }

    [Fact]
    public void Union_TiesAcrossInputs_ComeOutByInputIndexWhateverArrivesFirst()
    {
        var context = new QueryContext(Harness.Options());
        var sink = new RecordingSink<int>(context);
        var sut = new UnionOperator<int>(sink, context, 3);
        var (a, b, c) = (new ManualStream<int>(), new ManualStream<int>(), new ManualStream<int>());
        a.Connect(sut.Input(0), context);
        b.Connect(sut.Input(1), context);
        c.Connect(sut.Input(2), context);

        // Input 2 first, then 1, then 0 at the same start: the lower inputs may still send an event at 5 (a watermark of 5
        // promises nothing below 5), so nothing at 5 goes out until they have moved past it.
        c.Push((5, 6, 20));
        c.Watermark(5);
        b.Watermark(5);
        a.Watermark(5);
        Assert.Empty(sink.Events);
        b.Push((5, 6, 10), (5, 6, 11));
        a.Push((4, 5, 1), (5, 6, 2)); // input 0 is first at 5: its own later events at 5 would come after this one anyway
        Assert.Equal([1, 2], sink.Events.Select(e => e.Payload));
        a.Watermark(6);
        Assert.Equal([1, 2, 10, 11], sink.Events.Select(e => e.Payload));
        b.Push((7, 8, 12));
        Assert.Equal([1, 2, 10, 11, 20], sink.Events.Select(e => e.Payload));
        c.Watermark(7);
        Assert.Equal([1, 2, 10, 11, 20], sink.Events.Select(e => e.Payload)); // input 0 (frontier 6) may still send a 7
        a.Watermark(8);
        Assert.Equal([1, 2, 10, 11, 20, 12], sink.Events.Select(e => e.Payload));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(64)]
    public void Union_RandomTiesAtAnyBatchSize_OrderIsStartThenInputThenArrival(int batchSize)
    {
        var inputs = Enumerable.Range(0, 4).Select(i => RandomEvents.Generate(batchSize + i, 2_000, 10, 0, maxGap: 2).Select(x => x with { Id = x.Id + (i * 1_000_000) }).ToArray()).ToArray();
        var plan = new UnionStream<Ev>(inputs.Select(i => (PhysicalStream<Ev>)RandomEvents.Source(i)).ToList());
        var output = Harness.Run(plan, Harness.Options(batchSize));
        var expected = RandomEvents.AsEvents(inputs.SelectMany(i => i)).Select((e, n) => (e, n)).OrderBy(x => x.e.Start).ThenBy(x => x.n).Select(x => x.e.Payload.Id);
        Assert.Equal(expected, output.Events.Select(e => e.Payload.Id));
    }

    [Fact]
    public void Union_InputAhead_IsBufferedUntilTheOtherCatchesUp()
    {
        var context = new QueryContext(Harness.Options());
        var sink = new RecordingSink<int>(context);
        var sut = new UnionOperator<int>(sink, context, 2);
        var (left, right) = (new ManualStream<int>(), new ManualStream<int>());
        left.Connect(sut.Input(0), context);
        right.Connect(sut.Input(1), context);

        left.Push((10, 11, 1), (20, 21, 2), (30, 31, 3));
        left.Watermark(30);
        right.Watermark(15);
        Assert.Equal([1], sink.Events.Select(e => e.Payload));
        Assert.Equal([15], sink.Watermarks);
        var state = sut.CaptureState();
        Assert.Equal([new StreamEvent<int>(20, 21, 2), new StreamEvent<int>(30, 31, 3)], state.Inputs[0].Buffered);
        Assert.Empty(state.Inputs[1].Buffered);

        right.Push((20, 21, 4), (25, 26, 5));
        Assert.Equal([10, 20, 20, 25], sink.Events.Select(e => e.Start));
        Assert.Equal([15], sink.Watermarks);

        right.Complete();
        Assert.Equal([10, 20, 20, 25, 30], sink.Events.Select(e => e.Start));
        Assert.Equal([15, 30], sink.Watermarks);
        Assert.False(sink.Completed);

        left.Complete();
        Assert.True(sink.Completed);
        Assert.Equal([15, 30, long.MaxValue], sink.Watermarks);
        Assert.Null(sink.Violation);
        Assert.All(sut.CaptureState().Inputs, i => Assert.Empty(i.Buffered));
        Assert.Equal(0, context.OutstandingBatches());
    }

    [Fact]
    public void Union_StateCapturedMidRunAndRestored_FinishesLikeAnUninterruptedRun()
    {
        var first = new QueryContext(Harness.Options(7));
        var firstSink = new RecordingSink<int>(first);
        var before = new UnionOperator<int>(firstSink, first, 2);
        var (left, right) = (new ManualStream<int>(), new ManualStream<int>());
        left.Connect(before.Input(0), first);
        right.Connect(before.Input(1), first);
        left.Push([.. Enumerable.Range(0, 20).Select(i => (i * 10L, (i * 10L) + 1, i))]);
        left.Complete();
        right.Push((5, 6, 100), (25, 26, 101));
        right.Watermark(40);
        var state = before.CaptureState();
        Assert.Equal(15, state.Inputs[0].Buffered.Count);

        var second = new QueryContext(Harness.Options(7));
        var secondSink = new RecordingSink<int>(second);
        var after = new UnionOperator<int>(secondSink, second, 2);
        after.RestoreState(state);
        var rightAgain = new ManualStream<int>();
        rightAgain.Connect(after.Input(1), second);
        rightAgain.Push((45, 46, 102), (195, 196, 103));
        rightAgain.Complete();

        var all = firstSink.Events.Concat(secondSink.Events).ToList();
        Assert.Equal(all.OrderBy(e => e.Start).ThenBy(e => e.Payload), all);
        Assert.Equal(24, all.Count);
        Assert.True(secondSink.Completed);
        Assert.Equal(0, second.OutstandingBatches()); // the abandoned first run still owns the batches it buffered
    }

    [Fact]
    public void Union_CompletedRandomRun_LeavesNoState()
    {
        var context = new QueryContext(Harness.Options(7));
        var sink = new RecordingSink<Ev>(context);
        var sut = new UnionOperator<Ev>(sink, context, 3);
        var inputs = Enumerable.Range(0, 3).Select(i => Input(5, i, 4_000, -1_000_000_000_000_000)).ToArray();
        for (int i = 0; i < inputs.Length; i++)
        {
            RandomEvents.Source(inputs[i]).Connect(sut.Input(i), context);
        }

        new QueryRunner(context).Run();

        Assert.True(sink.Completed);
        Assert.Null(sink.Violation);
        Assert.Equal(12_000, sink.Events.Count);
        var state = sut.CaptureState();
        Assert.Equal(long.MaxValue, state.OutputWatermark);
        Assert.All(state.Inputs, i => Assert.Empty(i.Buffered));
        Assert.Equal(0, context.OutstandingBatches());
    }

    [Fact]
    public void Union_ErrorFromBothInputs_GoesDownstreamOnceAndFreesBuffers()
    {
        var context = new QueryContext(Harness.Options());
        var (left, right) = (new ManualStream<int>(), new ManualStream<int>());
        var errors = new ErrorCountingSink(context);
        new UnionStream<int>(left, right).Connect(errors, context);

        left.Push((10, 11, 1), (20, 21, 2));
        left.Observer.OnError(new InvalidOperationException("left"));
        right.Observer.OnError(new InvalidOperationException("right"));
        right.Push((5, 6, 3));
        right.Complete();

        Assert.Equal(["left"], errors.Errors.Select(e => e.Message));
        Assert.False(errors.Completed);
        Assert.Equal(0, context.OutstandingBatches());
    }

    private sealed class ErrorCountingSink(QueryContext context) : IStreamObserver<int>
    {
        public List<Exception> Errors { get; } = [];

        public bool Completed { get; private set; }

        public void OnBatch(EventBatch<int> batch) => context.Pool<int>().Return(batch);

        public void OnWatermark(long watermark)
        {
        }

        public void OnCompleted() => Completed = true;

        public void OnError(Exception error) => Errors.Add(error);
    }
}
