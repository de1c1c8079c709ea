using System.Reactive.Linq;
using BenchmarkDotNet.Attributes;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Benchmarks.Scenarios.Nexmark;

/// <summary>NEXMark q0, pass-through: every bid, unchanged. Measures the cost of moving events through the engine.</summary>
/// <remarks>
/// Flink SQL: <c>SELECT auction, bidder, price, dateTime, extra FROM bid</c> (every column of a bid, so here the bid itself).
/// Rx.NET: <c>Where</c> on the event kind and <c>Select</c> of the bid over <c>ToObservable()</c> of the array.
/// </remarks>
[MemoryDiagnoser]
public class Q0PassThrough : NexmarkQuery<Bid>
{
    public override string Name => "q0 pass-through";

    [Benchmark(Baseline = true, OperationsPerInvoke = Events)]
    public long RxNet() => CountRx();

    [Benchmark(OperationsPerInvoke = Events)]
    public long LinqStreamQuery() => CountLinqStream();

    [Benchmark(OperationsPerInvoke = Events)]
    public long HandWrittenLoop() => CountHandWritten();

    public override IQStream<Bid> LinqStream(NexmarkInput input) =>
        from b in NexmarkStreams.Bids(NexmarkStreams.Events(input))
        select b;

    public override void Rx(NexmarkInput input, IObserver<Bid> sink) =>
        input.Events.ToObservable()
            .Where(e => e.Kind == NexmarkEventKind.Bid)
            .Select(e => e.Bid!)
            .Subscribe(sink);

    public override void HandWritten(NexmarkInput input, IObserver<Bid> sink)
    {
        foreach (var e in input.Events)
        {
            if (e.Kind == NexmarkEventKind.Bid)
            {
                sink.OnNext(e.Bid!);
            }
        }

        sink.OnCompleted();
    }

    public override IEnumerable<Bid> Model(NexmarkInput input) => input.Bids;
}
