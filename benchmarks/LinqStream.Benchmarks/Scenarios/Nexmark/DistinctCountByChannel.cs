using System.Reactive.Linq;
using BenchmarkDotNet.Attributes;
using LinqStream.Benchmarks.Infrastructure;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Benchmarks.Scenarios.Nexmark;

/// <summary>A distinct-count result: one channel's bids, distinct bidders and distinct auctions in one window.</summary>
public readonly record struct ChannelStats(string Channel, int Bids, int Bidders, int Auctions, long WindowStart);

/// <summary>Distinct-count shape: per channel and 10 s tumbling window, the bids and the distinct bidders and auctions (NEXMark q16's shape).</summary>
/// <remarks>
/// <para>LinqStream: <c>g.Count()</c> and two <c>g.Select(f).Distinct().Count()</c>, all incremental (a set per group for each distinct count).</para>
/// <para>
/// Rx.NET: <c>Window(10 s)</c> on a virtual-time scheduler driven by event time, <c>GroupBy</c> channel, and <c>Aggregate</c> into a
/// count and two hash sets per group.
/// </para>
/// <para>Hand-written: the same count and sets per channel in a dictionary, emitted when the window ends.</para>
/// </remarks>
[MemoryDiagnoser]
public class DistinctCountByChannel : NexmarkQuery<ChannelStats>
{
    public static readonly TimeSpan Size = TimeSpan.FromSeconds(10);

    public override string Name => "distinct bidders and auctions per channel";

    [Benchmark(Baseline = true, OperationsPerInvoke = Events)]
    public long RxNet() => CountRx();

    [Benchmark(OperationsPerInvoke = Events)]
    public long LinqStreamQuery() => CountLinqStream();

    [Benchmark(OperationsPerInvoke = Events)]
    public long HandWrittenLoop() => CountHandWritten();

    public override IQStream<ChannelStats> LinqStream(NexmarkInput input) =>
        from b in NexmarkStreams.Bids(NexmarkStreams.Events(input)).TumblingWindow(Size)
        group b by b.Channel into g
        select new ChannelStats(
            g.Key,
            g.Count(),
            g.Select(b => b.Bidder).Distinct().Count(),
            g.Select(b => b.Auction).Distinct().Count(),
            g.Window.StartTicks);

    public override void Rx(NexmarkInput input, IObserver<ChannelStats> sink) =>
        RxEventTime.Replay(
            input.Events,
            e => e.DateTime.Ticks,
            RxEventTime.AlignedStart(input.Events[0].DateTime.Ticks, Size, Size),
            (events, scheduler) => events
                .Where(e => e.Kind == NexmarkEventKind.Bid)
                .Select(e => e.Bid!)
                .Window(Size, scheduler)
                .SelectMany(window =>
                {
                    long start = scheduler.Now.UtcTicks;
                    return window
                        .GroupBy(b => b.Channel)
                        .SelectMany(g => g
                            .Aggregate(new ChannelAccumulator(), (acc, b) => acc.Add(b))
                            .Select(acc => acc.Result(g.Key, start)));
                }),
            sink);

    public override void HandWritten(NexmarkInput input, IObserver<ChannelStats> sink)
    {
        var channels = new Dictionary<string, ChannelAccumulator>();
        long windowEnd = long.MinValue;
        foreach (var e in input.Events)
        {
            if (e.Kind != NexmarkEventKind.Bid)
            {
                continue;
            }

            long t = e.DateTime.Ticks;
            if (t >= windowEnd)
            {
                Emit();
                windowEnd = EventTime.WindowStart(t, Size) + Size.Ticks;
            }

            var b = e.Bid!;
            if (!channels.TryGetValue(b.Channel, out var acc))
            {
                channels[b.Channel] = acc = new ChannelAccumulator();
            }

            acc.Add(b);
        }

        Emit();
        sink.OnCompleted();

        void Emit()
        {
            foreach (var (channel, acc) in channels)
            {
                sink.OnNext(acc.Result(channel, windowEnd - Size.Ticks));
            }

            channels.Clear();
        }
    }

    public override IEnumerable<ChannelStats> Model(NexmarkInput input) =>
        from b in input.Bids
        group b by (Start: EventTime.WindowStart(b.DateTime.Ticks, Size), b.Channel) into g
        select new ChannelStats(g.Key.Channel, g.Count(), g.Select(b => b.Bidder).Distinct().Count(), g.Select(b => b.Auction).Distinct().Count(), g.Key.Start);

    private sealed class ChannelAccumulator
    {
        private readonly HashSet<long> _bidders = [];
        private readonly HashSet<long> _auctions = [];
        private int _bids;

        public ChannelAccumulator Add(Bid b)
        {
            _bids++;
            _bidders.Add(b.Bidder);
            _auctions.Add(b.Auction);
            return this;
        }

        public ChannelStats Result(string channel, long start) => new(channel, _bids, _bidders.Count, _auctions.Count, start);
    }
}
