using System.Reactive.Linq;
using BenchmarkDotNet.Attributes;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Benchmarks.Scenarios.Nexmark;

/// <summary>A q2 result: the auction and price of a selected bid.</summary>
public readonly record struct AuctionPrice(long Auction, long Price);

/// <summary>NEXMark q2, selection: the bids on every 123rd auction.</summary>
/// <remarks>Flink SQL: <c>SELECT auction, price FROM bid WHERE MOD(auction, 123) = 0</c>. Rx.NET: <c>Where</c> + <c>Select</c> over <c>ToObservable()</c>.</remarks>
[MemoryDiagnoser]
public class Q2Selection : NexmarkQuery<AuctionPrice>
{
    public override string Name => "q2 selection";

    [Benchmark(Baseline = true, OperationsPerInvoke = Events)]
    public long RxNet() => CountRx();

    [Benchmark(OperationsPerInvoke = Events)]
    public long LinqStreamQuery() => CountLinqStream();

    [Benchmark(OperationsPerInvoke = Events)]
    public long HandWrittenLoop() => CountHandWritten();

    public override IQStream<AuctionPrice> LinqStream(NexmarkInput input) =>
        from b in NexmarkStreams.Bids(NexmarkStreams.Events(input))
        where b.Auction % 123 == 0
        select new AuctionPrice(b.Auction, b.Price);

    public override void Rx(NexmarkInput input, IObserver<AuctionPrice> sink) =>
        input.Events.ToObservable()
            .Where(e => e.Kind == NexmarkEventKind.Bid)
            .Select(e => e.Bid!)
            .Where(b => b.Auction % 123 == 0)
            .Select(b => new AuctionPrice(b.Auction, b.Price))
            .Subscribe(sink);

    public override void HandWritten(NexmarkInput input, IObserver<AuctionPrice> sink)
    {
        foreach (var e in input.Events)
        {
            if (e.Kind == NexmarkEventKind.Bid && e.Bid!.Auction % 123 == 0)
            {
                sink.OnNext(new AuctionPrice(e.Bid.Auction, e.Bid.Price));
            }
        }

        sink.OnCompleted();
    }

    public override IEnumerable<AuctionPrice> Model(NexmarkInput input) =>
        input.Bids.Where(b => b.Auction % 123 == 0).Select(b => new AuctionPrice(b.Auction, b.Price));
}
