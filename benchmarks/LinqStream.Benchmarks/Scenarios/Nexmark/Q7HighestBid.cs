using System.Reactive.Linq;
using BenchmarkDotNet.Attributes;
using LinqStream.Benchmarks.Infrastructure;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Benchmarks.Scenarios.Nexmark;

/// <summary>The highest price of one tumbling window (an intermediate result of q7).</summary>
public readonly record struct WindowPrice(long WindowStart, long MaxPrice);

/// <summary>A q7 result: a bid whose price is the highest of its window.</summary>
public readonly record struct HighestBid(long Auction, long Bidder, long Price, DateTime DateTime);

/// <summary>NEXMark q7, highest bid: the bids with the highest price of each 10 s tumbling window.</summary>
/// <remarks>
/// <para>
/// As Flink's q7: the maximum price per window, joined back to the window's bids on the price. In LinqStream the bids of a
/// tumbling window live for the window, and so does the window's maximum, so the join matches within the window; the join keeps
/// the window's bids until it closes (as Flink's does).
/// </para>
/// <para>
/// Rx.NET: <c>Window(10 s)</c> on a virtual-time scheduler driven by event time; each window's bids are gathered with <c>ToList</c>
/// and the ones at the maximum are emitted when it closes (the same buffering as the join).
/// </para>
/// <para>Hand-written: per window, the maximum so far and the bids at it (the physical limit: no buffering of the window).</para>
/// </remarks>
[MemoryDiagnoser]
public class Q7HighestBid : NexmarkQuery<HighestBid>
{
    public static readonly TimeSpan Size = TimeSpan.FromSeconds(10);

    protected override bool HasJoinPlan => true;

    public override string Name => "q7 highest bid";

    [Benchmark(Baseline = true, OperationsPerInvoke = Events)]
    public long RxNet() => CountRx();

    [Benchmark(OperationsPerInvoke = Events)]
    public long LinqStreamQuery() => CountLinqStream();

    [Benchmark(OperationsPerInvoke = Events)]
    public long HandWrittenLoop() => CountHandWritten();

    /// <summary>The same LinqStream query with the plan rewrite off: the aggregate joined back to its input, as before issue #19.</summary>
    [Benchmark(OperationsPerInvoke = Events)]
    public long LinqStreamJoinPlan() => CountLinqStream(Input.With(Input.Options with { RewriteSubPlans = false }));

    public override IQStream<HighestBid> LinqStream(NexmarkInput input) => Query(NexmarkStreams.Bids(NexmarkStreams.Events(input)));

    /// <summary>q7 over a stream of bids (also read from Redis in <c>RedisNexmark</c>).</summary>
    public static IQStream<HighestBid> Query(IQStream<Bid> bids)
    {
        var maxima = bids
            .TumblingWindow(Size)
            .Select(w => new WindowPrice(w.Window.StartTicks, w.Max(b => b.Price)));
        return
            from b in bids.TumblingWindow(Size)
            join m in maxima on b.Price equals m.MaxPrice
            select new HighestBid(b.Auction, b.Bidder, b.Price, b.DateTime);
    }

    public override void Rx(NexmarkInput input, IObserver<HighestBid> sink) =>
        RxEventTime.Replay(
            input.Events,
            e => e.DateTime.Ticks,
            RxEventTime.AlignedStart(input.Events[0].DateTime.Ticks, Size, Size),
            (events, scheduler) => events
                .Where(e => e.Kind == NexmarkEventKind.Bid)
                .Select(e => e.Bid!)
                .Window(Size, scheduler)
                .SelectMany(window => window
                    .ToList()
                    .SelectMany(bids =>
                    {
                        long max = bids.Count == 0 ? 0 : bids.Max(b => b.Price);
                        return bids.Where(b => b.Price == max).Select(b => new HighestBid(b.Auction, b.Bidder, b.Price, b.DateTime));
                    })),
            sink);

    public override void HandWritten(NexmarkInput input, IObserver<HighestBid> sink)
    {
        var best = new List<Bid>();
        long windowEnd = long.MinValue;
        long max = long.MinValue;
        foreach (var e in input.Events)
        {
            if (e.Kind != NexmarkEventKind.Bid)
            {
                continue;
            }

            var b = e.Bid!;
            long t = b.DateTime.Ticks;
            if (t >= windowEnd)
            {
                Emit();
                windowEnd = EventTime.WindowStart(t, Size) + Size.Ticks;
                max = long.MinValue;
            }

            if (b.Price > max)
            {
                max = b.Price;
                best.Clear();
            }

            if (b.Price == max)
            {
                best.Add(b);
            }
        }

        Emit();
        sink.OnCompleted();

        void Emit()
        {
            foreach (var b in best)
            {
                sink.OnNext(new HighestBid(b.Auction, b.Bidder, b.Price, b.DateTime));
            }

            best.Clear();
        }
    }

    public override IEnumerable<HighestBid> Model(NexmarkInput input) =>
        from b in input.Bids
        group b by EventTime.WindowStart(b.DateTime.Ticks, Size) into window
        let max = window.Max(b => b.Price)
        from b in window
        where b.Price == max
        select new HighestBid(b.Auction, b.Bidder, b.Price, b.DateTime);
}
