using System.Reactive.Linq;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using LinqStream.Benchmarks.Infrastructure;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Benchmarks.Scenarios.Nexmark;

/// <summary>Bids per auction in one hopping window (an intermediate result of q5).</summary>
public readonly record struct AuctionCount(long Auction, int Bids, long WindowStart, long WindowEnd);

/// <summary>The largest per-auction count of one window (an intermediate result of q5).</summary>
public readonly record struct WindowMax(long WindowStart, long Max);

/// <summary>A q5 result: an auction with the most bids of a window (ties give several rows).</summary>
public readonly record struct HotItem(long Auction, int Bids, long WindowStart, long WindowEnd);

/// <summary>NEXMark q5, hot items: the auction(s) with the most bids in each hopping window of 10 s every 2 s.</summary>
/// <remarks>
/// <para>
/// As Flink's q5: count per (window, auction), the maximum count per window, and a join of the counts with the maxima on the window.
/// In LinqStream the maxima are a window of windows (a 2 s tumbling window gathers each hopping window's counts, which live
/// <c>[start, end)</c>), and the join matches a window's counts with its maximum because both live from the window's start.
/// </para>
/// <para>
/// Rx.NET: <c>Window(10 s, 2 s)</c> on a virtual-time scheduler driven by event time (see <see cref="RxEventTime"/>); each window is
/// grouped by auction and counted (<c>GroupBy</c> + <c>Count</c>), the counts are gathered with <c>ToList</c> when the window closes,
/// and the ones equal to the maximum are emitted.
/// </para>
/// <para>Hand-written: per-pane (2 s) counts in dictionaries; a window, when it closes, merges its five panes and emits its maximum.</para>
/// </remarks>
[MemoryDiagnoser]
public class Q5HotItems : NexmarkQuery<HotItem>
{
    public static readonly TimeSpan Size = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan Hop = TimeSpan.FromSeconds(2);

    protected override bool HasJoinPlan => true;

    public override string Name => "q5 hot items";

    [Benchmark(Baseline = true, OperationsPerInvoke = Events)]
    public long RxNet() => CountRx();

    [Benchmark(OperationsPerInvoke = Events)]
    public long LinqStreamQuery() => CountLinqStream();

    [Benchmark(OperationsPerInvoke = Events)]
    public long HandWrittenLoop() => CountHandWritten();

    /// <summary>The same LinqStream query with the plan rewrite off: the aggregate joined back to its input, as before issue #19.</summary>
    [Benchmark(OperationsPerInvoke = Events)]
    public long LinqStreamJoinPlan() => CountLinqStream(Input.With(Input.Options with { RewriteSubPlans = false }));

    public override IQStream<HotItem> LinqStream(NexmarkInput input) => Query(NexmarkStreams.Bids(NexmarkStreams.Events(input)));

    /// <summary>q5 over a stream of bids (also read from Redis in <c>RedisNexmark</c>).</summary>
    public static IQStream<HotItem> Query(IQStream<Bid> bids)
    {
        var counts =
            from b in bids.HoppingWindow(Size, Hop)
            group b by b.Auction into g
            select new AuctionCount(g.Key, g.Count(), g.Window.StartTicks, g.Window.EndTicks);
        var maxima = counts
            .TumblingWindow(Hop)
            .Select(w => new WindowMax(w.Window.StartTicks, w.Max(c => c.Bids)));
        return
            from c in counts
            join m in maxima on c.WindowStart equals m.WindowStart
            where c.Bids == m.Max
            select new HotItem(c.Auction, c.Bids, c.WindowStart, c.WindowEnd);
    }

    public override void Rx(NexmarkInput input, IObserver<HotItem> sink) =>
        RxEventTime.Replay(
            input.Events,
            e => e.DateTime.Ticks,
            RxEventTime.AlignedStart(input.Events[0].DateTime.Ticks, Size, Hop),
            (events, scheduler) => events
                .Where(e => e.Kind == NexmarkEventKind.Bid)
                .Select(e => e.Bid!)
                .Window(Size, Hop, scheduler)
                .SelectMany(window =>
                {
                    long start = scheduler.Now.UtcTicks;
                    return window
                        .GroupBy(b => b.Auction)
                        .SelectMany(g => g.Count().Select(n => (Auction: g.Key, Bids: n)))
                        .ToList()
                        .SelectMany(counts =>
                        {
                            int max = counts.Count == 0 ? 0 : counts.Max(c => c.Bids);
                            return counts.Where(c => c.Bids == max).Select(c => new HotItem(c.Auction, c.Bids, start, start + Size.Ticks));
                        });
                }),
            sink);

    public override void HandWritten(NexmarkInput input, IObserver<HotItem> sink)
    {
        long hop = Hop.Ticks;
        int panesPerWindow = (int)(Size.Ticks / hop);
        var panes = new Dictionary<long, Dictionary<long, int>>();
        var merged = new Dictionary<long, int>();
        long nextWindow = long.MinValue; // the first pane of the next window to close
        long lastPane = long.MinValue;
        Dictionary<long, int>? current = null;
        foreach (var e in input.Events)
        {
            if (e.Kind != NexmarkEventKind.Bid)
            {
                continue;
            }

            long pane = (e.DateTime.Ticks - DateTime.UnixEpoch.Ticks) / hop;
            if (nextWindow == long.MinValue)
            {
                nextWindow = pane - panesPerWindow + 1;
            }

            while (nextWindow + panesPerWindow <= pane)
            {
                Close(nextWindow++);
            }

            if (pane != lastPane)
            {
                if (!panes.TryGetValue(pane, out current))
                {
                    panes[pane] = current = [];
                }

                lastPane = pane;
            }

            CollectionsMarshal.GetValueRefOrAddDefault(current!, e.Bid!.Auction, out _)++;
        }

        while (nextWindow != long.MinValue && nextWindow <= lastPane)
        {
            Close(nextWindow++);
        }

        sink.OnCompleted();

        void Close(long firstPane)
        {
            merged.Clear();
            for (long p = firstPane; p < firstPane + panesPerWindow; p++)
            {
                if (panes.TryGetValue(p, out var counts))
                {
                    foreach (var (auction, n) in counts)
                    {
                        CollectionsMarshal.GetValueRefOrAddDefault(merged, auction, out _) += n;
                    }
                }
            }

            panes.Remove(firstPane);
            int max = 0;
            foreach (var n in merged.Values)
            {
                max = Math.Max(max, n);
            }

            long start = DateTime.UnixEpoch.Ticks + (firstPane * hop);
            foreach (var (auction, n) in merged)
            {
                if (n == max)
                {
                    sink.OnNext(new HotItem(auction, n, start, start + Size.Ticks));
                }
            }
        }
    }

    public override IEnumerable<HotItem> Model(NexmarkInput input) =>
        from b in input.Bids
        from start in EventTime.HoppingWindowStarts(b.DateTime.Ticks, Size, Hop)
        group b by (Start: start, b.Auction) into byAuction
        let count = new AuctionCount(byAuction.Key.Auction, byAuction.Count(), byAuction.Key.Start, byAuction.Key.Start + Size.Ticks)
        group count by count.WindowStart into byWindow
        let max = byWindow.Max(c => c.Bids)
        from c in byWindow
        where c.Bids == max
        select new HotItem(c.Auction, c.Bids, c.WindowStart, c.WindowEnd);
}
