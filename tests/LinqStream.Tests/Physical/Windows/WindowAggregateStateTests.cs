using System.Linq.Expressions;
using LinqStream.Physical.Kernels;
using LinqStream.Physical.Windows;
using LinqStream.Physical.Windows.Session;
using LinqStream.Runtime;
using LinqStream.Runtime.Egress;
using LinqStream.Temporal;
using LinqStream.Tests.Infrastructure;

namespace LinqStream.Tests.Physical.Windows;

public sealed class WindowAggregateStateTests
{
    private static readonly Expression<Func<Reading, int>> Key = r => r.Key;

    private static readonly Expression<Func<IWindowGroup<int, Reading>, string>> Selector = g =>
        g.Key + ":" + g.Count() + ":" + g.Sum(r => r.Value) + ":" + g.Average(r => (double)r.Value) + ":" + g.Max(r => r.Tag)
        + ":" + g.Select(r => r.Tag).Distinct().Count() + ":" + string.Join(",", g.OrderByDescending(r => r.Value).Take(2).Select(r => r.Value).ToArray());

    private static (FixedWindowAggregateOperator<Reading, int, string> Op, RecordingSink<string> Sink, QueryContext Context) Create()
    {
        var context = new QueryContext(new QueryOptions { BatchSize = 64 });
        var sink = new RecordingSink<string>(context);
        var plan = AggregatePlans.Plan<Reading, int, string>(Selector);
        var op = new FixedWindowAggregateOperator<Reading, int, string>(sink, context, WindowSpec.Hopping(300, 100), ColumnKernel.Compile<Reading, int>(Key), plan, "test");
        return (op, sink, context);
    }

    /// <summary>Feeds <paramref name="events"/> in batches of 64, each followed by a watermark at its last event (also used by <see cref="WindowAggregateMaximumTests"/>).</summary>
    internal static void Feed(IStreamObserver<Reading> op, QueryContext context, IEnumerable<Reading> events)
    {
        var pool = context.Pool<Reading>();
        foreach (var chunk in events.Chunk(64))
        {
            var batch = pool.Rent();
            foreach (var r in chunk)
            {
                batch.Add(r.Time, r.Time + 1, r);
            }

            op.OnBatch(batch);
            op.OnWatermark(chunk[^1].Time);
        }
    }

    [Fact]
    public void CaptureRestore_MidStream_ContinuesWithExactlyTheSameOutput()
    {
        var random = new Random(7);
        var input = Enumerable.Range(0, 5000).Select(i => new Reading(Ticks.UnixEpoch + i * 3L, random.Next(20), random.Next(100), "t" + random.Next(4))).ToArray();

        var (whole, wholeSink, wholeContext) = Create();
        Feed(whole, wholeContext, input);
        whole.OnWatermark(Ticks.Infinity);

        var (first, firstSink, firstContext) = Create();
        Feed(first, firstContext, input.Take(2500));
        var state = first.CaptureState();
        Assert.NotEmpty(state.Groups);

        var (second, secondSink, secondContext) = Create();
        second.RestoreState(state);
        Feed(second, secondContext, input.Skip(2500));
        second.OnWatermark(Ticks.Infinity);

        Assert.Equal(wholeSink.Events, [.. firstSink.Events, .. secondSink.Events]);
        Assert.Empty(second.CaptureState().Groups);
        Assert.Equal(0, second.LiveGroups);
        Assert.Equal(0, secondContext.OutstandingBatches());
    }

    [Fact]
    public void Session_CaptureRestore_MidStream_ContinuesWithExactlyTheSameOutput()
    {
        var random = new Random(11);
        long t = Ticks.UnixEpoch;
        var input = Enumerable.Range(0, 4000).Select(i => new Reading(t += random.Next(0, 4) == 0 ? random.Next(50, 300) : random.Next(0, 20), random.Next(6), random.Next(100), "x")).ToArray();
        Expression<Func<IWindowGroup<int, Reading>, string>> selector = g => g.Key + ":" + g.Count() + ":" + g.Sum(r => r.Value) + "@" + g.Window.Start.Ticks + "-" + g.Window.End.Ticks;

        (SessionWindowAggregateOperator<Reading, int, string>, RecordingSink<string>, QueryContext) Make()
        {
            var context = new QueryContext(new QueryOptions { BatchSize = 64 });
            var sink = new RecordingSink<string>(context);
            var plan = AggregatePlans.Plan<Reading, int, string>(selector);
            return (new SessionWindowAggregateOperator<Reading, int, string>(sink, context, WindowSpec.Session(100, 0), ColumnKernel.Compile<Reading, int>(Key), plan, "test"), sink, context);
        }

        var (whole, wholeSink, wholeContext) = Make();
        Feed(whole, wholeContext, input);
        whole.OnWatermark(Ticks.Infinity);

        var (first, firstSink, firstContext) = Make();
        Feed(first, firstContext, input.Take(2000));
        var state = first.CaptureState();
        Assert.NotEmpty(state.Sessions);

        var (second, secondSink, secondContext) = Make();
        second.RestoreState(state);
        Feed(second, secondContext, input.Skip(2000));
        second.OnWatermark(Ticks.Infinity);

        Assert.Equal(wholeSink.Events, [.. firstSink.Events, .. secondSink.Events]);
        Assert.Empty(second.CaptureState().Sessions);
    }
}
