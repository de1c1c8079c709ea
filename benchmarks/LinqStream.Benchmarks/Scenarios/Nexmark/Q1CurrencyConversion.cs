using System.Reactive.Linq;
using BenchmarkDotNet.Attributes;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Benchmarks.Scenarios.Nexmark;

/// <summary>A q1 result: a bid with its price in euros.</summary>
public readonly record struct EuroBid(long Auction, long Bidder, long PriceEuroCents, DateTime DateTime);

/// <summary>NEXMark q1, currency conversion: every bid with its price converted from dollars to euros.</summary>
/// <remarks>
/// Flink SQL: <c>SELECT auction, bidder, 0.908 * price, dateTime FROM bid</c>; here in whole cents at Beam's rate (89/100), so that
/// every implementation computes exactly the same number. Rx.NET: <c>Where</c> + <c>Select</c> over <c>ToObservable()</c>.
/// </remarks>
[MemoryDiagnoser]
public class Q1CurrencyConversion : NexmarkQuery<EuroBid>
{
    public override string Name => "q1 currency conversion";

    [Benchmark(Baseline = true, OperationsPerInvoke = Events)]
    public long RxNet() => CountRx();

    [Benchmark(OperationsPerInvoke = Events)]
    public long LinqStreamQuery() => CountLinqStream();

    [Benchmark(OperationsPerInvoke = Events)]
    public long HandWrittenLoop() => CountHandWritten();

    public override IQStream<EuroBid> LinqStream(NexmarkInput input) =>
        from b in NexmarkStreams.Bids(NexmarkStreams.Events(input))
        select new EuroBid(b.Auction, b.Bidder, b.Price * 89 / 100, b.DateTime);

    public override void Rx(NexmarkInput input, IObserver<EuroBid> sink) =>
        input.Events.ToObservable()
            .Where(e => e.Kind == NexmarkEventKind.Bid)
            .Select(e => e.Bid!)
            .Select(b => new EuroBid(b.Auction, b.Bidder, b.Price * 89 / 100, b.DateTime))
            .Subscribe(sink);

    public override void HandWritten(NexmarkInput input, IObserver<EuroBid> sink)
    {
        foreach (var e in input.Events)
        {
            if (e.Kind == NexmarkEventKind.Bid)
            {
                var b = e.Bid!;
                sink.OnNext(new EuroBid(b.Auction, b.Bidder, b.Price * 89 / 100, b.DateTime));
            }
        }

        sink.OnCompleted();
    }

    public override IEnumerable<EuroBid> Model(NexmarkInput input) =>
        input.Bids.Select(b => new EuroBid(b.Auction, b.Bidder, b.Price * 89 / 100, b.DateTime));
}
