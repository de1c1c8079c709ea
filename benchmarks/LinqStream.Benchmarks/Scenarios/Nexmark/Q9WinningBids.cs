using BenchmarkDotNet.Attributes;
using LinqStream.Benchmarks.Infrastructure;

namespace LinqStream.Benchmarks.Scenarios.Nexmark;

/// <summary>NEXMark q9, winning bids, in its bounded form: each auction's best bid at or above its reserve, emitted when it closes.</summary>
/// <remarks>
/// Flink's q9 is a regular join of auctions and bids filtered on <c>b.dateTime BETWEEN a.dateTime AND a.expires</c> and a
/// <c>ROW_NUMBER()</c> per auction, whose state is never freed; here the auction's lifetime bounds it. How each implementation
/// works is on <see cref="WinningBids"/>.
/// </remarks>
[MemoryDiagnoser]
public class Q9WinningBids : NexmarkQuery<AuctionBid>
{
    protected override bool HasJoinPlan => true;

    public override string Name => "q9 winning bids";

    [Benchmark(Baseline = true, OperationsPerInvoke = Events)]
    public long RxNet() => CountRx();

    [Benchmark(OperationsPerInvoke = Events)]
    public long LinqStreamQuery() => CountLinqStream();

    [Benchmark(OperationsPerInvoke = Events)]
    public long HandWrittenLoop() => CountHandWritten();

    /// <summary>The same LinqStream query with the plan rewrites off: the closes joined with every bid of the last 20 s, as before issue #19.</summary>
    [Benchmark(OperationsPerInvoke = Events)]
    public long LinqStreamJoinPlan() => CountLinqStream(Input.With(Input.Options with { RewriteSubPlans = false }));

    public override IQStream<AuctionBid> LinqStream(NexmarkInput input) => WinningBids.LinqStream(input);

    public override void Rx(NexmarkInput input, IObserver<AuctionBid> sink) =>
        RxEventTime.Replay(input.Events, e => e.DateTime.Ticks, input.Events[0].DateTime.Ticks, WinningBids.Rx, sink);

    public override void HandWritten(NexmarkInput input, IObserver<AuctionBid> sink)
    {
        WinningBids.HandWritten(input, sink.OnNext);
        sink.OnCompleted();
    }

    public override IEnumerable<AuctionBid> Model(NexmarkInput input) => WinningBids.Model(input);
}
