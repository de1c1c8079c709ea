using System.Reactive.Linq;
using BenchmarkDotNet.Attributes;
using LinqStream.Benchmarks.Infrastructure;

namespace LinqStream.Benchmarks.Scenarios.Nexmark;

/// <summary>A q4 result: the average winning price of the auctions of one category that closed in one window.</summary>
public readonly record struct CategoryPrice(long Category, int Auctions, double AveragePrice, long WindowStart);

/// <summary>NEXMark q4, average price for a category, in its bounded form: per category, the average winning price of the auctions that closed in each 10 s window.</summary>
/// <remarks>
/// <para>
/// Flink's q4 averages the winning prices of all auctions ever closed (an updating result over unbounded join state). Here the
/// winners are <see cref="WinningBids"/> (q9's bounded form), and the average is per 10 s tumbling window of their close time.
/// </para>
/// <para>
/// LinqStream: a window of the winners (each lives the last tick of its auction) grouped by category, with <c>Count</c> and <c>Average</c>.
/// Rx.NET: the winners grouped by (window, category) with <c>GroupByUntil</c>, each group ending one tick after its window on the
/// virtual-time scheduler (so that an auction closing exactly at the window's end is in), then <c>Aggregate</c> to a sum and a count.
/// Hand-written: the winners of the hand-written q9, in close order, summed per category until the window changes.
/// </para>
/// </remarks>
[MemoryDiagnoser]
public class Q4AveragePriceByCategory : NexmarkQuery<CategoryPrice>
{
    public static readonly TimeSpan Size = TimeSpan.FromSeconds(10);

    protected override bool HasJoinPlan => true;

    public override string Name => "q4 average price per category";

    [Benchmark(Baseline = true, OperationsPerInvoke = Events)]
    public long RxNet() => CountRx();

    [Benchmark(OperationsPerInvoke = Events)]
    public long LinqStreamQuery() => CountLinqStream();

    [Benchmark(OperationsPerInvoke = Events)]
    public long HandWrittenLoop() => CountHandWritten();

    /// <summary>The same LinqStream query with the plan rewrites off: the closes joined with every bid of the last 20 s, as before issue #19.</summary>
    [Benchmark(OperationsPerInvoke = Events)]
    public long LinqStreamJoinPlan() => CountLinqStream(Input.With(Input.Options with { RewriteSubPlans = false }));

    public override IQStream<CategoryPrice> LinqStream(NexmarkInput input) =>
        from w in WinningBids.LinqStream(input).TumblingWindow(Size)
        group w by w.Category into g
        select new CategoryPrice(g.Key, g.Count(), g.Average(w => w.Price), g.Window.StartTicks);

    public override void Rx(NexmarkInput input, IObserver<CategoryPrice> sink) =>
        RxEventTime.Replay(
            input.Events,
            e => e.DateTime.Ticks,
            input.Events[0].DateTime.Ticks,
            (events, scheduler) => WinningBids.Rx(events, scheduler)
                .GroupByUntil(
                    w => (Start: EventTime.WindowStart(w.Expires - 1, Size), w.Category),
                    g => Observable.Timer(new DateTimeOffset(g.Key.Start + Size.Ticks + 1, TimeSpan.Zero), scheduler))
                .SelectMany(g => g
                    .Aggregate((Count: 0, Sum: 0L), (s, w) => (s.Count + 1, s.Sum + w.Price))
                    .Select(s => new CategoryPrice(g.Key.Category, s.Count, (double)s.Sum / s.Count, g.Key.Start))),
            sink);

    public override void HandWritten(NexmarkInput input, IObserver<CategoryPrice> sink)
    {
        var categories = new SortedDictionary<long, (int Count, long Sum)>();
        long window = long.MinValue;
        WinningBids.HandWritten(input, w =>
        {
            long start = EventTime.WindowStart(w.Expires - 1, Size);
            if (start != window)
            {
                Emit();
                window = start;
            }

            categories[w.Category] = categories.TryGetValue(w.Category, out var s) ? (s.Count + 1, s.Sum + w.Price) : (1, w.Price);
        });
        Emit();
        sink.OnCompleted();

        void Emit()
        {
            foreach (var (category, s) in categories)
            {
                sink.OnNext(new CategoryPrice(category, s.Count, (double)s.Sum / s.Count, window));
            }

            categories.Clear();
        }
    }

    public override IEnumerable<CategoryPrice> Model(NexmarkInput input) =>
        from w in WinningBids.Model(input)
        group w by (Start: EventTime.WindowStart(w.Expires - 1, Size), w.Category) into g
        select new CategoryPrice(g.Key.Category, g.Count(), g.Average(w => w.Price), g.Key.Start);
}
