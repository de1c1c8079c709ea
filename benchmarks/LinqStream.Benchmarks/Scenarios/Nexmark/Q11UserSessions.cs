using System.Reactive.Linq;
using BenchmarkDotNet.Attributes;
using LinqStream.Benchmarks.Infrastructure;
using LinqStream.Testing;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Benchmarks.Scenarios.Nexmark;

/// <summary>A q11 result: one bidder's session and how many bids it holds.</summary>
public readonly record struct BidderSession(long Bidder, int Bids, long Start, long End);

/// <summary>NEXMark q11, user sessions: per bidder, the bids of each session that ends after 10 s without a bid.</summary>
/// <remarks>
/// <para>Flink SQL: <c>SELECT bidder, COUNT(*), SESSION_START(...), SESSION_END(...) FROM bid GROUP BY bidder, SESSION(dateTime, INTERVAL '10' SECOND)</c>.</para>
/// <para>
/// Rx.NET: <c>GroupByUntil(bidder, g =&gt; g.Throttle(10 s))</c> on a virtual-time scheduler driven by event time — a bidder's group
/// closes when 10 s of event time pass without a bid, which is a session — then <c>Aggregate</c> counts it.
/// </para>
/// <para>
/// Hand-written: the open session per bidder in a dictionary, and a queue of (bidder, time) in arrival order; a session is closed
/// when the queue's head is its latest bid and the gap has passed (stale heads are skipped), so each event costs O(1).
/// </para>
/// </remarks>
[MemoryDiagnoser]
public class Q11UserSessions : NexmarkQuery<BidderSession>
{
    public static readonly TimeSpan Gap = TimeSpan.FromSeconds(10);

    public override string Name => "q11 user sessions";

    [Benchmark(Baseline = true, OperationsPerInvoke = Events)]
    public long RxNet() => CountRx();

    [Benchmark(OperationsPerInvoke = Events)]
    public long LinqStreamQuery() => CountLinqStream();

    [Benchmark(OperationsPerInvoke = Events)]
    public long HandWrittenLoop() => CountHandWritten();

    public override IQStream<BidderSession> LinqStream(NexmarkInput input) =>
        from b in NexmarkStreams.Bids(NexmarkStreams.Events(input)).SessionWindow(Gap)
        group b by b.Bidder into g
        select new BidderSession(g.Key, g.Count(), g.Window.StartTicks, g.Window.EndTicks);

    public override void Rx(NexmarkInput input, IObserver<BidderSession> sink) =>
        RxEventTime.Replay(
            input.Events,
            e => e.DateTime.Ticks,
            input.Events[0].DateTime.Ticks,
            (events, scheduler) => events
                .Where(e => e.Kind == NexmarkEventKind.Bid)
                .Select(e => e.Bid!)
                .GroupByUntil(b => b.Bidder, g => g.Throttle(Gap, scheduler))
                .SelectMany(g => g
                    .Aggregate((Bids: 0, First: long.MaxValue, Last: long.MinValue), (s, b) => (s.Bids + 1, Math.Min(s.First, b.DateTime.Ticks), b.DateTime.Ticks))
                    .Select(s => new BidderSession(g.Key, s.Bids, s.First, s.Last + Gap.Ticks))),
            sink);

    public override void HandWritten(NexmarkInput input, IObserver<BidderSession> sink)
    {
        var open = new Dictionary<long, (int Bids, long First, long Last)>();
        var arrivals = new Queue<(long Bidder, long Time)>();
        long gap = Gap.Ticks;
        foreach (var e in input.Events)
        {
            if (e.Kind != NexmarkEventKind.Bid)
            {
                continue;
            }

            long t = e.DateTime.Ticks;
            CloseUntil(t);
            long bidder = e.Bid!.Bidder;
            open[bidder] = open.TryGetValue(bidder, out var s) ? (s.Bids + 1, s.First, t) : (1, t, t);
            arrivals.Enqueue((bidder, t));
        }

        CloseUntil(long.MaxValue);
        sink.OnCompleted();

        void CloseUntil(long now)
        {
            while (arrivals.TryPeek(out var head) && (now == long.MaxValue || head.Time + gap <= now))
            {
                arrivals.Dequeue();
                if (open.TryGetValue(head.Bidder, out var s) && s.Last == head.Time)
                {
                    open.Remove(head.Bidder);
                    sink.OnNext(new BidderSession(head.Bidder, s.Bids, s.First, s.Last + gap));
                }
            }
        }
    }

    public override IEnumerable<BidderSession> Model(NexmarkInput input) =>
        ReferenceWindows.Sessions(input.Bids.Select(b => (b.DateTime.Ticks, b)), Gap.Ticks, 0, b => b.Bidder, g => g.Count())
            .Select(s => new BidderSession(s.Key, s.Result, s.Start, s.End));
}
