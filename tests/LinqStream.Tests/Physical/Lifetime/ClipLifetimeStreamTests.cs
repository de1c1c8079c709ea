using System.Linq.Expressions;
using LinqStream.Physical.Kernels;
using LinqStream.Physical.Lifetime;
using LinqStream.Runtime;
using LinqStream.Runtime.Egress;
using LinqStream.Tests.Infrastructure;

namespace LinqStream.Tests.Physical.Lifetime;

public sealed class ClipLifetimeStreamTests
{
    private static readonly Expression<Func<Ev, int>> s_key = x => x.Key;

    public static TheoryData<int, long> Cases => RandomEvents.BatchSizesAndBases();

    private static ClipLifetimeStream<Ev, int> CreateSut(Ev[] input) => new(RandomEvents.Source(input), s_key);

    /// <summary>Each event ends at the first strictly later start of its key, if that comes before its own end.</summary>
    private static List<StreamEvent<Ev>> Oracle(Ev[] input)
    {
        var events = RandomEvents.AsEvents(input);
        var nextStart = events
            .GroupBy(e => e.Payload.Key)
            .SelectMany(g =>
            {
                var starts = g.Select(e => e.Start).Distinct().ToArray();
                return starts.Select((s, i) => (Key: g.Key, Start: s, Next: i + 1 < starts.Length ? starts[i + 1] : long.MaxValue));
            })
            .ToDictionary(x => (x.Key, x.Start), x => x.Next);
        return events.Select(e => e with { End = Math.Min(e.End, nextStart[(e.Payload.Key, e.Start)]) }).ToList();
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ClipLifetime_OneKey_MatchesLinqToObjects(int batchSize, long baseTime)
    {
        var input = RandomEvents.Generate(batchSize, 10_000, 1, baseTime, maxDuration: 12, infiniteRate: 0.3);
        var output = Harness.Run(CreateSut(input), Harness.Options(batchSize));
        Assert.Equal(Oracle(input), output.Events);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ClipLifetime_TenThousandKeys_MatchesLinqToObjects(int batchSize, long baseTime)
    {
        var input = RandomEvents.Generate(batchSize + 5, 40_000, 10_000, baseTime, maxDuration: 30_000, infiniteRate: 0.2);
        var output = Harness.Run(CreateSut(input), Harness.Options(batchSize));
        Assert.Equal(Oracle(input), output.Events);
    }

    [Fact]
    public void ClipLifetime_TiedStartsOfOneKey_AreBothClippedByTheNextLaterStart()
    {
        Ev[] input = [new(10, long.MaxValue, 1, 0), new(10, long.MaxValue, 1, 1), new(10, long.MaxValue, 2, 2), new(15, 100, 1, 3)];
        var output = Harness.Run(CreateSut(input), Harness.Options(1));
        Assert.Equal(
            [(10L, 15L, 0), (10L, 15L, 1), (10L, long.MaxValue, 2), (15L, 100L, 3)],
            output.Events.Select(e => (e.Start, e.End, e.Payload.Id)));
    }

    [Fact]
    public void ClipLifetime_EmptyInput_CompletesWithNoEvents() =>
        Assert.Empty(Harness.Run(CreateSut([])).Events);

    [Fact]
    public void ClipLifetime_UndecidedEvent_HoldsOutputWatermarkAtItsStart()
    {
        var source = new ManualStream<int>();
        var context = new QueryContext(Harness.Options());
        var sink = ManualStream<int>.Wire(new ClipLifetimeStream<int, int>(source, (Expression<Func<int, int>>)(x => x % 2)), context);

        source.Push((10, long.MaxValue, 0), (12, 50, 1));
        source.Watermark(20);
        Assert.Empty(sink.Events);
        Assert.Equal([10], sink.Watermarks);

        source.Push((30, long.MaxValue, 2));
        source.Watermark(31);
        // Event 0 is clipped at 30 and goes; event 1 (end 50) is undecided and now holds the watermark.
        Assert.Equal([(10L, 30L, 0)], sink.Events.Select(e => (e.Start, e.End, e.Payload)));
        Assert.Equal([10, 12], sink.Watermarks);

        source.Watermark(50);
        Assert.Equal((12L, 50L, 1), (sink.Events[1].Start, sink.Events[1].End, sink.Events[1].Payload));
        Assert.Equal([10, 12, 30], sink.Watermarks);

        source.Complete();
        Assert.Equal((30L, long.MaxValue, 2), (sink.Events[2].Start, sink.Events[2].End, sink.Events[2].Payload));
        Assert.Equal(long.MaxValue, sink.Watermarks[^1]);
        Assert.True(sink.Completed);
        Assert.Null(sink.Violation);
        Assert.Equal(0, context.OutstandingBatches());
    }

    [Fact]
    public void ClipLifetime_MidRun_StateListsHeldEventsAndCompletedRunLeavesNone()
    {
        var context = new QueryContext(Harness.Options());
        var sink = new RecordingSink<int>(context);
        var source = new ManualStream<int>();
        var sut = new ClipLifetimeOperator<int, int>(sink, context, ColumnKernel.Compile<int, int>((Expression<Func<int, int>>)(x => x % 2)), "x => x % 2");
        source.Connect(sut, context);

        source.Push((10, long.MaxValue, 0), (12, 50, 1), (30, long.MaxValue, 2));
        source.Watermark(31);
        var state = sut.CaptureState();
        Assert.Equal(31, state.InputWatermark);
        Assert.Equal(12, state.OutputWatermark);
        Assert.Equal([new ClipHeldEvent<int, int>(12, 50, 1, 1, false), new ClipHeldEvent<int, int>(30, long.MaxValue, 0, 2, false)], state.Held);
        Assert.Equal(2, sut.PendingKeyCount);

        source.Complete();
        Assert.Empty(sut.CaptureState().Held);
        Assert.Equal(0, sut.PendingKeyCount);
    }

    [Fact]
    public void ClipLifetime_CompletedRandomRun_LeavesNoState()
    {
        var input = RandomEvents.Generate(11, 20_000, 500, 0, infiniteRate: 0.5);
        var context = new QueryContext(Harness.Options(7));
        var sink = new RecordingSink<Ev>(context);
        var sut = new ClipLifetimeOperator<Ev, int>(sink, context, ColumnKernel.Compile<Ev, int>(s_key), s_key.ToString());
        RandomEvents.Source(input).Connect(sut, context);
        new QueryRunner(context).Run();

        Assert.True(sink.Completed);
        Assert.Equal(input.Length, sink.Events.Count);
        Assert.Empty(sut.CaptureState().Held);
        Assert.Equal(0, sut.PendingKeyCount);
        Assert.Equal(0, context.OutstandingBatches());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    public void ClipLifetime_StateCapturedMidRunAndRestored_FinishesLikeAnUninterruptedRun(int batchSize)
    {
        var input = RandomEvents.Generate(batchSize, 12_000, 300, -1_000_000_000_000_000, maxDuration: 2_000, infiniteRate: 0.3);
        int cut = 6_000;
        while (input[cut].Time == input[cut - 1].Time)
        {
            cut++;
        }

        var first = new QueryContext(Harness.Options(batchSize));
        var firstSink = new RecordingSink<Ev>(first);
        var before = CreateOperator(firstSink, first);
        var firstHalf = new ManualStream<Ev>();
        firstHalf.Connect(before, first);
        firstHalf.Push([.. input[..cut].Select(x => (x.Time, x.End, x))]);
        firstHalf.Watermark(input[cut].Time);
        var state = before.CaptureState();
        Assert.NotEmpty(state.Held);

        var second = new QueryContext(Harness.Options(batchSize));
        var secondSink = new RecordingSink<Ev>(second);
        var after = CreateOperator(secondSink, second);
        after.RestoreState(state with { Held = [.. state.Held] });
        var secondHalf = new ManualStream<Ev>();
        secondHalf.Connect(after, second);
        secondHalf.Push([.. input[cut..].Select(x => (x.Time, x.End, x))]);
        secondHalf.Complete();

        Assert.Equal(Oracle(input), firstSink.Events.Concat(secondSink.Events));
        Assert.Null(firstSink.Violation);
        Assert.Null(secondSink.Violation);
        Assert.True(secondSink.Watermarks[0] >= firstSink.Watermarks[^1]);
        Assert.Equal(0, first.OutstandingBatches() + second.OutstandingBatches());
    }

    private static ClipLifetimeOperator<Ev, int> CreateOperator(RecordingSink<Ev> sink, QueryContext context) =>
        new(sink, context, ColumnKernel.Compile<Ev, int>(s_key), s_key.ToString());

    [Fact]
    public void ClipLifetime_WatermarkPassesEveryEnd_FreesEveryKey()
    {
        var context = new QueryContext(Harness.Options());
        var sink = new RecordingSink<int>(context);
        var source = new ManualStream<int>();
        var sut = new ClipLifetimeOperator<int, int>(sink, context, ColumnKernel.Compile<int, int>((Expression<Func<int, int>>)(x => x)), "x => x");
        source.Connect(sut, context);

        source.Push([.. Enumerable.Range(0, 3000).Select(i => ((long)i, (long)i + 5, i))]);
        Assert.Equal(3000, sut.PendingKeyCount);
        source.Watermark(3003);
        Assert.Equal(1, sut.PendingKeyCount);
        Assert.Equal(1, sut.HeldCount);
        Assert.Equal(2999, sink.Events.Count);
    }

    [Fact]
    public void ClipLifetime_NullKeys_ClipEachOtherAsOneKey()
    {
        string?[] input = [null, "a", null, "a"];
        var source = Harness.Source(input.Select((k, i) => (Key: k, Time: (long)i * 10)).ToArray(), x => x.Time, end: x => long.MaxValue);
        var plan = new ClipLifetimeStream<(string? Key, long Time), string>(source, (Expression<Func<(string? Key, long Time), string?>>)(x => x.Key));
        var output = Harness.Run(plan);
        Assert.Equal([(0L, 20L), (10L, 30L), (20L, long.MaxValue), (30L, long.MaxValue)], output.Events.Select(e => (e.Start, e.End)));
    }

    [Fact]
    public void ClipLifetime_KeySelectorThrows_ForwardsErrorNamingTheExpression()
    {
        var source = Harness.Source(Enumerable.Range(0, 100).ToArray(), x => (long)x);
        var plan = new ClipLifetimeStream<int, int>(source, (Expression<Func<int, int>>)(x => 10 / (x - 50)));
        var output = Harness.Run(plan, expectError: true);
        var error = Assert.IsType<QueryExecutionException>(output.Error);
        Assert.Equal("ClipLifetime", error.Operator);
        Assert.Contains("(x - 50)", error.Message, StringComparison.Ordinal);
        Assert.IsType<DivideByZeroException>(error.InnerException);
    }
}
